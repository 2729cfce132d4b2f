"""The HTML export in a real browser: headless Chromium, network off, driven over the DevTools protocol.

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it when missing). Without it the test
is skipped with the reason, except under CI (``CI=true``), where a missing browser fails the run.
The export itself carries no script: checks run through the DevTools protocol (``Runtime.evaluate``), and
every request the page makes is collected from the protocol's Network events.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.domain.models import Dialogue
from bot.record.export import ExportFormat, export
from db import Database
from tests.record.sample import ARABIC, EXPORTED

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
STARTUP = 30.0


def require_browser() -> str:
    if BROWSER is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing on CI: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium); the HTML export's browser test needs it")
    return BROWSER


class Page:
    """One browser tab over the DevTools protocol: commands, and the events seen so far."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        await self.socket.send_json({"id": number, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self.socket.receive_json(), STARTUP)
            if message.get("id") == number:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    async def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            message = await asyncio.wait_for(self.socket.receive_json(), STARTUP)
            self.events.append(message)
            if message.get("method") == method:
                return message

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Page]:
    """Start headless Chromium with no way out to the network, and open one tab."""
    process = subprocess.Popen(
        [
            require_browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # The network is off: no name resolves and no proxy leads anywhere.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--window-size=1000,1400",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        port = await asyncio.wait_for(asyncio.to_thread(_devtools_port, process.stderr), STARTUP)
        async with aiohttp.ClientSession() as session:
            async with session.put(f"http://127.0.0.1:{port}/json/new?about:blank") as answer:
                target = await answer.json(content_type=None)
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                yield Page(socket)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _devtools_port(stream: io.TextIOBase | Any) -> int:
    for line in stream:
        found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if found:
            return int(found.group(1))
    raise AssertionError("Chromium exited before it listened for DevTools")


async def test_the_html_export_reads_right_offline_in_chromium(
    database: Database, sample: Dialogue, tmp_path: Path
) -> None:
    require_browser()
    out = io.BytesIO()
    await export(database, sample.id, ExportFormat.HTML, out, now=EXPORTED)
    page_file = tmp_path / "export.html"
    page_file.write_bytes(out.getvalue())

    async with chromium(tmp_path / "profile") as page:
        await page.send("Network.enable")
        await page.send("Page.enable")
        await page.send("Page.navigate", url=page_file.as_uri())
        await page.wait_for("Page.loadEventFired")

        # The rendered text of a thread, as a reader sees it.
        thread = await page.evaluate("document.getElementById('thread-5001').innerText")
        assert "Question 1 · What does engagement add at home?" in thread
        assert "Alice" in thread and "Our **shadow report** reached the review <b>in time</b> (edited)." in thread
        assert "replying to Alice" in thread and "edited" in thread
        # The Arabic post reads right to left; an English one left to right.
        arabic = "document.getElementById('post-7003')"
        assert await page.evaluate(f"{arabic}.innerText.includes({json.dumps(ARABIC)})")
        assert await page.evaluate(f"getComputedStyle({arabic}).direction") == "rtl"
        assert await page.evaluate(f"{arabic}.matches(':dir(rtl)')") is True
        assert await page.evaluate(f"getComputedStyle({arabic}.querySelector('.text')).direction") == "rtl"
        assert await page.evaluate("getComputedStyle(document.getElementById('post-7001')).direction") == "ltr"
        # The table of contents jumps to each thread.
        links = await page.evaluate("[...document.querySelectorAll('nav a')].map(a => a.getAttribute('href'))")
        assert links == ["#thread-5001", "#thread-5002", "#thread-5003", "#channel-posts"]
        assert await page.evaluate("document.querySelectorAll('script').length") == 0

        shot = await page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "export.png").write_bytes(base64.b64decode(shot["data"]))

        # Nothing was fetched: the only request is the file itself (data: URIs are read from the page).
        await page.evaluate("1")  # let pending events arrive
        requested = [
            event["params"]["request"]["url"]
            for event in page.events
            if event.get("method") == "Network.requestWillBeSent"
        ]
        assert [url for url in requested if not url.startswith("data:")] == [page_file.as_uri()]
