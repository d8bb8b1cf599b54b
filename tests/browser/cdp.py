"""A small Chrome DevTools Protocol driver for headless Chromium, over a pipe.

Chromium started with ``--remote-debugging-pipe`` reads protocol messages on
file descriptor 3 and writes its own on 4, each a JSON object ended by a NUL
byte. That needs no websocket library and no port, so the browser tests need
nothing but Debian's ``chromium`` (no npm package, no browser download).

Only what the tests use is here: open a page, navigate, evaluate JavaScript,
wait for a condition, record network requests (CORS preflights included), and
take a screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

# The flags of the machine notes (docs: .library/env/machines/python.md): a closed network makes
# Chromium's own background connections fail, so every one of them is turned off.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class CdpError(RuntimeError):
    pass


class Browser:
    """One headless Chromium process and its protocol connection."""

    def __init__(self, executable: str, *, window: tuple[int, int] = (1100, 900)) -> None:
        self._profile = tempfile.mkdtemp(prefix="brevo-mock-chromium-")
        args = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}",
                f"--window-size={window[0]},{window[1]}", "--remote-debugging-pipe", "about:blank"]
        # fd 3 <- our stdin pipe, fd 4 -> our stdout pipe; the browser's own stdio goes nowhere.
        self._process = subprocess.Popen(
            ["/bin/sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null', *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._responses: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True, name="cdp-reader")
        self._reader.start()
        self.version = self.send("Browser.getVersion")

    # ------------------------------------------------------------------ transport

    def _read(self) -> None:
        assert self._process.stdout is not None
        buffer = b""
        while True:
            chunk = self._process.stdout.read1(65536)
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._lock:
                    if "id" in message:
                        self._responses[message["id"]] = message
                    else:
                        self.events.append(message)
                    self._lock.notify_all()
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float = 15.0) -> dict[str, Any]:
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(message).encode() + b"\0")
        self._process.stdin.flush()
        deadline = time.monotonic() + timeout
        with self._lock:
            while message_id not in self._responses:
                remaining = deadline - time.monotonic()
                if self._closed:
                    raise CdpError(f"the browser exited during {method}")
                if remaining <= 0:
                    raise CdpError(f"no answer to {method} within {timeout} s")
                self._lock.wait(remaining)
            answer = self._responses.pop(message_id)
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    # ------------------------------------------------------------------ pages

    def new_page(self) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.send("Page.enable")
        page.send("Runtime.enable")
        page.send("Network.enable")
        return page

    def close(self) -> None:
        with suppress(CdpError, OSError, ValueError):
            self.send("Browser.close", timeout=5)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        shutil.rmtree(self._profile, ignore_errors=True)


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 15.0) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def events(self, method: str) -> list[dict[str, Any]]:
        with self.browser._lock:
            return [e["params"] for e in self.browser.events
                    if e.get("method") == method and e.get("sessionId") == self.session]

    def navigate(self, url: str) -> None:
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CdpError(f"navigation to {url} failed: {result['errorText']}")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise CdpError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        """Evaluate `expression` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        problem = "falsy"
        while True:
            try:
                value = self.evaluate(expression)
            except CdpError as error:  # e.g. the element is not there yet: the page is loading
                value, problem = None, str(error)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CdpError(f"still {problem} after {timeout} s: {expression}")
            time.sleep(0.05)

    def text(self, selector: str) -> str | None:
        return self.evaluate(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent ?? null")

    def screenshot(self, path: str | Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        target = Path(path)
        target.write_bytes(base64.b64decode(data))
        return target

    def requests(self) -> list[dict[str, Any]]:
        """Every request the page sent: {url, method, type, headers} (CORS preflights have type Preflight)."""
        return [{"url": e["request"]["url"], "method": e["request"]["method"], "type": e.get("type"),
                 "headers": e["request"].get("headers", {})}
                for e in self.events("Network.requestWillBeSent")]


@contextmanager
def chromium(executable: str) -> Iterator[Browser]:
    browser = Browser(executable)
    try:
        yield browser
    finally:
        browser.close()
