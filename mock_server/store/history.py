"""A member's transaction history as its page reads need it: filtered and ordered once per ledger revision.

A history page used to filter and sort the member's whole history on every read, and render every record
of the page anew, so its cost grew with the history: 100 more credits made a page of the same size about
20% slower. A `LedgerHistory` keeps, for one revision of a ledger (a `Ledger` record is immutable: a write
makes a new one), each filter's transactions in the order the read asks for, so a page is a slice; and the
JSON of the transactions already rendered (`routes/rendered.py`), carried over to the ledger's next revision
for the transactions it still holds (the same records, by identity).

Nothing is invalidated by hand: a write that changes a ledger commits a new `Ledger`, and a cached history
of the old one is never served for it (`HistoryCache.of` compares identities). The cache is the world's
(`World.history`), bounded, and a fork or a reset starts with an empty one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from mock_server.store.models import Ledger, Transaction

# (status, transactionType, descending): the filters and the direction the contract allows (None: no filter).
Selection = tuple[str | None, str | None, bool]

HISTORIES_KEPT = 1024  # ledgers; each holds its selections and the JSON of the records pages showed


def history_order(tx: Transaction) -> tuple[int, str]:
    """The history's order: by creation, ties by id (ids are unique, so the order is total)."""
    return tx.created_at, tx.id


class LedgerHistory:
    """One revision of one member's ledger, with its filtered orders made on first use."""

    __slots__ = ("_selections", "ledger", "rendered")

    def __init__(self, ledger: Ledger, rendered: dict[str, tuple[Transaction, int, Any]]) -> None:
        self.ledger = ledger
        # tx id -> (transaction, scale, its JSON): entries are used only for the very record they were made
        # from (identity), so the revisions of one ledger can share this dict.
        self.rendered = rendered
        self._selections: dict[Selection, tuple[Transaction, ...]] = {}

    def selection(self, status: str | None, kind: str | None, descending: bool) -> tuple[Transaction, ...]:
        """The ledger's transactions with that status and type (None: any), in history order or its reverse."""
        key = (status, kind, descending)
        found = self._selections.get(key)
        if found is None:
            matching = [tx for tx in self.ledger.transactions
                        if (status is None or tx.status == status) and (kind is None or tx.transaction_type == kind)]
            # Sorted, not reversed, for the descending order: the same computation a read did before the cache.
            found = self._selections[key] = tuple(sorted(matching, key=history_order, reverse=descending))
        return found


class HistoryCache:
    """The `LedgerHistory` of recently read ledgers, by (program id, contact id, definition index), LRU."""

    __slots__ = ("_entries", "_lock", "_size")

    def __init__(self, size: int = HISTORIES_KEPT) -> None:
        self._entries: OrderedDict[tuple[str, int, int], LedgerHistory] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()  # reads may come from several threads (the in-process test server)

    def of(self, program_id: str, contact_id: int, definition_index: int, ledger: Ledger) -> LedgerHistory:
        """The history of this revision of the ledger: kept, or made now (keeping the earlier revision's JSON)."""
        key = (program_id, contact_id, definition_index)
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None:
                self._entries.move_to_end(key)
                if kept.ledger is ledger:
                    return kept
        history = LedgerHistory(ledger, kept.rendered if kept is not None else {})
        with self._lock:
            self._entries[key] = history
            self._entries.move_to_end(key)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return history

    def __len__(self) -> int:
        return len(self._entries)
