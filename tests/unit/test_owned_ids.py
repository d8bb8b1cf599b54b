"""Seeded ids that lead back to their member (`uuid4_from(..., owner)` / `owner_of`)."""

from __future__ import annotations

import random
import uuid

from mock_server.seeding.random_source import owner_of, uuid4_from


def test_an_owned_id_is_a_version_4_uuid_that_names_its_owner() -> None:
    rng = random.Random(7)
    for owner in (0, 1, 67890, 2**32 - 1):
        made = uuid4_from(rng, owner)
        parsed = uuid.UUID(made)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, made)
        assert owner_of(made) == owner
        assert owner_of(made.upper()) == owner  # ids are read in any letter case


def test_owning_draws_the_same_random_numbers_so_the_rest_of_the_seeded_world_is_unchanged() -> None:
    plain, owned = random.Random(3), random.Random(3)
    uuid4_from(plain)
    uuid4_from(owned, 12345)
    assert plain.random() == owned.random()


def test_an_id_nobody_owns_rarely_names_a_member() -> None:
    rng = random.Random(11)
    claimed = sum(owner_of(uuid4_from(rng)) is not None for _ in range(20_000))
    assert claimed <= 5  # 1 in 65,536 expected: a false lead costs one member's generation, then a 404
    assert owner_of("not-a-uuid") is None and owner_of("") is None
