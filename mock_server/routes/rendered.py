"""Static records rendered to JSON once per world, then reused by every answer.

A world never changes once built, so a program or a balance definition
renders to the same bytes on every request. The first answer that needs a
record renders it and keeps the bytes on its `ProgramData`; later answers
embed them as an `orjson.Fragment`, which `orjson.dumps` copies as they are.
The answer is byte for byte what rendering the record again would give.

Only records whose number is fixed by the world's configuration are kept
(programs, balance definitions): members and their transactions are not, so
the memory stays that of the configuration, whatever the number of contacts.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import orjson

from mock_server.store.world import ProgramData


def rendered(data: ProgramData, key: Hashable, render: Callable[[], Any]) -> orjson.Fragment:
    """The JSON of `render()`, rendered the first time `key` is asked for in this program."""
    fragment = data.rendered.get(key)
    if fragment is None:
        fragment = data.rendered[key] = orjson.Fragment(orjson.dumps(render()))
    return fragment
