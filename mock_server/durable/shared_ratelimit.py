"""Rate-limit counts shared by the workers of `serve --workers N`: a small table in a memory-mapped file.

One request costs a lock (`flock` on the table's file), a hash look-up and two numbers written. The
table has `SLOTS` entries of (key hash, window start, requests), probed linearly from the key's hash;
when the probed run is full, the entry whose window started longest ago is reused (that key starts a
new window: with thousands of keys at once, a count may restart early, never refuse too soon). Window
starts are `time.monotonic()` seconds, one clock for every process of the machine.
"""

from __future__ import annotations

import fcntl
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
FILE = "ratelimit.bin"


class SharedRateLimiter(RateLimiter):
    def __init__(self, rate: RateLimit | None, shared_dir: Path) -> None:
        super().__init__(rate)
        self._fd = os.open(shared_dir / FILE, os.O_RDWR | os.O_CREAT, 0o600)
        size = SLOTS * ENTRY.size
        if os.fstat(self._fd).st_size < size:
            os.ftruncate(self._fd, size)  # zeros: every slot empty (each worker may do it; the size only grows)
        self._table = mmap.mmap(self._fd, size)
        self._hashes: dict[str, int] = {}  # key -> its hash, remembered (emptied when it holds SLOTS keys)

    def hit(self, key: str) -> RateState:
        now = time.monotonic()
        wanted = self._hashes.get(key)
        if wanted is None:
            if len(self._hashes) >= SLOTS:
                self._hashes.clear()
            digest = blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8).digest()
            wanted = self._hashes[key] = int.from_bytes(digest, "little") or 1
        first = wanted % SLOTS
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            slot, start, used = self._find(wanted, first)
            if used == 0 or now - start >= self._seconds:
                start, used = now, 0
            used += 1
            ENTRY.pack_into(self._table, slot * ENTRY.size, wanted, start, used)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        reset = max(1, math.ceil(start + self._seconds - now))
        return RateState(self.limit, max(0, self.limit - used), reset, self.enforced and used > self.limit)

    def _find(self, wanted: int, first: int) -> tuple[int, float, int]:
        """The key's slot (with its window and count), an empty one, or the oldest of the probed run."""
        oldest, oldest_start = first, math.inf
        for probe in range(PROBES):
            slot = (first + probe) % SLOTS
            found, start, used = ENTRY.unpack_from(self._table, slot * ENTRY.size)
            if found == wanted:
                return slot, start, used
            if found == 0:
                return slot, 0.0, 0
            if start < oldest_start:
                oldest, oldest_start = slot, start
        return oldest, 0.0, 0

    def reset(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            self._table[:] = bytes(len(self._table))
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
