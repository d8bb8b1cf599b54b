"""Events reach listeners only for accepted writes, numbered in order, once per write."""

from __future__ import annotations

import pytest

from mock_server.backend import Backends
from mock_server.seeding import build_world


@pytest.fixture
def backends_and_seen() -> tuple[Backends, list[tuple[str, list[tuple[int, str]]]]]:
    world = build_world(seed=1, contacts=20)
    backends = Backends({world.organisation: world})
    seen: list[tuple[str, list[tuple[int, str]]]] = []
    backends.on_events(lambda organisation, events: seen.append((organisation, [(e.seq, e.name) for e in events])))
    return backends, seen


def test_an_accepted_write_hands_its_events_over_in_order(backends_and_seen) -> None:
    backends, seen = backends_and_seen
    backend = backends["default"]
    with backend.writing():
        backend.emit("balance_value_updated", "p1", 7)
        backend.emit("tier_association_updated", "p1", 7)
    assert seen == [("default", [(1, "balance_value_updated"), (2, "tier_association_updated")])]


def test_a_refused_write_emits_nothing_and_uses_no_number(backends_and_seen) -> None:
    backends, seen = backends_and_seen
    backend = backends["default"]
    with pytest.raises(ValueError), backend.writing():
        backend.emit("voucher_created", "p1", 7)
        raise ValueError("refused")
    with backend.writing():
        backend.emit("voucher_redeemed", "p1", 7)
    assert seen == [("default", [(1, "voucher_redeemed")])]


def test_a_nested_write_is_one_unit_with_the_outer_one(backends_and_seen) -> None:
    backends, seen = backends_and_seen
    backend = backends["default"]
    with backend.writing():
        with backend.writing():
            backend.emit("balance_value_expired", "p1", 7)
        assert seen == []  # not before the outer write is accepted
    assert seen == [("default", [(1, "balance_value_expired")])]
    assert backend.writes == 1


def test_reset_numbers_events_from_one_again(backends_and_seen) -> None:
    backends, seen = backends_and_seen
    backend = backends["default"]
    with backend.writing():
        backend.emit("subscription_created", "p1", 7)
    backend.reset()
    with backend.writing():
        backend.emit("subscription_created", "p1", 7)
    assert [batch[0][0] for _, batch in seen] == [1, 1]


def test_clock_listeners_hear_the_organisations_new_time() -> None:
    world = build_world(seed=1, contacts=20)
    backends = Backends({world.organisation: world})
    heard: list[tuple[str, int]] = []
    backends.on_clock(lambda organisation, now: heard.append((organisation, now)))
    backend = backends["default"]
    with backend.writing():
        backend.stamp()
    backend.clock_moved()
    assert heard == [("default", backend.clock.now())]
    assert backend.clock.now() == world.reference_now + 1000
