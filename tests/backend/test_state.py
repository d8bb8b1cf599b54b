"""The backend's own guarantees, whatever the area: forks, reset, clock, ids, atomic writes, swapping worlds."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from mock_server.backend import Backend, Backends
from mock_server.backend.clock import TICK, Clock
from mock_server.backend.ids import IdSource
from mock_server.errors import InvalidParameter, UnknownResource
from mock_server.seeding import build_world
from mock_server.store.models import Ledger, Member

WORLD = build_world(seed=1, contacts=30)


def _first_member(backend: Backend) -> tuple[str, Member]:
    data = next(d for d in backend.world.programs if len(d.members))
    return data.id, backend.world.member_at(data, 0)


def _credited(member: Member, definition_index: int, amount: int, moment: int) -> Member:
    ledgers = list(member.ledgers)
    old = ledgers[definition_index]
    ledgers[definition_index] = Ledger(old.balance_definition_id, old.value + amount, moment, old.transactions,
                                       old.active_balances)
    return replace(member, ledgers=tuple(ledgers))


def test_a_fork_takes_changes_the_seeded_world_never_sees():
    backend = Backend(WORLD)
    pid, member = _first_member(backend)
    data = backend.writable(backend.program(pid))
    backend.put_member(data, _credited(member, 0, 500, WORLD.reference_now))

    changed = backend.world.member(backend.world.program(pid), member.contact_id)
    assert changed.ledgers[0].value == member.ledgers[0].value + 500
    assert WORLD.member(WORLD.program(pid), member.contact_id).ledgers[0].value == member.ledgers[0].value
    # Another organisation's backend over the same seeded world sees nothing of it.
    assert Backend(WORLD).world.member(WORLD.program(pid), member.contact_id) == member


def test_the_member_table_follows_a_member_change_in_value_and_order():
    backend = Backend(WORLD)
    pid, member = _first_member(backend)
    data = backend.writable(backend.program(pid))
    top = max(data.members.values[0])
    backend.put_member(data, _credited(member, 0, top + 1, WORLD.reference_now + TICK))

    table = backend.world.program(pid).members
    position = table.position(member.contact_id)
    assert table.values[0][position] == member.ledgers[0].value + top + 1
    assert table.order(0, "value")[-1] == position  # now the highest balance
    assert table.order(0, "updatedAt")[-1] == position  # and the latest change
    values = [table.values[0][p] for p in table.order(0, "value")]
    assert values == sorted(values)
    # The seeded table is untouched.
    assert WORLD.program(pid).members.values[0][position] == member.ledgers[0].value


def test_reset_returns_to_the_seeded_world_clock_and_ids():
    backend = Backend(WORLD)
    pid, member = _first_member(backend)
    first_ids = [backend.new_id() for _ in range(3)]
    with backend.writing():
        moment = backend.stamp()
        data = backend.writable(backend.program(pid))
        backend.put_member(data, _credited(member, 0, 7, moment))
    assert moment == WORLD.reference_now + TICK
    backend.reset()
    assert backend.world.member(backend.world.program(pid), member.contact_id) == member
    assert backend.clock.now() == WORLD.reference_now
    assert [backend.new_id() for _ in range(3)] == first_ids
    assert backend.writes == 0


def test_a_refused_write_leaves_no_tick_and_no_id_behind():
    backend = Backend(WORLD)
    before_now, before_id = backend.clock.now(), IdSource(WORLD.seed, WORLD.organisation).uuid()
    with pytest.raises(InvalidParameter), backend.writing():
        backend.stamp()
        backend.new_id()
        raise InvalidParameter("refused after taking its moment")
    assert backend.clock.now() == before_now
    assert backend.new_id() == before_id
    assert backend.writes == 0


def test_ids_are_uuids_from_seed_organisation_and_sequence():
    a, b = IdSource(1, "acme"), IdSource(1, "acme")
    assert [a.uuid() for _ in range(5)] == [b.uuid() for _ in range(5)]
    assert IdSource(1, "acme").uuid() != IdSource(1, "globex").uuid() != IdSource(2, "acme").uuid()
    first = IdSource(1, "acme").uuid()
    assert len(first) == 36 and first[14] == "4" and first == first.lower()


def test_the_logical_clock_ticks_per_write_and_the_real_one_never_goes_back():
    clock = Clock(1_000)
    assert (clock.now(), clock.tick(), clock.tick(), clock.now()) == (1_000, 1_000 + TICK, 1_000 + 2 * TICK,
                                                                    1_000 + 2 * TICK)
    real = Clock(0, "real")
    first = real.now()
    assert first > 0 and real.tick() >= first
    with pytest.raises(ValueError, match="clock mode"):
        Clock(0, "sundial")  # type: ignore[arg-type]


def test_unknown_program_is_a_404_naming_the_parameter():
    with pytest.raises(UnknownResource, match="pid"):
        Backend(WORLD).program("00000000-0000-4000-8000-000000000000")


def test_member_changes_need_a_writable_program():
    backend = Backend(WORLD)
    pid, member = _first_member(backend)
    with pytest.raises(RuntimeError, match="writable"):
        backend.put_member(backend.program(pid), member)


def test_backends_are_made_on_first_use_and_reset_one_organisation_or_all():
    worlds = {"acme": build_world(seed=1, contacts=5, organisation="acme"),
              "globex": build_world(seed=1, contacts=5, organisation="globex")}
    backends = Backends(worlds)
    assert backends["acme"] is backends["acme"]
    with pytest.raises(KeyError):
        backends["initech"]
    for name in ("acme", "globex"):
        backends[name].new_id()
    backends.reset("acme")
    assert (backends["acme"].ids.issued, backends["globex"].ids.issued) == (0, 1)
    backends.reset()
    assert backends["globex"].ids.issued == 0


def test_replacing_worlds_never_shows_a_reader_a_missing_organisation():
    small = {"default": build_world(seed=1, contacts=2)}
    other = {"default": build_world(seed=2, contacts=2)}
    backends = Backends(small)
    stop = threading.Event()
    failures: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                assert backends["default"].world.programs
            except BaseException as error:
                failures.append(error)
                return

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for turn in range(300):
        backends.replace_worlds(other if turn % 2 else small)
    stop.set()
    for reader in readers:
        reader.join()
    assert failures == []
    assert backends["default"].base is other["default"]  # the last one given (turn 299)


def test_configuration_written_later_never_rewrites_an_untouched_members_history():
    from mock_server.store.models import Reward

    backend = Backend(WORLD)
    data = next(d for d in backend.world.programs if len(d.members) and d.rewards and d.definitions)
    contact = data.members.contact_ids[0]
    before = backend.world.member(data, contact)
    definition = data.definitions[0]
    reward = data.rewards[0]
    # A definition whose credits now never expire, and one more live reward: a new revision of the program.
    changed = data.replace(
        definitions=(replace(definition, duration_value=None, duration_unit=None), *data.definitions[1:]),
        rewards=(*data.rewards, replace(reward, id="00000000-0000-4000-8000-00000000abcd", state="active")),
    )
    backend.put_program(changed)
    after = backend.world.member(backend.world.program(data.id), contact)
    assert isinstance(changed.rewards[-1], Reward)
    assert after.ledgers == before.ledgers and after.vouchers == before.vouchers
