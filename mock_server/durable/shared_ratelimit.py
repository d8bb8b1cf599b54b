"""Rate-limit counts shared by the workers of `serve --workers N`, without a lock on a request's path.

Each worker counts in a table of its own, a memory-mapped file of the run's directory
(`ratelimit-<pid>.bin`) that only it writes, and reads the others' tables to add their counts: a
request costs a few look-ups and no system call, and two workers never wait for each other (a lock
taken by every request serialised them: about 13 µs a request at two workers against 7 alone).

A table has `SLOTS` entries of (key hash, window start, requests), probed linearly from the key's hash.
A key's window is the earliest live one any worker opened (a worker joins it rather than opening its
own), and its count is the sum of every worker's count in a live window: exact, except at the instant
two workers open a key's window at once, when both count. A reset writes its time in a shared control
file; windows opened before it are over. Window starts are `time.monotonic()` seconds, one clock for
every process of the machine. With more keys than a probed run holds, the entry whose window started
longest ago is reused (that key's count restarts early: never a refusal too soon).

The fields are read and written one machine word at a time through typed views of the mappings, and
where a key's entry was last found is remembered (and checked against the entry's hash before it is
trusted): a request reads three words per other worker instead of probing and unpacking entries. With
that, a worker's read costs about 0.3 µs more than one process's, against about 2 µs when every probed
entry was unpacked (docs/durability.md, "Cost").
"""

from __future__ import annotations

import math
import mmap
import os
import struct
import time
from hashlib import blake2b
from pathlib import Path

from mock_server.ratelimit import RateLimiter, RateState
from mock_server.settings import RateLimit

SLOTS = 4096
PROBES = 32
ENTRY = struct.Struct("=Qdq")  # key hash (0: empty), window start, requests: three native words of a table
WORDS = 3
RESET = struct.Struct("=d")  # monotonic time of the last reset, a native word
RESET_FILE = "ratelimit.reset"
RESCAN_SECONDS = 1.0  # how often the directory is listed for the tables of workers started since


class SharedRateLimiter(RateLimiter):
    def __init__(self, rate: RateLimit | None, shared_dir: Path) -> None:
        super().__init__(rate)
        self._dir = shared_dir
        self._own_path = shared_dir / f"ratelimit-{os.getpid()}.bin"
        self._own = _Table(self._own_path, create=True)
        self._reset_map = _mapped(shared_dir / RESET_FILE, RESET.size)
        self._reset_at = memoryview(self._reset_map).cast("d")
        self._others: dict[Path, _Table] = {}
        self._other_tables: tuple[_Table, ...] = ()
        self._scanned = -math.inf
        self._keys: dict[str, list[int]] = {}  # key -> [its hash, its own entry] (emptied when it holds SLOTS keys)

    def hit(self, key: str) -> RateState:
        now = time.monotonic()
        if now - self._scanned > RESCAN_SECONDS:
            self._scan(now)
        own = self._own
        known = self._keys.get(key)  # [hash, word of its entry in the own table], checked before use
        if known is None:
            if len(self._keys) >= SLOTS:
                self._keys.clear()
            wanted = _hash(key)
            known = self._keys[key] = [wanted, own.claim(wanted)]
        wanted, mine = known
        oldest = now - self._seconds  # a window that started before this, or before the last reset, is over
        reset_at = self._reset_at[0]
        if reset_at > oldest:
            oldest = reset_at
        # The others' live windows of this key: the earliest one is the key's, and their counts add up.
        others_used, earliest = 0, math.inf
        for table in self._other_tables:
            at = table.where.get(wanted)
            if at is None or table.hashes[at] != wanted:
                at = table.locate(wanted)
                if at is None:
                    continue
            start = table.starts[at + 1]
            if start > oldest:
                used = table.counts[at + 2]
                if used:
                    others_used += used
                    if start < earliest:
                        earliest = start
        if own.hashes[mine] != wanted:  # its entry went to another key (or a reset emptied the table)
            mine = known[1] = own.claim(wanted)
        start, used = own.starts[mine + 1], own.counts[mine + 2]
        if not used or start <= oldest:
            start, used = (earliest if earliest != math.inf else now), 0
            own.starts[mine + 1] = start
        used += 1
        own.counts[mine + 2] = used
        total = used + others_used
        # Conditionals rather than min() and max(): a call to either costs more than the rest of a line here.
        reset = math.ceil((start if start < earliest else earliest) + self._seconds - now)
        remaining = self.limit - total
        return RateState(self.limit, remaining if remaining > 0 else 0, reset if reset > 1 else 1,
                         self.enforced and total > self.limit)

    def reset(self, key: str | None = None) -> None:
        """Fresh counts for every key (a time every worker reads), or for one key (its entries, everywhere)."""
        if key is None:
            self._reset_at[0] = time.monotonic()
            self._own.clear()
            return
        wanted = _hash(key)
        for table in (self._own, *self._others.values()):
            at = table.locate(wanted)
            if at is not None:  # the window ends: the next request of the key, on any worker, opens a new one
                table.counts[at + 2] = 0
                table.starts[at + 1] = 0.0

    def _scan(self, now: float) -> None:
        """Map the tables of the other workers (and forget those of workers gone)."""
        self._scanned = now
        found = {path for path in self._dir.glob("ratelimit-*.bin") if path != self._own_path}
        for path in set(self._others) - found:
            self._others.pop(path).close()
        for path in found - set(self._others):
            try:
                self._others[path] = _Table(path, create=False)
            except (OSError, ValueError):  # a worker still making its table: next scan
                continue
        self._other_tables = tuple(self._others.values())


class _Table:
    """One worker's table: word views of the mapping (entry i's fields at 3i, 3i + 1, 3i + 2)."""

    def __init__(self, path: Path, create: bool) -> None:
        self._map = _mapped(path, SLOTS * ENTRY.size, create)
        self.hashes = memoryview(self._map).cast("Q")
        self.starts = memoryview(self._map).cast("d")
        self.counts = memoryview(self._map).cast("q")
        self.where: dict[int, int] = {}  # key hash -> the word where `locate` last found its entry

    def locate(self, wanted: int) -> int | None:
        """The first word of the key's entry, or None if the table has none."""
        first = wanted % SLOTS
        for probe in range(PROBES):
            at = ((first + probe) % SLOTS) * WORDS
            found = self.hashes[at]
            if found == wanted:
                self._remember(wanted, at)
                return at
            if found == 0:
                return None
        return None

    def claim(self, wanted: int) -> int:
        """The key's entry in this (own) table: its own, an empty one, or the one whose window started first."""
        first = wanted % SLOTS
        oldest, oldest_start = first * WORDS, math.inf
        for probe in range(PROBES):
            at = ((first + probe) % SLOTS) * WORDS
            found = self.hashes[at]
            if found == wanted:
                return at
            if found == 0:
                oldest = at
                break
            if self.starts[at + 1] < oldest_start:
                oldest, oldest_start = at, self.starts[at + 1]
        # A new entry: emptied before it is named, so a reader never counts another key's requests as its.
        self.counts[oldest + 2] = 0
        self.starts[oldest + 1] = 0.0
        self.hashes[oldest] = wanted
        return oldest

    def _remember(self, wanted: int, at: int) -> None:
        if len(self.where) >= SLOTS:
            self.where.clear()
        self.where[wanted] = at

    def clear(self) -> None:
        self._map[:] = bytes(len(self._map))
        self.where.clear()

    def close(self) -> None:
        for view in (self.hashes, self.starts, self.counts):
            view.release()
        self._map.close()


def _hash(key: str) -> int:
    return int.from_bytes(blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8).digest(), "little") or 1


def _mapped(path: Path, size: int, create: bool = True) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o600)
    try:
        if create and os.fstat(fd).st_size < size:
            os.ftruncate(fd, size)  # zeros: every slot empty
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)  # the mapping stays
