"""The request journal: what clients sent, and where they broke the contract.

Bounded (oldest entries drop first, a write's body is kept up to
MAX_BODY_BYTES) so that a long CI run cannot grow the mock's memory. Served
newest last at ``GET /__mock__/requests``.

Two views: the entries, which a reset clears (tests call it between cases),
and the counts since start, which nothing clears: they are the verdict of
``--check-client``, and a reset must not erase a violation from CI's exit status.
"""

from __future__ import annotations

import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class JournalEntry:
    seq: int
    at: float  # wall-clock seconds; the journal is a log, not an API answer
    method: str
    path: str
    query: str
    operation_id: str | None
    status: int
    violations: tuple[str, ...] = field(default=())
    body: str | None = None  # a write's request body as text, cut to MAX_BODY_BYTES; None for reads
    organisation: str | None = None  # whose key sent it; None when no key was accepted

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["violations"] = list(self.violations)
        return data

    def log_line(self) -> str:
        """One line per violating request, as the client check prints them while it runs."""
        target = self.path + (f"?{self.query}" if self.query else "")
        return f"client check: {self.method} {target} -> {self.status}: " + "; ".join(self.violations)


MAX_DISTINCT_VIOLATIONS = 10_000
ORGANISATION = 9  # the organisation's place in a journal row (JournalEntry's field order)
MAX_BODY_BYTES = 2048  # of each write's body: enough to read a Loyalty body whole, bounded for 1 MiB ones
OTHER_VIOLATIONS = "(other violations, not listed one by one)"


class Journal:
    def __init__(self, size: int, on_violation: Callable[[JournalEntry], None] | None = None) -> None:
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=max(1, size))
        self._seq = 0
        # Since start, never cleared (the exit status and summary of --check-client).
        self._violation_counts: Counter[str] = Counter()
        self.requests = 0
        # Called for each request that broke the contract (the client check prints it at once).
        self.on_violation = on_violation
        # Organisation -> the last seq its own reset cleared (a per-key reset: the others' entries stay).
        self._cleared_seq: dict[str, int] = {}

    def record(self, method: str, path: str, query: str, operation_id: str | None, status: int,
               violations: tuple[str, ...] = (), body: bytes | None = None, organisation: str | None = None) -> None:
        self._seq += 1
        self.requests += 1
        # Kept as a plain tuple, made a JournalEntry when read: recording is on every request's path.
        row = (self._seq, time.time(), method, path, query, operation_id, status, violations,
               None if body is None else shown_body(body), organisation)
        self._entries.append(row)
        for violation in violations:
            # Distinct texts are bounded too: a client sending ever-new bad values must not grow memory.
            if violation in self._violation_counts or len(self._violation_counts) < MAX_DISTINCT_VIOLATIONS:
                self._violation_counts[violation] += 1
            else:
                self._violation_counts[OTHER_VIOLATIONS] += 1
        if violations and self.on_violation is not None:
            self.on_violation(JournalEntry(*row))

    @property
    def violation_count(self) -> int:
        """Violations recorded since start: a clear does not reset it, nor do the bounded entries drop it."""
        return sum(self._violation_counts.values())

    def entries(self, organisation: str | None = None) -> list[JournalEntry]:
        """Every entry kept, or one organisation's since its own last reset."""
        if organisation is None:
            return [JournalEntry(*row) for row in self._entries]
        since = self._cleared_seq.get(organisation, 0)
        return [JournalEntry(*row) for row in self._entries if row[ORGANISATION] == organisation and row[0] > since]

    def clear(self, organisation: str | None = None) -> None:
        """Empty the entries (what ``/__mock__/requests`` shows), or one organisation's view of them.

        One organisation's clear (a per-key reset) hides its entries from its own view only: the view of
        every key (an operator's) keeps them, with the other keys' entries. The counts since start stay.
        """
        if organisation is not None:
            self._cleared_seq[organisation] = self._seq
            return
        self._entries.clear()
        self._cleared_seq.clear()

    def summary(self) -> str:
        """A few lines for the end of a run: how many requests since start, which violations."""
        total = sum(self._violation_counts.values())
        lines = [f"client check: {self.requests} request(s), {total} contract violation(s)"]
        for violation, count in self._violation_counts.most_common(20):
            lines.append(f"  {count:>5} x {violation}")
        return "\n".join(lines)


def print_violation(entry: JournalEntry) -> None:
    print(entry.log_line(), file=sys.stderr, flush=True)


def shown_body(body: bytes) -> str:
    """A body as the journal keeps it: text (undecodable bytes replaced), cut to MAX_BODY_BYTES with a note."""
    if len(body) <= MAX_BODY_BYTES:
        return body.decode("utf-8", "replace")
    kept = body[:MAX_BODY_BYTES].decode("utf-8", "ignore")  # "ignore": a character cut in two is dropped
    return f"{kept}… ({len(body)} bytes, the first {MAX_BODY_BYTES} kept)"
