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
ENTRY = struct.Struct("<Qdq")  # key hash (0: empty), window start, requests
RESET = struct.Struct("<d")  # monotonic time of the last reset
RESET_FILE = "ratelimit.reset"
RESCAN_SECONDS = 1.0  # how often the directory is listed for the tables of workers started since


class SharedRateLimiter(RateLimiter):
    def __init__(self, rate: RateLimit | None, shared_dir: Path) -> None:
        super().__init__(rate)
        self._dir = shared_dir
        self._own_path = shared_dir / f"ratelimit-{os.getpid()}.bin"
        self._own = _mapped(self._own_path, SLOTS * ENTRY.size)
        self._reset = _mapped(shared_dir / RESET_FILE, RESET.size)
        self._others: dict[Path, mmap.mmap] = {}
        self._scanned = -math.inf
        self._hashes: dict[str, int] = {}  # key -> its hash, remembered (emptied when it holds SLOTS keys)

    def hit(self, key: str) -> RateState:
        now = time.monotonic()
        if now - self._scanned > RESCAN_SECONDS:
            self._scan(now)
        wanted = self._hashes.get(key)
        if wanted is None:
            if len(self._hashes) >= SLOTS:
                self._hashes.clear()
            digest = blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8).digest()
            wanted = self._hashes[key] = int.from_bytes(digest, "little") or 1
        first = wanted % SLOTS
        oldest = now - self._seconds  # a window that started before this, or before the last reset, is over
        (reset_at,) = RESET.unpack_from(self._reset)
        oldest = max(oldest, reset_at)
        # The others' live windows of this key: the earliest one is the key's, and their counts add up.
        others_used, earliest = 0, math.inf
        for table in list(self._others.values()):
            start, used = _live(table, wanted, first, oldest)
            if used:
                others_used += used
                earliest = min(earliest, start)
        slot, start, used = _find(self._own, wanted, first)
        if not used or start <= oldest:
            start, used = (earliest if earliest != math.inf else now), 0
        used += 1
        ENTRY.pack_into(self._own, slot * ENTRY.size, wanted, start, used)
        total = used + others_used
        reset = max(1, math.ceil(min(start, earliest) + self._seconds - now))
        return RateState(self.limit, max(0, self.limit - total), reset, self.enforced and total > self.limit)

    def reset(self, key: str | None = None) -> None:
        """Fresh counts for every key (a time every worker reads), or for one key (its entries, everywhere)."""
        if key is None:
            RESET.pack_into(self._reset, 0, time.monotonic())
            self._own[:] = bytes(len(self._own))
            return
        wanted = int.from_bytes(blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8).digest(),
                                "little") or 1
        for table in (self._own, *self._others.values()):
            slot, _, used = _find(table, wanted, wanted % SLOTS)
            if used:  # the window ends: the next request of the key, on any worker, opens a new one
                ENTRY.pack_into(table, slot * ENTRY.size, wanted, 0.0, 0)

    def _scan(self, now: float) -> None:
        """Map the tables of the other workers (and forget those of workers gone)."""
        self._scanned = now
        found = {path for path in self._dir.glob("ratelimit-*.bin") if path != self._own_path}
        for path in set(self._others) - found:
            self._others.pop(path).close()
        for path in found - set(self._others):
            try:
                self._others[path] = _mapped(path, SLOTS * ENTRY.size, create=False)
            except (OSError, ValueError):  # a worker still making its table: next scan
                continue


def _mapped(path: Path, size: int, create: bool = True) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o600)
    try:
        if create and os.fstat(fd).st_size < size:
            os.ftruncate(fd, size)  # zeros: every slot empty
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)  # the mapping stays


def _find(table: mmap.mmap, wanted: int, first: int) -> tuple[int, float, int]:
    """The key's slot (with its window and count), an empty one, or the oldest of the probed run."""
    oldest, oldest_start = first, math.inf
    for probe in range(PROBES):
        slot = (first + probe) % SLOTS
        found, start, used = ENTRY.unpack_from(table, slot * ENTRY.size)
        if found == wanted:
            return slot, start, used
        if found == 0:
            return slot, 0.0, 0
        if start < oldest_start:
            oldest, oldest_start = slot, start
    return oldest, 0.0, 0


def _live(table: mmap.mmap, wanted: int, first: int, oldest: float) -> tuple[float, int]:
    """Another worker's window of the key, if live: (start, requests); (0, 0) otherwise."""
    for probe in range(PROBES):
        found, start, used = ENTRY.unpack_from(table, ((first + probe) % SLOTS) * ENTRY.size)
        if found == wanted:
            return (start, used) if start > oldest else (0.0, 0)
        if found == 0:
            return 0.0, 0
    return 0.0, 0
