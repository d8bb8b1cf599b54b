"""Delivery of an organisation's events to its webhook endpoints, off the API's path.

`Dispatcher` listens to the backends (`Backends.on_events`, `on_clock`) from the moment the first
endpoint is configured; before that, and for an organisation with no endpoint, an event costs the
backend nothing more. For each accepted write, the events each endpoint wants become jobs, handed
to that endpoint's worker thread once the write's response has gone out (the event loop's next
turn), so deliveries follow event order per organisation and endpoint and never hold a request up:
a receiver that hangs only holds its own worker, for at most the endpoint's timeout.

Retries follow Brevo's schedule (retry-mechanism): after a timeout, a refused connection or a 429,
the event is posted again 10 minutes after the original attempt, then 1 hour, 2 hours and 8 hours
after each previous one (4 retries, 5 attempts in all), on the organisation's clock: a retry is due
when that clock reaches its time, which moves with writes and `POST /__mock__/clock`. Any other
status discards the event. `mute()` stops new events from being queued (e.g. while writes are
replayed at start-up).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import orjson

from mock_server.backend.events import Event
from mock_server.store.models import HOUR, MINUTE, iso
from mock_server.webhooks.endpoints import Endpoint
from mock_server.webhooks.journal import Attempt, DeliveryJournal
from mock_server.webhooks.payloads import event_id, render
from mock_server.webhooks.sender import DELIVERED, RETRY, Sender

if TYPE_CHECKING:
    from mock_server.backend import Backends

logger = logging.getLogger("brevo_loyalty_mock")

RETRY_INCREMENTS = (10 * MINUTE, HOUR, 2 * HOUR, 8 * HOUR)  # each after the previous attempt's due time
MAX_ATTEMPTS = 1 + len(RETRY_INCREMENTS)
RETRY_OFFSETS = tuple(itertools.accumulate(RETRY_INCREMENTS))  # from the original attempt: 10 min, 1h10 ...
# Jobs waiting for one endpoint, at most: a receiver slower than the writes must not make the mock's memory grow
# without bound (under a benchmark's load); past it an event is dropped and journaled as such.
MAX_BACKLOG = 10_000


@dataclass(slots=True)
class _Job:
    event: Event
    endpoint: Endpoint
    generation: int  # the organisation's reset count when queued: a reset drops older jobs
    attempt: int = 1
    due: int = 0  # organisation's clock, epoch ms
    body: bytes | None = field(default=None, repr=False)


class _Worker:
    """One endpoint's thread: posts its jobs one at a time, in order."""

    def __init__(self, dispatcher: Dispatcher, organisation: str, endpoint: Endpoint) -> None:
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.busy = 0  # 1 while a job is being delivered
        self._dispatcher = dispatcher
        self._sender = Sender(endpoint)
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"brevo-mock-webhook:{organisation}:{endpoint.id}")
        self.thread.start()

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            self.busy = 1
            try:
                self._dispatcher._deliver(self._sender, job)
            except Exception:  # pragma: no cover - a bug here must not kill the worker
                logger.exception("webhook delivery failed")
            finally:
                self.busy = 0
        self._sender.close()


class Dispatcher:
    def __init__(self, backends: Backends, journal_size: int = 1000) -> None:
        self._backends = backends
        self.journal = DeliveryJournal(journal_size)
        self._endpoints: dict[str, tuple[Endpoint, ...]] = {}
        self._numbers: dict[str, itertools.count[int]] = {}
        self._workers: dict[tuple[str, str], _Worker] = {}
        self._retries: dict[str, list[tuple[int, int, _Job]]] = {}
        self._timers: list[threading.Timer] = []
        self._generation: dict[str, int] = {}
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._attached = False
        self._muted = False
        self._closed = False

    # ------------------------------------------------------------------ configuration

    def add(self, organisation: str, endpoint: Endpoint) -> Endpoint:
        """Configure an endpoint for an organisation; returns it with its id (``wh1``, ``wh2`` ...)."""
        with self._lock:
            number = next(self._numbers.setdefault(organisation, itertools.count(1)))
            endpoint = replace(endpoint, id=f"wh{number}")
            self._endpoints[organisation] = (*self._endpoints.get(organisation, ()), endpoint)
            self._attach()
        return endpoint

    def remove(self, organisation: str, endpoint_id: str | None = None) -> list[Endpoint]:
        """Drop one endpoint (or all of the organisation's); their queued jobs and retries go with them."""
        with self._lock:
            current = self._endpoints.get(organisation, ())
            gone = [e for e in current if endpoint_id is None or e.id == endpoint_id]
            self._endpoints[organisation] = tuple(e for e in current if e not in gone)
            for endpoint in gone:
                worker = self._workers.pop((organisation, endpoint.id), None)
                if worker is not None:
                    worker.jobs.put(None)
            heap = self._retries.get(organisation, [])
            self._retries[organisation] = [item for item in heap if item[2].endpoint not in gone]
            heapq.heapify(self._retries[organisation])
        return gone

    def endpoints(self, organisation: str) -> tuple[Endpoint, ...]:
        return self._endpoints.get(organisation, ())

    def pending(self, organisation: str) -> dict[str, int]:
        """Deliveries waiting: queued for a worker now, and retries waiting for the organisation's clock."""
        with self._lock:
            queued = sum(worker.jobs.qsize() + worker.busy for (name, _), worker in self._workers.items()
                         if name == organisation)
            retries = len(self._retries.get(organisation, ()))
        return {"queued": queued, "retries": retries}

    def reset(self, organisation: str | None = None) -> None:
        """The organisation's world was reset: its queued jobs, pending retries and journal go (endpoints stay)."""
        with self._lock:
            for name in [organisation] if organisation is not None else list({*self._endpoints, *self._retries}):
                self._generation[name] = self._generation.get(name, 0) + 1
                self._retries.pop(name, None)
        self.journal.clear(organisation)

    def idle(self, timeout: float = 1.0) -> bool:
        """Wait (up to `timeout` s) until no delivery is queued or under way; whether that happened."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                workers = list(self._workers.values())
            if all(worker.jobs.empty() and not worker.busy for worker in workers):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)

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

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers.values()), {}
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        for worker in workers:
            worker.jobs.put(None)
        for worker in workers:
            worker.thread.join(timeout=1.0)

    # ------------------------------------------------------------------ listening

    def _attach(self) -> None:
        if not self._attached:
            self._attached = True
            self._backends.on_events(self._on_events)
            self._backends.on_clock(self._on_clock)

    def _on_events(self, organisation: str, batch: Sequence[Event]) -> None:
        """Called inside the write (backend lock held): queue, never deliver, here."""
        endpoints = self._endpoints.get(organisation)
        if not endpoints or self._muted or not batch:
            return
        generation = self._generation.get(organisation, 0)
        jobs = [_Job(event, endpoint, generation, 1, event.at)
                for event in batch for endpoint in endpoints if endpoint.wants(event.name)]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:  # a request being answered: hand the jobs over once its response is sent
            loop.call_soon(self._release, organisation, jobs, batch[-1].at)
        else:
            self._release(organisation, jobs, batch[-1].at)

    def _on_clock(self, organisation: str, now: int) -> None:
        self._run_due(organisation, now)

    def _release(self, organisation: str, jobs: list[_Job], now: int) -> None:
        for job in jobs:
            self._queue(organisation, job)
        self._run_due(organisation, now)

    def _queue(self, organisation: str, job: _Job) -> None:
        with self._lock:
            if self._closed or job.endpoint not in self._endpoints.get(organisation, ()):
                return
            key = (organisation, job.endpoint.id)
            worker = self._workers.get(key)
            if worker is None:
                worker = self._workers[key] = _Worker(self, organisation, job.endpoint)
        if worker.jobs.qsize() >= MAX_BACKLOG:
            self._journal(job, None, "dropped: too many deliveries waiting", 0.0, "dropped", None)
            return
        worker.jobs.put(job)

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
        elif backend.clock.mode == "real":  # wall-clock time passes by itself: wake up when the retry is due
            timer = threading.Timer((job.due - now) / 1000, self._wake, args=(organisation,))
            timer.daemon = True
            with self._lock:
                self._timers = [t for t in self._timers if t.is_alive()] + [timer]
            timer.start()

    def _wake(self, organisation: str) -> None:
        backend = self._backends.get(organisation)
        if backend is not None:
            self._run_due(organisation, backend.clock.now())

    def _run_due(self, organisation: str, now: int) -> None:
        try:
            if self._retries[organisation][0][0] > now:  # the common case, without the lock
                return
        except (KeyError, IndexError):  # no retry pending
            return
        due: list[_Job] = []
        with self._lock:
            heap = self._retries.get(organisation, [])
            while heap and heap[0][0] <= now:
                due.append(heapq.heappop(heap)[2])
        for job in due:
            self._queue(organisation, job)

    # ------------------------------------------------------------------ delivering (worker threads)

    def _deliver(self, sender: Sender, job: _Job) -> None:
        event = job.event
        organisation = event.organisation
        if job.generation != self._generation.get(organisation, 0):
            return  # queued before a reset: that world is gone
        if job.endpoint not in self._endpoints.get(organisation, ()):
            return  # the endpoint was removed meanwhile
        backend = self._backends.get(organisation)
        seed = backend.base.seed if backend is not None else 0
        if job.body is None:
            job.body = orjson.dumps(render(event, seed))
        outcome = sender.post(job.body)
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
        self._journal(job, outcome.status, outcome.error, outcome.latency_ms, verdict, retry_at)
        if retry_at is not None:
            self._schedule(organisation, replace(job, attempt=job.attempt + 1, due=retry_at))

    def _journal(self, job: _Job, status: int | None, error: str | None, latency_ms: float, verdict: str,
                 retry_at: int | None) -> None:
        event = job.event
        backend = self._backends.get(event.organisation)
        seed = backend.base.seed if backend is not None else 0
        self.journal.add(Attempt(
            organisation=event.organisation, event=event.name, event_id=event_id(seed, event.organisation, event.seq),
            seq=event.seq, endpoint=job.endpoint.id, url=job.endpoint.shown()["url"], attempt=job.attempt,
            due_at=iso(job.due), status=status, error=error, latency_ms=latency_ms, outcome=verdict,
            next_attempt_at=iso(retry_at) if retry_at is not None else None,
        ))
