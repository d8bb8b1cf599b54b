"""Servers under test: launched in their own process group, timed to their first answer, always stopped.

`ServerSet` is a context manager: whatever happens inside it (a failed load, an
exception, Ctrl-C), every process group it started is sent SIGTERM, then
SIGKILL if it lingers, on the way out.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.005


class ServerError(RuntimeError):
    """A server did not start, or answered something unexpected."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pin_thread(pid: int, cpu: int) -> bool:
    """Pin the main thread of a running process to `cpu` (its children and other threads keep their CPUs)."""
    if cpu not in os.sched_getaffinity(0):
        return False
    os.sched_setaffinity(pid, {cpu})
    return True


def pinned(command: list[str], cpu: int | None) -> list[str]:
    """`command` pinned to one core with taskset, when asked and available."""
    if cpu is None or shutil.which("taskset") is None or cpu not in os.sched_getaffinity(0):
        return command
    return ["taskset", "-c", str(cpu), *command]


def get(port: int, path: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """One GET on loopback: (status, body)."""
    return request(port, "GET", path, headers, None, timeout)


def request(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None,
            timeout: float) -> tuple[int, bytes]:
    """One request on loopback, on a connection of its own: (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Server:
    """A running server process and what its start-up measured."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    started_seconds: float = 0.0  # launch to the first 200 answer

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict[str, str] | None = None, timeout: float = 30.0) -> tuple[int, bytes]:
        return get(self.port, path, headers or {}, timeout)

    def post(self, path: str, body: bytes | None, headers: dict[str, str] | None = None,
             timeout: float = 30.0) -> tuple[int, bytes]:
        return request(self.port, "POST", path, headers or {}, body, timeout)

    def peak_rss_mb(self) -> float:
        """Peak resident memory (VmHWM) of the server and its child processes, in MiB."""
        pids = [self.process.pid, *_children(self.process.pid)]
        return sum(_vm_hwm_kib(pid) for pid in pids) / 1024

    def wait_workers(self, workers: int, timeout: float, quiet: float = 0.5) -> None:
        """Wait until `workers` worker processes run and have gone quiet (their worlds are seeded).

        The first answer only proves that one worker is up; connections opened
        before the others are would all stay on it.
        """
        deadline = time.monotonic() + timeout
        last: int | None = None
        while time.monotonic() < deadline:
            found = [pid for pid in _children(self.process.pid) if b"spawn_main" in _cmdline(pid)]
            used = sum(_cpu_ticks(pid) for pid in found)
            if len(found) >= workers and last is not None and used - last <= 1:
                return
            last = used if len(found) >= workers else None
            time.sleep(quiet)
        raise ServerError(f"{self.name}: {workers} workers were not all up within {timeout:.0f} s")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except ProcessLookupError:
            pass


@dataclass
class ServerSet:
    """Every server of one benchmark run; all stopped when the `with` block ends."""

    log_dir: Path
    servers: list[Server] = field(default_factory=list)

    def launch(self, name: str, command: list[str], port: int, ready_path: str, headers: dict[str, str],
               timeout: float, cpu: int | None = None, env: dict[str, str] | None = None) -> Server:
        """Start `command` and wait for `ready_path` to answer 200; the wait is the start-up time."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as sink:
            started = time.perf_counter()
            process = subprocess.Popen(pinned(command, cpu), stdout=sink, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       env={**os.environ, **(env or {})})
        server = Server(name, port, process, log)
        self.servers.append(server)
        server.started_seconds = _first_answer(server, ready_path, headers, started, timeout)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self.servers:
            self.servers.remove(server)

    def __enter__(self) -> ServerSet:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()


def _first_answer(server: Server, path: str, headers: dict[str, str], started: float, timeout: float) -> float:
    deadline = started + timeout
    last = "no answer"
    while time.perf_counter() < deadline:
        if not server.alive():
            tail = server.log.read_text(errors="replace")[-2000:]
            raise ServerError(f"{server.name} exited with {server.process.returncode} before answering:\n{tail}")
        try:
            status, _ = get(server.port, path, headers, timeout=max(0.1, deadline - time.perf_counter()))
        except OSError as error:  # not listening yet
            last = str(error)
            time.sleep(POLL_SECONDS)
            continue
        if status == 200:
            return time.perf_counter() - started
        last = f"status {status}"
        time.sleep(POLL_SECONDS)
    server.stop()
    raise ServerError(f"{server.name} did not answer {path} within {timeout:.0f} s ({last}); log: {server.log}")


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (workers of a multi-process server)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _cpu_ticks(pid: int) -> int:
    """User plus system CPU time of `pid`, in clock ticks."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _vm_hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
