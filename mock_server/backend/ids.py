"""Ids of the records writes create: UUIDs from (seed, organisation, sequence number).

Hashing, not a random generator, so an id depends only on how many ids the
backend handed out before it: replaying the same requests gives the same ids.
A different prefix from the seeding's keeps created ids apart from seeded ones.
"""

from __future__ import annotations

from hashlib import blake2b

# The UUID's variant digit (RFC 4122: binary 10xx) for each hex digit the hash put there.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def uuid4_text(hexdigest: str) -> str:
    """A 16-byte hash's hex digits as a version 4 UUID (its version and variant digits set), formatted from the
    hex string rather than from a mutable copy of the bytes (two per write)."""
    h = hexdigest
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


class IdSource:
    __slots__ = ("_hash", "issued")

    def __init__(self, seed: int, organisation: str) -> None:
        # The hash of the prefix, copied for each id: only the sequence number is hashed per id.
        self._hash = blake2b(f"write\x1f{seed}\x1f{organisation}\x1f".encode(), digest_size=16)
        self.issued = 0

    def uuid(self) -> str:
        """The next id, lower-case."""
        self.issued += 1
        digest = self._hash.copy()
        digest.update(b"%d" % self.issued)
        return uuid4_text(digest.hexdigest())

    def number(self) -> int:
        """The next positive whole number of the same sequence (for codes and numbered names)."""
        self.issued += 1
        return self.issued

    def reset(self) -> None:
        self.issued = 0
