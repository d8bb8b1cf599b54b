"""The one seeded random source of a world, and the values derived from it.

Everything random in a world comes from a single `random.Random` seeded by
(seed, organisation). Faker is seeded from it, and so is a salt from which
per-member generators are derived: a member's transactions and vouchers are
drawn from ``derive(salt, program, contact, slot)``, so they can be produced
lazily, in any order, and always come out the same. Hashing uses BLAKE2, never
Python's `hash()` (which changes between processes).
"""

from __future__ import annotations

import random
from hashlib import blake2b

from faker import Faker

_DIGITS = "0123456789"
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: they read like 1 and 0 on a voucher


def _seed_from(*parts: object) -> int:
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(blake2b(text.encode(), digest_size=16).digest(), "big")


def uuid4_from(rng: random.Random, owner: int | None = None) -> str:
    """A random (version 4) UUID drawn from `rng`, lower-case.

    With `owner` (a contact id), the UUID also carries it, scrambled (`owner_of` reads it back): a
    seeded member's transactions and vouchers are generated on demand, and this is how a write that
    names one of them by id alone finds its member without generating every member.
    """
    value = rng.getrandbits(128)
    value = (value & ~(0xF << 76)) | (0x4 << 76)  # version 4
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    if owner is not None and 0 <= owner < 1 << 32:
        high = value >> 64
        value = (value & ~_LOW_48) | ((_check(high, owner) << 32 | owner) ^ _mix(high))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def owner_of(uuid_text: str) -> int | None:
    """The contact id `uuid4_from(..., owner=...)` put in this UUID, or None (any other UUID, but 1 in 65,536)."""
    try:
        value = int(uuid_text.replace("-", ""), 16)
    except ValueError:
        return None
    if len(uuid_text) != 36:
        return None
    high = value >> 64
    packed = (value & _LOW_48) ^ _mix(high)
    owner = packed & 0xFFFFFFFF
    return owner if packed >> 32 == _check(high, owner) else None


_LOW_48 = (1 << 48) - 1
_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """48 well-mixed bits of a 64-bit value (splitmix64's finaliser): cheap, and not meant to be secret."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return (x ^ (x >> 31)) & _LOW_48


def _check(high: int, owner: int) -> int:
    return _mix(high ^ (owner * 0x9E3779B97F4A7C15 & _M64)) & 0xFFFF


def fill_pattern(pattern: str, rng: random.Random) -> str:
    """A code following `pattern`: '#' becomes a digit, '?' an upper-case letter."""
    return "".join(
        rng.choice(_DIGITS) if char == "#" else rng.choice(_LETTERS) if char == "?" else char for char in pattern
    )


def fill_digits(pattern: str, number: int) -> str:
    """`pattern` with its '#' replaced by the digits of `number`, zero-padded, in order."""
    width = pattern.count("#")
    digits = iter(f"{number:0{width}d}"[-width:] if width else "")
    return "".join(next(digits) if char == "#" else char for char in pattern)


class Source:
    """The world's random stream, with Faker and the salt for member generators."""

    __slots__ = ("faker", "rng", "salt")

    def __init__(self, seed: int, organisation: str) -> None:
        self.rng = random.Random(_seed_from("world", seed, organisation))
        self.faker = Faker("en_US")
        self.faker.seed_instance(self.rng.getrandbits(64))
        self.salt = self.rng.getrandbits(64)

    def uuid(self) -> str:
        return uuid4_from(self.rng)

    def between(self, start: int, end: int) -> int:
        """A moment in [start, end) (start itself when the window is empty)."""
        return start if end <= start else start + int(self.rng.random() * (end - start))



def member_random(salt: int, program_index: int, contact_id: int, slot: str) -> random.Random:
    """The generator for one part (a balance definition, the vouchers) of one member."""
    return random.Random(_seed_from(salt, program_index, contact_id, slot))
