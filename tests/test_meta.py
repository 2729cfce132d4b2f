"""Cheap checks on the shape of the code: import directions, command descriptions, the command line."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import discord
import pytest
import simcord
from discord import app_commands

from bot.gateway import OPTIONAL_PERMISSIONS, REQUIRED_PERMISSIONS

REPO = Path(__file__).resolve().parents[1]
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[str]:
    """Every module a file imports, anywhere in it (lazy imports too), as absolute dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                prefix = ".".join(base)
                if node.module:
                    found.append(f"{prefix}.{node.module}" if prefix else node.module)
                else:
                    found += [f"{prefix}.{alias.name}" for alias in node.names]
            else:
                assert node.module is not None
                found.append(node.module)
    return found


def sources(folder: str) -> list[Path]:
    files = sorted((REPO / folder).rglob("*.py"))
    assert files, folder
    return files


def top(name: str) -> str:
    return name.split(".")[0]


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_import_parser_resolves_relative_imports() -> None:
    found = imports(REPO / "bot" / "domain" / "lifecycle.py")
    assert "bot.domain.errors" in found
    assert "bot.domain.models" in found
    assert "datetime" in found


def test_db_never_imports_discord_cogs_or_the_bot_outside_its_domain() -> None:
    bad = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sources("db")
        for name in imports(path)
        if top(name) in {"discord", "cogs", "simcord"} or (top(name) == "bot" and not within(name, "bot.domain"))
    ]
    assert bad == []


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    bad = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sources("bot/domain")
        for name in imports(path)
        if top(name) not in STDLIB and not within(name, "bot.domain")
    ]
    assert bad == []


def test_bot_never_imports_cogs() -> None:
    bad = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sources("bot")
        for name in imports(path)
        if top(name) == "cogs"
    ]
    assert bad == []


def test_cogs_reach_storage_only_through_the_bot() -> None:
    bad = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sources("cogs")
        for name in imports(path)
        if top(name) == "db"
    ]
    assert bad == []


def test_nothing_outside_tests_imports_the_tests_or_simcord_at_module_level() -> None:
    bad = []
    for folder in ("bot", "cogs", "db"):
        for path in sources(folder):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                names = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom) and not node.level
                    else []
                )
                bad += [f"{path.relative_to(REPO)} imports {name}" for name in names if top(name) in {"tests"}]
    assert bad == []


# ----- app commands ----------------------------------------------------------------------------------

PLACEHOLDER = "…"  # what discord.py uses when a command or parameter has no description


async def test_every_app_command_and_parameter_has_a_description(simcord_env: simcord.Env) -> None:
    commands = list(simcord_env.bot.tree.walk_commands())
    names = {command.qualified_name for command in commands}
    # The cogs really loaded: the lifecycle commands are all there.
    assert {
        "dialogue",
        "dialogue create",
        "dialogue open",
        "dialogue close",
        "dialogue extend",
        "dialogue cancel",
        "dialogue status",
        "dialogue list",
    } <= names
    missing: list[str] = []
    for command in commands:
        if not command.description.strip() or command.description == PLACEHOLDER:
            missing.append(f"/{command.qualified_name}")
        if isinstance(command, app_commands.Command):
            for parameter in command.parameters:
                if not parameter.description.strip() or parameter.description == PLACEHOLDER:
                    missing.append(f"/{command.qualified_name} {parameter.name}")
    assert missing == []


async def test_facilitator_commands_default_to_manage_channels(simcord_env: simcord.Env) -> None:
    group = simcord_env.bot.tree.get_command("dialogue")
    assert isinstance(group, app_commands.Group)
    assert group.default_permissions == discord.Permissions(manage_channels=True)
    assert group.guild_only is True


# ----- command line ----------------------------------------------------------------------------------


def run_cli(tmp_path: Path, *args: str, env_changes: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "DISCORD_TOKEN"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env.update(env_changes or {})
    # Run from an empty directory so that no ./config.toml is picked up.
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_invite_url_requests_exactly_the_required_permissions(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "invite-url", "--client-id", "1")
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert "\n" not in url
    parsed = urlparse(url)
    assert (parsed.scheme, parsed.netloc, parsed.path) == ("https", "discord.com", "/oauth2/authorize")
    query = parse_qs(parsed.query)
    assert query["client_id"] == ["1"]
    assert set(query["scope"][0].split()) == {"bot", "applications.commands"}
    value = int(query["permissions"][0])
    flags = discord.Permissions.VALID_FLAGS  # name -> bit; some names are aliases of one bit
    set_bits = {1 << bit for bit in range(value.bit_length()) if value >> bit & 1}
    # Every bit in the URL is one the bot uses, and every permission it uses has its bit.
    assert set_bits == {flags[name] for name in REQUIRED_PERMISSIONS + OPTIONAL_PERMISSIONS}
    assert all(getattr(discord.Permissions(value), name) for name in REQUIRED_PERMISSIONS)
    assert not discord.Permissions(value).administrator


@pytest.mark.parametrize(
    "needed",
    [
        "view_channel",
        "manage_channels",
        "manage_roles",
        "manage_threads",
        "create_public_threads",
        "send_messages",
        "send_messages_in_threads",
        "pin_messages",
        "read_message_history",
    ],
)
def test_required_permissions_cover_what_opening_and_closing_need(needed: str) -> None:
    assert needed in REQUIRED_PERMISSIONS


def test_required_permissions_are_real_permission_names() -> None:
    valid = set(discord.Permissions.VALID_FLAGS)
    assert set(REQUIRED_PERMISSIONS) <= valid
    assert len(set(REQUIRED_PERMISSIONS)) == len(REQUIRED_PERMISSIONS)


def test_run_without_a_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.endswith("\n")
    assert "DISCORD_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_a_blank_token_is_refused_too(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run", env_changes={"DISCORD_TOKEN": "   "})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


def test_run_names_the_configured_token_variable(tmp_path: Path) -> None:
    config = tmp_path / "custom.toml"
    config.write_text('token_env = "MY_BOT_TOKEN"\n', encoding="utf-8")
    result = run_cli(tmp_path, "run", "--config", str(config), env_changes={"DISCORD_TOKEN": "not-this-one"})
    assert result.returncode == 2
    assert "MY_BOT_TOKEN" in result.stderr
    assert result.stderr.count("\n") == 1


def test_run_with_a_bad_config_names_the_key_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('colour = "blue"\n', encoding="utf-8")
    result = run_cli(tmp_path, "run", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr == "config: colour: unknown key (see config.example.toml for the keys)\n"


def test_check_with_a_broken_database_reports_one_line_and_exits(tmp_path: Path) -> None:
    """It must exit at all: a connection left open on failure would keep the process alive."""
    (tmp_path / "broken.sqlite3").write_bytes(b"not a database " * 64)
    config = tmp_path / "broken.toml"
    config.write_text('database = "broken.sqlite3"\n', encoding="utf-8")
    result = run_cli(tmp_path, "check", "--config", str(config))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"database: cannot open {(tmp_path / 'broken.sqlite3').resolve()}: file is not a database\n"


def test_check_with_a_good_config_migrates_the_database(tmp_path: Path) -> None:
    config = tmp_path / "ok.toml"
    config.write_text('database = "fresh.sqlite3"\n', encoding="utf-8")
    result = run_cli(tmp_path, "check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    migrations = max(int(path.name.partition("_")[0]) for path in (REPO / "db" / "migrations").glob("*.sql"))
    assert result.stdout == (
        f"config OK; database {(tmp_path / 'fresh.sqlite3').resolve()} at schema version {migrations}\n"
    )


def test_every_storage_module_imports_first_in_a_fresh_interpreter() -> None:
    """A module imported before any other (a script, a migration tool) must not trip over an import cycle."""
    root = Path(__file__).resolve().parents[1]
    modules = sorted(f"db.{path.stem}" for path in (root / "db").glob("*.py") if path.stem != "__init__")
    running = {
        module: subprocess.Popen(
            [sys.executable, "-c", f"import {module}"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for module in modules
    }
    failed = {module: process.communicate()[0].decode()[-300:] for module, process in running.items()}
    assert {module: output for module, output in failed.items() if running[module].returncode} == {}
