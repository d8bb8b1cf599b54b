"""Delivery of an organisation's events to its webhook endpoints.

`Dispatcher` listens to the backends (`Backends.on_events`, `on_clock`) from the moment the first
endpoint is configured; before that, and for an organisation with no endpoint, an event costs the
backend nothing more. For each accepted write, the events each endpoint wants become jobs, handed on
the event loop's next turn (once the write's response has been sent) to that endpoint's lane, in the
order they were queued. The lanes post one attempt at a time each, on a kept-alive connection
(mock_server/webhooks/lanes.py), either in a delivery process of their own (`ProcessCourier`, the
default: the API's CPU is not spent on them) or on the server's loop (`--webhook-delivery loop`); a
receiver that hangs keeps only its own lane waiting, at most the endpoint's timeout, never the API.
Deliveries start once the server runs (`start(loop)`, from the app's lifespan).

Retries follow Brevo's schedule (retry-mechanism): after a timeout, a refused connection or a 429,
the event is posted again 10 minutes after the original attempt, then 1 hour, 2 hours and 8 hours
after each previous one (4 retries, 5 attempts in all), on the organisation's clock: a retry is due
when that clock reaches its time, which moves with writes and `POST /__mock__/clock`. Any other
status discards the event. `mute()` / `paused()` stop new events from being queued (e.g. while
writes are replayed at start-up).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from mock_server.backend.events import Event
from mock_server.durable.gathered import Gathered
from mock_server.settings import parse_webhook_delivery
from mock_server.store.models import HOUR, MINUTE
from mock_server.webhooks.courier import ProcessCourier
from mock_server.webhooks.endpoints import Endpoint
from mock_server.webhooks.journal import DeliveryJournal, SharedDeliveryJournal
from mock_server.webhooks.lanes import Lanes
from mock_server.webhooks.payloads import render
from mock_server.webhooks.sender import DELIVERED, RETRY, Outcome

if TYPE_CHECKING:
    from mock_server.backend import Backends

logger = logging.getLogger("brevo_loyalty_mock")

RETRY_INCREMENTS = (10 * MINUTE, HOUR, 2 * HOUR, 8 * HOUR)  # each after the previous attempt's due time
MAX_ATTEMPTS = 1 + len(RETRY_INCREMENTS)
RETRY_OFFSETS = tuple(itertools.accumulate(RETRY_INCREMENTS))  # from the original attempt: 10 min, 1h10 ...
# Jobs waiting for one endpoint, at most: a receiver slower than the writes must not make the mock's memory grow
# without bound (under a benchmark's load); past it an event is dropped and counted (`pending`).
MAX_BACKLOG = 10_000
# While retries wait, how often the dispatcher looks for changes other processes made (`serve --workers N`: another
# worker may move the clock; a worker learns of it before its own requests, and waiting retries make none).
WATCH_SECONDS = 0.05


@dataclass(slots=True)
class _Job:
    event: Event
    endpoint: Endpoint
    generation: int  # the organisation's reset count when queued: a reset drops older jobs
    attempt: int = 1
    due: int = 0  # organisation's clock, epoch ms
    body: bytes | None = field(default=None, repr=False)
    event_id: str = ""


class Dispatcher:
    def __init__(self, backends: Backends, journal_size: int = 1000, delivery: str = "loop",
                 shared_dir: Path | None = None) -> None:
        delivery = parse_webhook_delivery(delivery)  # where the lanes run: a delivery process, or the server's loop
        self._backends = backends
        # With workers (`shared_dir`), the journal shows every worker's attempts.
        self.journal = (DeliveryJournal(journal_size) if shared_dir is None
                        else SharedDeliveryJournal(journal_size, shared_dir, self._resets, backends.catch_up))
        self._courier: Lanes | ProcessCourier = (ProcessCourier if delivery == "process" else Lanes)(self._attempted)
        self._endpoints: dict[str, tuple[Endpoint, ...]] = {}
        self._numbers: dict[str, itertools.count[int]] = {}
        self._inflight: dict[int, tuple[tuple[str, str], _Job]] = {}  # token -> (lane, job): handed to a lane
        self._backlog: dict[tuple[str, str], int] = {}  # lane -> jobs handed to it and not ended yet
        self._tokens = itertools.count(1)
        self._retries: dict[str, list[tuple[int, int, _Job]]] = {}
        self._generation: dict[str, int] = {}
        self._dropped: dict[str, int] = {}
        self._overflowing: dict[tuple[str, str], int] = {}  # lane -> events dropped since its backlog was full
        self._order = itertools.count()
        self._lock = threading.Lock()  # configuration and retries may change from any thread
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._attached = False
        self._muted = False
        self._watching = False
        # With workers, `pending` adds up every worker's counts, gathered when read (made last: it publishes them).
        self._shared_pending = None if shared_dir is None else Gathered(shared_dir, "pending", self._pending_rows)

    # ------------------------------------------------------------------ life cycle

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on `loop` (the server's) from now on, beginning with what waited for it."""
        self._loop = loop
        self._loop_thread = 0  # unknown yet: every hand-over is thread-safe
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:  # called on the loop (the app's lifespan), else the loop itself resumes
            self._resume()
        else:
            loop.call_soon_threadsafe(self._resume)

    def _resume(self) -> None:
        """On the loop: remember its thread, and deliver what waited for it."""
        self._loop_thread = threading.get_ident()
        assert self._loop is not None
        self._courier.start(self._loop)

    def close(self) -> None:
        """Stop delivering (the server stops): attempts under way are abandoned, connections closed."""
        self._courier.close()
        self._inflight.clear()
        self._backlog.clear()
        self._overflowing.clear()

    # ------------------------------------------------------------------ configuration

    def add(self, organisation: str, endpoint: Endpoint) -> Endpoint:
        """Configure an endpoint for an organisation; returns it with its id (``wh1``, ``wh2`` ...)."""
        with self._lock:
            number = next(self._numbers.setdefault(organisation, itertools.count(1)))
            endpoint = replace(endpoint, id=f"wh{number}")
            self._endpoints[organisation] = (*self._endpoints.get(organisation, ()), endpoint)
            if not self._attached:
                self._attached = True
                self._backends.on_events(self._on_events)
                self._backends.on_clock(self._on_clock)
                self._backends.on_reset(self.reset)  # however the reset came (with workers: another's, from the log)
        return endpoint

    def remove(self, organisation: str, endpoint_id: str | None = None) -> list[Endpoint]:
        """Drop one endpoint (or all of the organisation's); their queued jobs and retries go with them."""
        with self._lock:
            current = self._endpoints.get(organisation, ())
            gone = [e for e in current if endpoint_id is None or e.id == endpoint_id]
            self._endpoints[organisation] = tuple(e for e in current if e not in gone)
            heap = [item for item in self._retries.get(organisation, []) if item[2].endpoint not in gone]
            heapq.heapify(heap)
            self._retries[organisation] = heap
        for endpoint in gone:
            self._call(self._drop_lane, (organisation, endpoint.id))
        return gone

    def endpoints(self, organisation: str) -> tuple[Endpoint, ...]:
        return self._endpoints.get(organisation, ())

    @property
    def shared(self) -> bool:
        """Whether this is one worker of `serve --workers N` (its counts are gathered with the others')."""
        return self._shared_pending is not None

    def pending_by_worker(self, organisation: str) -> dict[int, dict[str, int]]:
        """Each worker's deliveries waiting, by process id (one process: its own): queued or under way now, retries
        waiting for the clock, and those dropped. `added_up` makes them the organisation's.

        Each event is posted, and retried, by the worker that took its write, so each holds its own. A worker that
        has not applied the organisation's latest reset yet still counts what that reset dropped: its queued
        deliveries and retries are left out (its `dropped`, counted since start, stays)."""
        if self._shared_pending is None:
            return {os.getpid(): self._own_pending(organisation)}
        self._backends.catch_up()  # the resets other workers took, before comparing reset counts
        rows, _ = self._shared_pending.gather()
        found = [row for row in rows if row[1] == organisation]
        latest = max([self._resets(organisation), *(row[2] for row in found)])
        return {pid: {"queued": queued if resets == latest else 0, "retries": retries if resets == latest else 0,
                      "dropped": dropped}
                for pid, _, resets, queued, retries, dropped in sorted(found)}

    def _own_pending(self, organisation: str) -> dict[str, int]:
        queued = sum(count for (name, _), count in list(self._backlog.items()) if name == organisation)
        return {"queued": queued, "retries": len(self._retries.get(organisation, ())),
                "dropped": self._dropped.get(organisation, 0)}

    def _pending_rows(self, cleared: float) -> list[list[object]]:
        """This worker's counts for every organisation it knows (published for `pending_by_worker`)."""
        names = {*self._endpoints, *self._retries, *self._dropped, *(name for name, _ in list(self._backlog))}
        return [[os.getpid(), name, self._resets(name), *self._own_pending(name).values()] for name in sorted(names)]

    def reset(self, organisation: str | None = None) -> None:
        """The organisation's world was reset (`Backends.on_reset`): its queued jobs, pending retries and journal go
        (endpoints stay)."""
        with self._lock:
            names = [organisation] if organisation is not None else list({*self._endpoints, *self._retries})
            for name in names:
                self._generation[name] = self._generation.get(name, 0) + 1
                self._retries.pop(name, None)
        for name in names:
            for lane in [lane for lane in list(self._backlog) if lane[0] == name]:
                self._call(self._drop_lane, lane)  # what was queued before the reset is not posted
        self.journal.clear(organisation)

    def _resets(self, organisation: str) -> int:
        """How many resets of the organisation this process applied."""
        return self._generation.get(organisation, 0)

    def idle(self, timeout: float = 1.0) -> bool:
        """Wait (up to `timeout` s, from a thread other than the server's) until nothing is queued or under way."""
        deadline = time.monotonic() + timeout
        while any(list(self._backlog.values())):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    @property
    def muted(self) -> bool:
        return self._muted

    def mute(self, muted: bool = True) -> None:
        """Ignore events from now on (True) or deliver them again (False)."""
        self._muted = muted

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Events of the writes made inside are never delivered (e.g. a replay of saved writes)."""
        before = self._muted
        self._muted = True
        try:
            yield
        finally:
            self._muted = before

    # ------------------------------------------------------------------ listening (any thread)

    def _on_events(self, organisation: str, batch: Sequence[Event]) -> None:
        """Called inside the write (backend lock held): queue, never deliver, here."""
        endpoints = self._endpoints.get(organisation)
        if not endpoints or self._muted or not batch:
            return
        generation = self._generation.get(organisation, 0)
        jobs = [_Job(event, endpoint, generation, 1, event.at)
                for event in batch for endpoint in endpoints if endpoint.wants(event.name)]
        if jobs:
            self._call(self._release, organisation, jobs, batch[-1].at)

    def _on_clock(self, organisation: str, now: int) -> None:
        self._call(self._run_due, organisation, now)

    def _call(self, function: object, *args: object) -> None:
        """Run `function(*args)` on the loop's next turn (after the response under way), or now without one."""
        loop = self._loop
        if loop is None or loop.is_closed():
            function(*args)  # type: ignore[operator]
            return
        # The loop's own thread (not asyncio.get_running_loop(), which asks the kernel for the pid each time).
        if threading.get_ident() == self._loop_thread:
            loop.call_soon(function, *args)  # type: ignore[arg-type]
        else:
            loop.call_soon_threadsafe(function, *args)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ queueing (on the loop)

    def _release(self, organisation: str, jobs: list[_Job], now: int) -> None:
        for job in jobs:
            self._queue(organisation, job)
        self._run_due(organisation, now)

    def _queue(self, organisation: str, job: _Job) -> None:
        """Hand `job` to its endpoint's lane (on the loop): rendered now, posted after the lane's earlier jobs."""
        key = (organisation, job.endpoint.id)
        backlog = self._backlog.get(key, 0)
        if backlog >= MAX_BACKLOG:
            self._dropped[organisation] = self._dropped.get(organisation, 0) + 1
            self._overflow(key)
            return
        try:
            body = self._body(job)
        except Exception:  # a bug here must not stop the lane
            logger.exception("webhook delivery failed")
            return
        if body is None:
            return
        token = next(self._tokens)
        self._inflight[token] = (key, job)
        self._backlog[key] = backlog + 1
        self._courier.post(key, job.endpoint, token, body)

    def _drop_lane(self, key: tuple[str, str]) -> None:
        """Forget the lane's jobs not ended yet (on the loop): a reset, or its endpoint removed."""
        self._courier.drop(key)
        for token in [token for token, (lane, _) in self._inflight.items() if lane == key]:
            del self._inflight[token]
        self._backlog.pop(key, None)
        self._overflowing.pop(key, None)

    def _overflow(self, key: tuple[str, str]) -> None:
        """One more event dropped on a full lane; the first of a run is said in the server's log."""
        dropped = self._overflowing.get(key, 0)
        if dropped == 0:
            logger.warning("webhooks: %s deliveries wait for endpoint %s (organisation %s): later events are "
                           "dropped until it catches up, counted in pending.dropped at GET /__mock__/webhooks",
                           f"{MAX_BACKLOG:,}", key[1], key[0])
        self._overflowing[key] = dropped + 1

    def _caught_up(self, key: tuple[str, str], left: int) -> None:
        """A lane that dropped events has room again (half its bound): say how many it dropped."""
        if left <= MAX_BACKLOG // 2:
            dropped = self._overflowing.pop(key)
            logger.warning("webhooks: endpoint %s (organisation %s) is catching up; %s events were dropped",
                           key[1], key[0], f"{dropped:,}")

    def _attempted(self, token: int, outcome: Outcome) -> None:
        """An attempt ended (on the loop, from the lane that made it): journal it, schedule its retry."""
        found = self._inflight.pop(token, None)
        if found is None:
            return  # its lane was dropped meanwhile
        key, job = found
        left = self._backlog.get(key, 0) - 1
        if left > 0:
            self._backlog[key] = left
        else:
            self._backlog.pop(key, None)
        if key in self._overflowing:
            self._caught_up(key, left)
        try:
            self._record(job, outcome)
        except Exception:  # a bug here must not stop deliveries
            logger.exception("webhook delivery failed")

    # ------------------------------------------------------------------ retries

    def _schedule(self, organisation: str, job: _Job) -> None:
        with self._lock:
            heapq.heappush(self._retries.setdefault(organisation, []), (job.due, next(self._order), job))
        backend = self._backends.get(organisation)
        if backend is None:
            return
        now = backend.clock.now()
        if job.due <= now:
            self._run_due(organisation, now)
        elif backend.clock.mode == "real" and self._loop is not None:  # wall-clock time passes by itself
            self._loop.call_later((job.due - now) / 1000, self._wake, organisation)
        self._watch()

    def _watch(self) -> None:
        """While retries wait, catch up with other processes' changes every WATCH_SECONDS (on the loop): one that moves
        this clock reaches `_on_clock` as it is applied. One process has none to catch up with."""
        if self._watching or self._loop is None or self._loop.is_closed():
            return
        self._watching = True
        self._loop.call_later(WATCH_SECONDS, self._watched)

    def _watched(self) -> None:
        self._watching = False
        if not any(list(self._retries.values())):
            return
        try:
            self._backends.catch_up()
        except Exception:  # a bug here must not stop the retries
            logger.exception("webhook delivery failed")
        self._watch()

    def _wake(self, organisation: str) -> None:
        backend = self._backends.get(organisation)
        if backend is not None:
            self._run_due(organisation, backend.clock.now())

    def _run_due(self, organisation: str, now: int) -> None:
        heap = self._retries.get(organisation)
        if not heap or heap[0][0] > now:  # the common case (on the loop: no other thread pops)
            return
        due: list[_Job] = []
        with self._lock:
            heap = self._retries.get(organisation, [])
            while heap and heap[0][0] <= now:
                due.append(heapq.heappop(heap)[2])
        for job in due:
            self._queue(organisation, job)

    # ------------------------------------------------------------------ delivering

    def _body(self, job: _Job) -> bytes | None:
        """The bytes to post for `job`, rendered once per job; None when it is no longer to be delivered."""
        organisation = job.event.organisation
        if job.generation != self._generation.get(organisation, 0):
            return None  # queued before a reset: that world is gone
        if job.endpoint not in self._endpoints.get(organisation, ()):
            return None  # the endpoint was removed meanwhile
        if job.body is None:
            backend = self._backends.get(organisation)
            payload = render(job.event, backend.base.seed if backend is not None else 0)
            job.event_id = payload["event_id"]
            job.body = orjson.dumps(payload)
        return job.body

    def _record(self, job: _Job, outcome: Outcome) -> None:
        """Journal the attempt and schedule its retry, as Brevo's rules say."""
        event = job.event
        organisation = event.organisation
        retry_at = None
        if outcome.verdict == DELIVERED:
            verdict = "delivered"
        elif outcome.verdict == RETRY and job.attempt < MAX_ATTEMPTS:
            retry_at = event.at + RETRY_OFFSETS[job.attempt - 1]
            verdict = "retry_scheduled"
        else:
            verdict = "gave_up" if outcome.verdict == RETRY else "discarded"
        if job.generation != self._generation.get(organisation, 0):
            return
        self.journal.record((organisation, event.name, job.event_id, event.seq, job.endpoint, job.attempt, job.due,
                             outcome.status, outcome.error, outcome.latency_ms, verdict, retry_at))
        if retry_at is not None:
            self._schedule(organisation, replace(job, attempt=job.attempt + 1, due=retry_at))


def added_up(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Several workers' counts of deliveries waiting (`pending_by_worker`) as one."""
    totals = {"queued": 0, "retries": 0, "dropped": 0}
    for one in counts:
        for name in totals:
            totals[name] += one[name]
    return totals


__all__ = ["MAX_ATTEMPTS", "RETRY_OFFSETS", "Dispatcher", "added_up"]
