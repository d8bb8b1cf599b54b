"""Recorders: the one way state changes (writes, resets, other kinds) are applied, and, with ``--state``, logged.

`Recorder` (no ``--state``) applies a change and keeps nothing: one extra call per write.
`DurableRecorder` applies it and appends its record to the state file before the answer goes
out, holding the log's lock and the organisation's lock, so the log's order is the order the
changes were applied in (ids and logical timestamps depend on it). What a record holds is what
it takes to make the same backend call again: organisation, operationId, validated parameters,
checked body, and with ``--clock real`` the moment the write took. docs/durability.md.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mock_server.backend import Backends
from mock_server.durable.logfile import LogFile, Record, Scan, StateError
from mock_server.errors import ApiError, InternalError
from mock_server.webhooks.changes import KIND as WEBHOOK_CHANGES

if TYPE_CHECKING:
    from mock_server.backend import Backend
    from mock_server.routes import Params, WriteHandler

# A change other than a write or a reset (e.g. the clock moved by an admin call): its kind names the
# function that applies it, given the organisation's backend and the record's payload (JSON).
ChangeKind = Callable[["Backend", Any], None]
# Kinds of change a reset leaves in place (webhook endpoints): their records are replayed whatever reset
# follows them, and written back when a reset cuts the file to its header.
KEPT_ACROSS_RESETS = frozenset({WEBHOOK_CHANGES})


class Recorder:
    """Applies changes, records nothing: the mock without ``--state``."""

    durable = False

    def __init__(self, backends: Backends, kinds: Mapping[str, ChangeKind] | None = None) -> None:
        self.backends = backends
        self.kinds: dict[str, ChangeKind] = dict(kinds or {})

    def write(self, backend: Backend, operation_id: str, handler: WriteHandler, params: Params, body: Any) -> Any:
        """Make one write's backend call (the pipeline's write step); returns the handler's result."""
        return handler(backend, params, body)

    def change(self, organisation: str, kind: str, payload: Any) -> Any:
        """Apply a change of a registered kind (`kinds`) to an organisation, e.g. ``("clock", {"to": ms})``;
        returns what its function returns."""
        apply = self._kind(kind)
        with self.changing(organisation) as backend:
            return apply(backend, payload)

    @contextmanager
    def changing(self, organisation: str) -> Iterator[Backend]:
        """Hold what a change of `organisation` needs, for a caller that reads the state before it decides
        (e.g. the clock's current time, then `change(...)` with the move): here, the organisation's lock."""
        backend = self.backends[organisation]
        with backend.lock:
            yield backend

    def reset(self, organisation: str | None = None) -> None:
        """Back to the seeded world: one organisation, or every one."""
        self.backends.reset(organisation)

    def close(self) -> None:
        pass

    def _kind(self, kind: str) -> ChangeKind:
        apply = self.kinds.get(kind)
        if apply is None:
            raise ValueError(f"no change kind {kind!r} is registered (known: {', '.join(self.kinds) or 'none'})")
        return apply


@dataclass
class Replayed:
    """What the start-up replay did, for the line it prints."""

    records: int = 0  # records read, header included
    applied: int = 0  # changes applied (those before a reset of their organisation are skipped)
    seconds: float = 0.0
    dropped_bytes: int = 0  # a torn tail, cut off
    truncated_at: int | None = None  # --state-truncate: where corruption was cut off

    def summary(self, path: str) -> str:
        text = f"state: {path}: replayed {self.applied} of {self.records - 1} changes in {self.seconds:.2f} s"
        if self.dropped_bytes:
            text += (f"; dropped an incomplete last record ({self.dropped_bytes} bytes: a write cut short by a "
                     "crash, never acknowledged)")
        if self.truncated_at is not None:
            text += f"; --state-truncate cut the file at byte {self.truncated_at}, where it was corrupt"
        return text


class DurableRecorder(Recorder):
    """Applies changes and appends each to the state file, durably, before it is acknowledged."""

    durable = True
    # A reset of every organisation cuts the file back to its header (nothing before it can matter again).
    # Not with several workers: the others read on from where they are in the file (SharedRecorder).
    truncates_on_full_reset = True

    def __init__(self, backends: Backends, log: LogFile, handlers: Mapping[str, WriteHandler], *,
                 real_clock: bool, kinds: Mapping[str, ChangeKind] | None = None) -> None:
        super().__init__(backends, kinds)
        self.log = log
        self.handlers = handlers
        self.real_clock = real_clock
        # Taken before any organisation's lock, by every change and by replay: one order for both locks.
        self.lock = threading.RLock()
        self.applied_end = 0  # the end of the last record applied here
        self.header_end = 0  # the end of the file's header record (set by the replay)
        self._depth = 0  # `changing` blocks entered (a change made inside another one joins it)
        self._kept: list[dict[str, Any]] = []  # records of KEPT_ACROSS_RESETS kinds, applied or replayed here

    # ----------------------------------------------------------------- changes

    def write(self, backend: Backend, operation_id: str, handler: WriteHandler, params: Params, body: Any) -> Any:
        with self.changing(backend.organisation) as backend:
            record: dict[str, Any] = {"k": "w", "o": backend.organisation, "op": operation_id,
                                      "p": dict(params), "b": body}
            if self.real_clock:  # the moment the write takes, so that its replay sets the same timestamps
                moment = record["t"] = backend.clock.now()
                with backend.clock.held(moment):
                    result = handler(backend, params, body)
            else:
                result = handler(backend, params, body)
            self._append(record)  # only once accepted: a refused write raised above and logs nothing
        return result

    def change(self, organisation: str, kind: str, payload: Any) -> Any:
        apply = self._kind(kind)
        with self.changing(organisation) as backend:
            record: dict[str, Any] = {"k": kind, "o": organisation, "d": payload}
            # Its moment, and the clock's lead on the wall clock after it (a clock move); not for a kind kept
            # across resets, replayed after them: the clock it saw may have been reset since.
            if self.real_clock and kind not in KEPT_ACROSS_RESETS:
                moment = record["t"] = backend.clock.now()
                with backend.clock.held(moment):
                    result = apply(backend, payload)
                record["f"] = backend.clock.offset
            else:
                result = apply(backend, payload)
            self._append(record)
            if kind in KEPT_ACROSS_RESETS:
                self._kept.append(record)
        return result

    @contextmanager
    def changing(self, organisation: str) -> Iterator[Backend]:
        # The recorder's lock, then (several workers) the file's, caught up, then the organisation's lock.
        with self._serialised():
            backend = self._backend(organisation)
            with backend.lock:
                yield backend

    def reset(self, organisation: str | None = None) -> None:
        # A reset record: replay drops what came before it (docs/durability.md, "Reset"); a reset of every
        # organisation in one process cuts the file back to its header instead.
        with self._serialised():
            if organisation is not None:
                self._backend(organisation)  # KeyError for an unknown one, before anything is logged
            self.backends.reset(organisation)
            if organisation is None and self.truncates_on_full_reset and self.header_end:
                self._truncate_to_header()
            else:
                self._append({"k": "reset", "o": organisation})

    def _truncate_to_header(self) -> None:
        try:
            self.log.truncate(self.header_end)  # fsync'd: a restart seeds the worlds and replays nothing
        except OSError as error:
            raise InternalError(f"The worlds were reset but the state file {self.log.path} could not be cut "
                                f"back: {error.strerror or error}; a restart will replay its changes") from None
        self.applied_end = self.header_end
        for record in self._kept:  # what the reset left in place (webhook endpoints) stays in the file too
            self._append(record)

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        """The recorder's lock and, around the outermost change, the file's (caught up before, released after)."""
        with self.lock:
            outermost = self._depth == 0
            self._depth += 1
            try:
                if outermost:
                    self._before_change()
                try:
                    yield
                finally:
                    if outermost:
                        self._after_change()
            finally:
                self._depth -= 1

    def close(self) -> None:
        self.log.close()

    def _append(self, record: dict[str, Any]) -> None:
        try:
            self.applied_end = self.log.append(record)
        except OSError as error:
            # Applied in memory, not on disk: say so rather than acknowledge what a restart would lose.
            raise InternalError(f"The change was applied but could not be saved to the state file "
                                f"{self.log.path}: {error.strerror or error}; a restart will not have it") from None

    def _before_change(self) -> None:
        """Hook of the shared log (several workers): take the file's lock and catch up."""

    def _after_change(self) -> None:
        """Hook of the shared log: release the file's lock."""

    # ----------------------------------------------------------------- replay

    def replay(self, found: Scan) -> Replayed:
        """Apply every record a scan of the file found (once, before serving); listeners hear nothing."""
        started = time.perf_counter()
        with self.lock:
            done = Replayed(records=len(found.records), dropped_bytes=found.dropped_bytes)
            if found.corrupt is not None:
                done.truncated_at = found.corrupt.offset
            if found.dropped_bytes or found.corrupt is not None:
                self.log.truncate(found.end)  # so that the next append starts on a record boundary
            done.applied = self.apply_records(_live(found.records[1:]))  # [0]: the header, checked already
            self.applied_end = found.end
            self.header_end = found.records[0].end
        done.seconds = time.perf_counter() - started
        return done

    def apply_records(self, records: Iterable[Record]) -> int:
        applied = 0
        for record in records:
            self._apply(record)
            if record.value.get("k") in KEPT_ACROSS_RESETS:
                self._kept.append(record.value)
            applied += 1
        return applied

    def _apply(self, record: Record) -> None:
        value = record.value
        kind, organisation = value.get("k"), value.get("o")
        if kind == "reset":
            self.backends.reset(organisation)
            return
        backend = self._backend(organisation, record.offset)
        # (A real clock is not read between replayed writes: reading it moves it, and the next write is replayed at
        # the moment it was made. Its retries wait for the wall clock anyway.)
        before = backend.clock.now() if backend.clock.mode == "fixed" else None
        with backend.muted():
            try:
                if kind == "w":
                    self._replay_write(backend, value, record.offset)
                elif kind in self.kinds:
                    self._replay_change(backend, kind, value)
                else:
                    raise StateError(f"state file {self.log.path}: the record at byte {record.offset} is a change "
                                     f"of kind {kind!r}, which this mock cannot replay")
            except ApiError as error:
                raise StateError(
                    f"state file {self.log.path}: the change at byte {record.offset} ({value.get('op') or kind} "
                    f"of organisation {organisation!r}) was accepted when made and is refused on replay "
                    f"({error.status}: {error.message})") from None
        if before is not None and backend.clock.now() != before:
            # Muted, the change told no clock listener; what waits on this process's clock (its webhook retries, with
            # workers: another worker moved the clock) hears the new time now.
            backend.clock_moved()

    def _replay_write(self, backend: Backend, value: dict[str, Any], offset: int) -> None:
        handler = self.handlers.get(value.get("op", ""))
        if handler is None:
            raise StateError(f"state file {self.log.path}: the write at byte {offset} is of operation "
                             f"{value.get('op')!r}, which this mock does not implement")
        moment = value.get("t")
        if moment is not None:
            with backend.clock.held(moment):
                handler(backend, value.get("p") or {}, value.get("b"))
        else:
            handler(backend, value.get("p") or {}, value.get("b"))

    def _replay_change(self, backend: Backend, kind: str, value: dict[str, Any]) -> None:
        moment = value.get("t")
        if moment is None:
            self.kinds[kind](backend, value.get("d"))
            return
        with backend.clock.held(moment):
            self.kinds[kind](backend, value.get("d"))
        backend.clock.offset = value.get("f", 0)  # the lead on the wall clock the change left

    def _backend(self, organisation: Any, offset: int | None = None) -> Backend:
        try:
            return Backends.__getitem__(self.backends, organisation)  # not a subclass's catching-up look-up
        except KeyError:
            if offset is None:
                raise
            raise StateError(f"state file {self.log.path}: the record at byte {offset} changes organisation "
                             f"{organisation!r}, which no api key of this start belongs to (keys changed?)") from None


def _live(records: list[Record]) -> list[Record]:
    """The records a replay must apply: those after the last reset of their organisation (or of all), and those
    of the kinds a reset leaves in place."""
    last_all = -1
    last_reset: dict[str, int] = {}
    for index, record in enumerate(records):
        if record.value.get("k") == "reset":
            organisation = record.value.get("o")
            if organisation is None:
                last_all = index
            else:
                last_reset[organisation] = index
    return [record for index, record in enumerate(records)
            if record.value.get("k") in KEPT_ACROSS_RESETS
            or (index > last_all and index > last_reset.get(record.value.get("o"), -1)
                and record.value.get("k") != "reset")]


def report(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
