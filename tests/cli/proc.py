"""Run the real `brevo-loyalty-mock` command in a subprocess, on loopback, and always stop it.

`serving(...)` starts ``python -m mock_server serve --port 0 ...`` in a session
of its own, reads the port from the start-up banner, and on the way out stops
it (SIGTERM, then SIGKILL of its process group if it does not end in time).
Its stdout and stderr are drained by threads, so a chatty server never blocks
on a full pipe, and are kept for assertions.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
_BASE_URL = re.compile(r"base URL\s+http://127\.0\.0\.1:(\d+)/v3")


def command(*args: str, module: str = "mock_server") -> list[str]:
    return [sys.executable, "-m", module, *args]


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without BREVO_MOCK_* (so that a developer's settings do not leak in)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("BREVO_MOCK_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class Output:
    """A stream's lines as they come."""

    lines: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def text(self) -> str:
        with self.lock:
            return "".join(self.lines)


def _drain(stream: object, output: Output) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        with output.lock:
            output.lines.append(line)


@dataclass
class Served:
    process: subprocess.Popen[str]
    stdout: Output
    stderr: Output
    port: int = 0
    returncode: int | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get_json(self, target: str) -> Any:
        """GET a target of the running server (loopback, no key: for /__mock__/ endpoints)."""
        with urllib.request.urlopen(self.root + target, timeout=30) as answer:
            return json.loads(answer.read())

    def wait_for(self, pattern: str, stream: str = "stdout", timeout: float = START_TIMEOUT) -> re.Match[str]:
        output = self.stdout if stream == "stdout" else self.stderr
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, output.text)
            if found:
                return found
            if self.process.poll() is not None:
                time.sleep(0.2)  # let the readers take the last lines
                found = re.search(pattern, output.text)
                if found:
                    return found
                raise AssertionError(f"the server exited ({self.process.returncode}) before printing {pattern!r}:\n"
                                     f"{self.stdout.text}\n{self.stderr.text}")
            time.sleep(0.02)
        raise AssertionError(f"no {pattern!r} within {timeout} s:\n{self.stdout.text}\n{self.stderr.text}")

    def stop(self, sig: int | None = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Send `sig` (None: none, it was sent) and wait for the exit status (SIGKILL of the group past `timeout`)."""
        if sig is not None and self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
            raise AssertionError(f"the server did not stop within {timeout} s of signal {sig}") from None
        return self.returncode


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None, port: int | str = 0,
            module: str = "mock_server") -> Iterator[Served]:
    """`brevo-loyalty-mock serve --port PORT ARGS...`, ready (banner printed) when yielded (`module`: another
    command line with the same `serve`, such as bench.write_ceiling)."""
    process = subprocess.Popen(
        command("serve", "--port", str(port), *args, module=module), cwd=ROOT, env=environment(env), text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    served = Served(process, Output(), Output())
    readers = [threading.Thread(target=_drain, args=(process.stdout, served.stdout), daemon=True),
               threading.Thread(target=_drain, args=(process.stderr, served.stderr), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        served.port = int(served.wait_for(_BASE_URL.pattern).group(1))
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        for reader in readers:
            reader.join(5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        served.returncode = process.returncode


def run(args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 60.0,
        cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the command to its end (for failures that stop it before it serves)."""
    return subprocess.run(command(*args), cwd=cwd, env=environment(env), text=True, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)
