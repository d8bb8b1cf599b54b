"""`Prefix` (store/prefix.py): the revisions of a ledger share one growing list, and each must still read
exactly as the tuple it stands for, whichever revision a write extends and in what order."""

from __future__ import annotations

import copy
import pickle

from hypothesis import given
from hypothesis import strategies as st

from mock_server.store.prefix import Prefix, appended


def _reads_as(revision: object, expected: tuple[object, ...]) -> None:
    """Every way the mock reads a ledger's sequence gives what the tuple would."""
    assert isinstance(revision, (tuple, Prefix))
    assert tuple(revision) == expected and list(revision) == list(expected)
    assert len(revision) == len(expected) and bool(revision) == bool(expected)
    assert revision == expected and expected == revision
    assert hash(revision) == hash(expected)
    assert list(reversed(revision)) == list(reversed(expected))
    for index in range(-len(expected), len(expected)):
        assert revision[index] == expected[index]  # identity, for the `object()` items of most tests
    for outside in (len(expected), -len(expected) - 1):
        try:
            revision[outside]
        except IndexError:
            pass
        else:
            raise AssertionError(f"index {outside} of a sequence of {len(expected)} answered")
    assert revision[1:-1] == expected[1:-1] and revision[::-1] == expected[::-1]
    assert isinstance(revision[:], tuple)  # a slice is a plain tuple, as a tuple's is
    for item in expected:
        assert item in revision and revision.index(item) == expected.index(item)
    assert object() not in revision


@given(st.integers(0, 4), st.lists(st.integers(0, 60), max_size=40))
def test_every_revision_reads_as_its_tuple_whichever_revisions_are_extended(start, choices):
    """Appending to the newest revision shares the list; to an older one (as after a refused write, or a
    record two writes extend) copies: either way no revision ever sees another's items."""
    first = tuple(object() for _ in range(start))
    revisions: list[tuple[object, tuple[object, ...]]] = [(first, first)]
    for choice in choices:
        base, expected = revisions[choice % len(revisions)]
        item = object()
        revisions.append((appended(base, item), (*expected, item)))  # type: ignore[arg-type]
    for revision, expected in revisions:
        _reads_as(revision, expected)
    # Revisions made one after the other share one list: a write does not copy its history.
    chain = [appended(first, object())]
    for _ in range(5):
        chain.append(chain[-1].appended(object()))
    assert len({id(revision._items) for revision in chain}) == 1


def test_revisions_compare_by_content_not_by_list():
    one = appended((), "a").appended("b")
    other = appended(("a",), "b")
    assert one == other and hash(one) == hash(other) and one._items is not other._items
    assert one != appended(("a",), "c") and one != one.appended("c") and one != ["a", "b"]


def test_a_writer_that_loses_the_race_for_a_slot_copies_instead_of_taking_it():
    """Two forks extending one shared record: another append lands between the length check and ours."""

    class Raced(list):  # type: ignore[type-arg]
        def append(self, item: object) -> None:
            super().append("theirs")  # the other writer wins slot `count`
            super().append(item)

    shared = Raced(["a"])
    mine = Prefix(shared, 1).appended("mine")
    _reads_as(mine, ("a", "mine"))
    assert mine._items is not shared
    _reads_as(Prefix(shared, 2), ("a", "theirs"))  # the winner's revision is intact


def test_a_revision_survives_copying_and_pickling():
    revision = appended(("a", "b"), "c")
    for twin in (copy.copy(revision), copy.deepcopy(revision), pickle.loads(pickle.dumps(revision))):
        _reads_as(twin, ("a", "b", "c"))
