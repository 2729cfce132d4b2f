"""A throwaway PostgreSQL server for the tests: initdb into a temporary directory, listening on a unix socket there.

The server runs as an unprivileged user (PostgreSQL refuses root): the current user, or ``nobody`` when the tests
run as root. Found in ``DIALOGUE_PG_BIN`` (a folder; when set, the only one looked at), on ``PATH`` or in
``/usr/lib/postgresql/*/bin``.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Server:
    """A running server: its data directory (its socket is there too) and how to run commands as its user."""

    folder: Path
    prefix: tuple[str, ...]
    bin: Path

    def url(self, database: str = "postgres") -> str:
        """The URL of one database of this server, over its unix socket."""
        return f"postgresql://postgres@/{database}?host={self.folder}"

    def stop(self) -> None:
        """Stop the server at once and remove its files."""
        subprocess.run(
            [*self.prefix, str(self.bin / "pg_ctl"), "stop", "-D", str(self.folder / "data"), "-m", "immediate", "-w"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def find_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    if os.environ.get("DIALOGUE_PG_BIN"):  # when set, the only place looked at
        candidates = [Path(os.environ["DIALOGUE_PG_BIN"])]
        return candidates[0] if (candidates[0] / "initdb").exists() and (candidates[0] / "pg_ctl").exists() else None
    candidates = []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def start(bin: Path, *, durable: bool = False) -> Server:
    """Start a fresh server; raise ``RuntimeError`` with its log if it does not come up.

    ``durable`` keeps fsync on (for benchmarks); commits are still not waited for (synchronous_commit=off),
    which is what SQLite's WAL with synchronous=NORMAL gives the bot.
    """
    folder = Path(tempfile.mkdtemp(prefix="dialogue-pg-"))
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ("runuser", "-u", "nobody", "--")
    data = folder / "data"
    log = folder / "server.log"
    try:
        subprocess.run(
            [
                *prefix,
                str(bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        # Durability is not wanted in a throwaway server: fsync off makes CREATE DATABASE and commits fast.
        options = f"-k {folder} -c listen_addresses='' -c synchronous_commit=off"
        if not durable:
            options += " -c fsync=off -c full_page_writes=off"
        subprocess.run(
            [*prefix, str(bin / "pg_ctl"), "start", "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o", options],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or "") + (log.read_text() if log.exists() else "")
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL from {bin}: {detail}") from error
    server = Server(folder, prefix, bin)
    # Also stopped if the session ends without finishing its fixtures (an interrupt, sys.exit).
    atexit.register(server.stop)
    return server
