"""Deliveries handed to a process of their own (`--webhook-delivery process`, the default of `serve`).

A delivery is mostly system calls and HTTP parsing: on the server's loop it cost about as much CPU as
the write that caused it (docs/webhooks.md, the benchmark's webhook row). `ProcessCourier` keeps the
`Lanes` interface but runs the lanes in `courier_main`, a small process started on the first post: what
the server does per delivery is frame the body it rendered, then read the outcome, each batched with
the other frames of the same turn of its loop into one system call. The dispatcher keeps everything
that has a meaning (events, order of queueing, the journal, retries on the organisation's clock).

The delivery process exits when the server closes its end. If it dies, the attempts it held come back
as failed (`retry`, on Brevo's schedule) and the next post starts a new one. If it cannot run at all (it
cannot be started, or it exits before it says it is ready), the server says
so once and posts from its own loop from then on (`Lanes`), beginning with what the process held.
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
from mock_server.webhooks.frames import (
    DROP,
    ENDPOINT,
    OUTCOME,
    POST,
    READY,
    FrameReader,
    FrameWriter,
    endpoint_payload,
    frame,
    outcome_of,
)
from mock_server.webhooks.lanes import Lanes, OnOutcome
from mock_server.webhooks.sender import RETRY, Outcome

logger = logging.getLogger("brevo_loyalty_mock")

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
        # token -> (lane key, endpoint, body): posted, outcome not back yet (kept for a fall-back to the loop)
        self._inflight: dict[int, tuple[Hashable, Endpoint, bytes]] = {}
        self._ready = False  # whether the running process said it started
        self._fallback: Lanes | None = None  # posting from the server's loop: the process could not run
        self._writer = FrameWriter()
        self._flushing = False
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The delivery process's id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    @property
    def fell_back(self) -> bool:
        """Whether the server posts from its own loop because the delivery process could not run."""
        return self._fallback is not None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._fallback is not None:
            self._fallback.start(loop)
            return
        self._loop = loop
        self._closed = False
        self._flushing = False  # a flush due on a loop that has stopped never ran
        if self._writer.waiting:
            self._schedule_flush()

    def post(self, key: Hashable, endpoint: Endpoint, token: int, body: bytes) -> None:
        if self._fallback is not None:
            self._fallback.post(key, endpoint, token, body)
            return
        lane = self._lane_ids.get(key)
        if lane is None:
            lane = self._lane_ids[key] = len(self._lane_ids) + 1
        told = self._told.get(lane)
        if told is not endpoint and told != endpoint:  # (a dataclass compares every field: identity first)
            self._told[lane] = endpoint
            self._writer.frames.append(frame(ENDPOINT, lane, 0, endpoint_payload(endpoint)))
        self._writer.frames.append(frame(POST, lane, token, body))
        self._inflight[token] = (key, endpoint, body)
        self._schedule_flush()

    def drop(self, key: Hashable) -> None:
        if self._fallback is not None:
            self._fallback.drop(key)
            return
        lane = self._lane_ids.get(key)
        if lane is None:
            return
        for token in [token for token, held in self._inflight.items() if held[0] == key]:
            del self._inflight[token]  # never reported: the dispatcher forgot them
        if self._sock is not None or self._writer.waiting:
            self._writer.frames.append(frame(DROP, lane, 0))
            self._schedule_flush()

    def close(self) -> None:
        """Stop the delivery process (it exits once its end is closed): what it holds is abandoned."""
        if self._fallback is not None:
            self._fallback.close()
            return
        self._closed = True
        self._writer.clear()
        process = self._detach()
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
        if not self._writer.waiting:
            return
        sock = self._sock or self._spawn()
        if sock is None or self._loop is None:
            return
        if not self._writer.send(sock, self._loop, self._flush):
            self._lost()

    def _spawn(self) -> socket.socket | None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        try:
            self._process = subprocess.Popen(self._command(theirs.fileno()), pass_fds=(theirs.fileno(),),
                                             stdin=subprocess.DEVNULL, env=env)
        except OSError as error:
            ours.close()
            self._fall_back(f"it cannot be started: {error.strerror or error}")
            return None
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._ready = False
        assert self._loop is not None
        self._loop.add_reader(ours.fileno(), self._readable)
        return ours

    # ------------------------------------------------------------------ reading

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        frames = self._reader.read(sock)
        if frames is None:
            self._lost()
            return
        inflight, report = self._inflight, self._on_outcome
        for kind, _, token, payload in frames:
            if kind == OUTCOME:
                if inflight.pop(token, None) is not None:
                    report(token, outcome_of(payload))
            elif kind == READY:
                self._ready = True

    def _lost(self) -> None:
        """The delivery process is gone: what it held failed; the next post starts a new one."""
        process = self._detach()
        code = process.poll() if process is not None else None
        if process is not None and code is None:
            process.kill()
            code = process.wait()
        if not self._ready:
            self._fall_back(f"it exited with code {code} as it started")
            return
        logger.warning("webhook deliveries: the delivery process exited (code %s); its attempts will be retried", code)
        tokens, self._inflight = list(self._inflight), {}
        for token in tokens:
            self._on_outcome(token, Outcome(RETRY, None, LOST, 0.0))

    def _fall_back(self, reason: str) -> None:
        """Post from the server's loop from now on, beginning with what the process was given."""
        logger.error("webhook deliveries: the delivery process cannot run (%s); posting from the server's event "
                     "loop instead (--webhook-delivery loop)", reason)
        fallback = self._fallback = Lanes(self._on_outcome)
        held, self._inflight = self._inflight, {}
        self._writer.clear()
        for token, (key, endpoint, body) in held.items():
            fallback.post(key, endpoint, token, body)
        if self._loop is not None and not self._loop.is_closed():
            fallback.start(self._loop)

    def _command(self, fd: int) -> list[str]:
        return [sys.executable, "-m", "mock_server.webhooks.courier_main", str(fd)]

    def _detach(self) -> subprocess.Popen[bytes] | None:
        """Let go of the running process (closed or lost): its socket closed, what it knew and half-read forgotten;
        the process, for the caller to reap."""
        process, sock = self._process, self._sock
        self._process, self._sock = None, None
        self._told.clear()
        self._reader = FrameReader()
        loop = self._loop
        if sock is not None:
            if loop is not None and not loop.is_closed():
                loop.remove_reader(sock.fileno())
                loop.remove_writer(sock.fileno())
            sock.close()
        return process


__all__ = ["ProcessCourier"]
