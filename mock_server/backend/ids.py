"""Ids of the records writes create: UUIDs from (seed, organisation, sequence number).

Hashing, not a random generator, so an id depends only on how many ids the
backend handed out before it: replaying the same requests gives the same ids.
A different prefix from the seeding's keeps created ids apart from seeded ones.
"""

from __future__ import annotations

from hashlib import blake2b


def _uuid4_text(digest: bytes) -> str:
    marked = bytearray(digest)
    marked[6] = (marked[6] & 0x0F) | 0x40  # version 4
    marked[8] = (marked[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = marked.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class IdSource:
    __slots__ = ("_prefix", "issued")

    def __init__(self, seed: int, organisation: str) -> None:
        self._prefix = f"write\x1f{seed}\x1f{organisation}\x1f".encode()
        self.issued = 0

    def uuid(self) -> str:
        """The next id, lower-case."""
        self.issued += 1
        return _uuid4_text(blake2b(self._prefix + str(self.issued).encode(), digest_size=16).digest())

    def number(self) -> int:
        """The next positive whole number of the same sequence (for codes and numbered names)."""
        self.issued += 1
        return self.issued

    def reset(self) -> None:
        self.issued = 0
