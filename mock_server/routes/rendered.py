"""Static records rendered to JSON once per world, then reused by every answer.

A world never changes once built, so a program or a balance definition
renders to the same bytes on every request. The first answer that needs a
record renders it and keeps the bytes on its `ProgramData`; later answers
embed them as an `orjson.Fragment`, which `orjson.dumps` copies as they are.
The answer is byte for byte what rendering the record again would give.

Only records whose number is fixed by the world's configuration are kept on
the program (programs, balance definitions), so that memory stays that of the
configuration, whatever the number of contacts. Transactions a history page
showed are kept on their ledger's `LedgerHistory` (store/history.py), which
the world keeps for a bounded number of recently read ledgers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import orjson

from mock_server.store.history import LedgerHistory
from mock_server.store.models import Transaction
from mock_server.store.world import ProgramData


def rendered(data: ProgramData, key: Hashable, render: Callable[[], Any]) -> orjson.Fragment:
    """The JSON of `render()`, rendered the first time `key` is asked for in this program."""
    fragment = data.rendered.get(key)
    if fragment is None:
        fragment = data.rendered[key] = orjson.Fragment(orjson.dumps(render()))
    return fragment


def rendered_transaction(history: LedgerHistory, tx: Transaction, scale: int,
                         render: Callable[[Transaction, int], Any]) -> orjson.Fragment:
    """The JSON of `render(tx, scale)`, rendered the first time this very record is shown at this scale."""
    kept = history.rendered.get(tx.id)
    if kept is not None and kept[0] is tx and kept[1] == scale:
        fragment: orjson.Fragment = kept[2]
        return fragment
    fragment = orjson.Fragment(orjson.dumps(render(tx, scale)))
    history.rendered[tx.id] = (tx, scale, fragment)
    return fragment
