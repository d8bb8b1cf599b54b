"""`Prefix`: a tuple's stand-in that a ledger's revisions share, so that adding a record does not copy them all.

A ledger's history and its active balances were tuples, copied whole by every write that added one
record, and the previous revision's tuple released: O(history) a write, and dearer than its length says,
since both touch the reference count of every record, each in its own place of a heap that grows with the
writes (docs/performance.md, item 14). The revisions of a ledger now share one list that is only ever
appended to, and each sees its first `count` items, which never change: a revision is as immutable as a
tuple. Adding a record to the newest revision appends to the list (no other revision sees the new slot);
adding one to an older revision (a write that was refused after it appended, a record already extended
by another write) copies, as the tuple did.

Reads see a sequence that compares, hashes and slices like the tuple it stands for (a slice is a tuple).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar, overload

T = TypeVar("T")


class Prefix(Sequence[T]):
    """The first `count` items of a list that only grows: an immutable sequence, like a tuple."""

    __slots__ = ("_count", "_items")

    def __init__(self, items: list[T], count: int) -> None:
        self._items = items  # shared by the revisions of one record; appended to, never changed
        self._count = count

    def appended(self, item: T) -> Prefix[T]:
        """This sequence with `item` at its end (this one unchanged)."""
        items, count = self._items, self._count
        if len(items) == count:
            # list.append is atomic (the GIL): of writers racing for slot `count` (two organisations' forks
            # extending a shared record), exactly one finds its item there; the others copy below.
            items.append(item)
            if items[count] is item:
                return Prefix(items, count + 1)
        fresh = items[:count]
        fresh.append(item)
        return Prefix(fresh, count + 1)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self._items[: self._count][index])
        position = index + self._count if index < 0 else index
        if not 0 <= position < self._count:
            raise IndexError("Prefix index out of range")
        return self._items[position]

    def __iter__(self) -> Iterator[T]:
        return islice(self._items, self._count)  # stops at `count` whatever is appended meanwhile

    def __reversed__(self) -> Iterator[T]:
        return reversed(self._items[: self._count])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Prefix):
            return self._count == other._count and (self._items is other._items or tuple(self) == tuple(other))
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Prefix({tuple(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return Prefix, (list(self), self._count)


def appended(records: Sequence[T], item: T) -> Prefix[T]:
    """`records` (a tuple or a `Prefix`) with `item` at its end: shared when `records` is a newest `Prefix`,
    else one copy (after which the revisions that follow share it)."""
    if type(records) is Prefix:
        return records.appended(item)
    items = list(records)
    items.append(item)
    return Prefix(items, len(items))
