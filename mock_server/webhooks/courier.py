"""Deliveries handed to a process of their own (`--webhook-delivery process`, the default of `serve`).

A delivery is mostly system calls and HTTP parsing: on the server's loop it cost about as much CPU as
the write that caused it (docs/webhooks.md, the benchmark's webhook row). `ProcessCourier` keeps the
`Lanes` interface but runs the lanes in `courier_main`, a small process started on the first post: what
the server does per delivery is frame the body it rendered, then read the outcome, each batched with
the other frames of the same turn of its loop into one system call. The dispatcher keeps everything
that has a meaning (events, order of queueing, the journal, retries on the organisation's clock).

The delivery process exits when the server closes its end. If it dies, the attempts it held come back
as failed (`retry`, on Brevo's schedule) and the next post starts a new one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Hashable
from pathlib import Path

from mock_server.webhooks.endpoints import Endpoint
from mock_server.webhooks.frames import DROP, ENDPOINT, OUTCOME, POST, FrameReader, endpoint_payload, frame, outcome_of
from mock_server.webhooks.lanes import OnOutcome
from mock_server.webhooks.sender import RETRY, Outcome

logger = logging.getLogger("brevo_loyalty_mock")

READ_SIZE = 1 << 18
STOP_WAIT_SECONDS = 2.0
LOST = "the delivery process exited"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # where `mock_server` is, for the process's imports


class ProcessCourier:
    """`Lanes`, run by a delivery process: post, drop and close from the server's loop; outcomes come back on it."""

    def __init__(self, on_outcome: OnOutcome) -> None:
        self._on_outcome = on_outcome
        self._loop: asyncio.AbstractEventLoop | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._reader = FrameReader()
        self._lane_ids: dict[Hashable, int] = {}
        self._told: dict[int, Endpoint] = {}  # lane -> the endpoint the running process knows it by
        self._inflight: dict[int, Hashable] = {}  # token -> lane key: posted, outcome not back yet
        self._out: list[bytes] = []
        self._pending = b""  # framed bytes the socket has not taken yet
        self._flushing = False
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The delivery process's id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._closed = False
        self._flushing = False  # a flush due on a loop that has stopped never ran
        if self._out:
            self._schedule_flush()

    def post(self, key: Hashable, endpoint: Endpoint, token: int, body: bytes) -> None:
        lane = self._lane_ids.get(key)
        if lane is None:
            lane = self._lane_ids[key] = len(self._lane_ids) + 1
        if self._told.get(lane) != endpoint:
            self._told[lane] = endpoint
            self._out.append(frame(ENDPOINT, lane, 0, endpoint_payload(endpoint)))
        self._out.append(frame(POST, lane, token, body))
        self._inflight[token] = key
        self._schedule_flush()

    def drop(self, key: Hashable) -> None:
        lane = self._lane_ids.get(key)
        if lane is None:
            return
        for token in [token for token, owner in self._inflight.items() if owner == key]:
            del self._inflight[token]  # never reported: the dispatcher forgot them
        if self._sock is not None or self._out:
            self._out.append(frame(DROP, lane, 0))
            self._schedule_flush()

    def close(self) -> None:
        """Stop the delivery process (it exits once its end is closed): what it holds is abandoned."""
        self._closed = True
        process, sock = self._process, self._sock
        self._process, self._sock = None, None
        self._told.clear()
        self._out.clear()
        self._pending = b""
        if sock is not None:
            self._unwatch(sock)
            sock.close()
        if process is not None:
            try:
                process.wait(timeout=STOP_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._inflight.clear()

    # ------------------------------------------------------------------ writing

    def _schedule_flush(self) -> None:
        loop = self._loop
        if self._flushing or self._closed or loop is None or loop.is_closed():
            return  # not started yet (the frames wait for `start`), or stopped
        self._flushing = True
        loop.call_soon(self._flush)  # after the turn's other callbacks: their frames go in the same write

    def _flush(self) -> None:
        self._flushing = False
        if not self._out and not self._pending:
            return
        sock = self._sock or self._spawn()
        if sock is None:
            return
        data = self._pending + b"".join(self._out)
        self._out.clear()
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._pending = b""
            self._lost()
            return
        self._pending = data[sent:]
        if self._pending and self._loop is not None:
            self._loop.add_writer(sock.fileno(), self._drain)

    def _drain(self) -> None:
        if self._sock is not None and self._loop is not None:
            self._loop.remove_writer(self._sock.fileno())
        self._flush()

    def _spawn(self) -> socket.socket | None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "mock_server.webhooks.courier_main", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env)
        except OSError as error:
            ours.close()
            logger.error("webhook deliveries: cannot start the delivery process (%s)", error)
            self._fail_inflight(f"cannot start the delivery process: {error.strerror or error}")
            self._out.clear()
            return None
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours
        assert self._loop is not None
        self._loop.add_reader(ours.fileno(), self._readable)
        return ours

    # ------------------------------------------------------------------ reading

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            data = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._lost()
            return
        inflight, report = self._inflight, self._on_outcome
        for kind, _, token, payload in self._reader.feed(data):
            if kind == OUTCOME and inflight.pop(token, None) is not None:
                report(token, outcome_of(payload))

    def _lost(self) -> None:
        """The delivery process is gone: what it held failed; the next post starts a new one."""
        process, sock = self._process, self._sock
        self._process, self._sock = None, None
        self._told.clear()
        self._reader = FrameReader()
        if sock is not None:
            self._unwatch(sock)
            sock.close()
        code = process.poll() if process is not None else None
        if process is not None and code is None:
            process.kill()
            code = process.wait()
        logger.warning("webhook deliveries: the delivery process exited (code %s); its attempts will be retried", code)
        self._fail_inflight(LOST)

    def _fail_inflight(self, reason: str) -> None:
        tokens, self._inflight = list(self._inflight), {}
        for token in tokens:
            self._on_outcome(token, Outcome(RETRY, None, reason, 0.0))

    def _unwatch(self, sock: socket.socket) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.remove_reader(sock.fileno())
            loop.remove_writer(sock.fileno())


__all__ = ["ProcessCourier"]
