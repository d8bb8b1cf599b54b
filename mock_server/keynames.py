"""What a per-key world (``--world-per-key``) is called, and how its key is shown.

A per-key world's organisation is named ``key-`` and 16 hex digits of a hash of
the key. The name is a pure function of the key: the same key reads the same
organisation after a restart (a durable log can key its records by it), and the
name gives nothing of the key away, which may be a real one sent by mistake.
Where a person needs to recognise a key (the admin page), `masked` shows a part.
"""

from __future__ import annotations

import re
from hashlib import blake2b

PER_KEY_ORGANISATION = re.compile(r"key-[0-9a-f]{16}")
SHOWN_TAIL = 4  # characters of a per-key key shown after its prefix, at most


def key_organisation(key: str) -> str:
    """The organisation of a per-key world: ``key-`` and 64 bits of the key's hash (collisions: ~1e-13 at 2,000)."""
    digest = blake2b(key.encode("utf-8", "surrogateescape"), digest_size=8, person=b"brevo-mock-key")
    return "key-" + digest.hexdigest()


def masked(key: str, prefix: str) -> str:
    """A per-key key as a person may see it: the prefix (the operator's choice, not a secret), then at most the
    last `SHOWN_TAIL` characters of the rest and never more than half of it: ``xkeysib-test-…-gw3``."""
    rest = key[len(prefix):]
    shown = min(SHOWN_TAIL, len(rest) // 2)
    return prefix + "…" + (rest[-shown:] if shown else "")
