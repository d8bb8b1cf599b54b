"""The mock with the benchmark's write reduced to its first answer: the ceiling of the transaction begin.

    python -m bench.write_ceiling serve --port 8100 --contacts 1000 --no-access-log

The same server as `brevo-loyalty-mock serve`, with one difference: the handler of `beginTransaction`
makes its backend call once, for the first request, and answers every later one with a copy of that
first answer. Everything else a write pays is the mock's own: the socket, the protocol, the key check,
the rate limit, the body's parse and contract check, the journal, the answer's rendering. So its
throughput bounds what the write could reach with a domain step (rules, records, caches) that cost
nothing, and the difference with the real write is what that step costs served.

For the benchmark only (bench/write_runner.py): nothing in the product imports it.
"""

from __future__ import annotations

import sys
from typing import Any

from mock_server.backend import Backend
from mock_server.routes import Params, WriteHandler, balance

OPERATION = "beginTransaction"


def first_answer_only(handler: WriteHandler) -> WriteHandler:
    """`handler`, called once; then a fresh copy of its first answer for every request."""
    first: list[Any] = []

    def answer(backend: Backend, params: Params, body: Any) -> Any:
        if not first:
            first.append(handler(backend, params, body))
        return dict(first[0])  # a new dict each time, as the real handler builds one

    return answer


def main(argv: list[str] | None = None) -> int:
    # Replaced in the table the app collects its write handlers from when it is made (routes.all_write_handlers).
    balance.WRITE_HANDLERS[OPERATION] = first_answer_only(balance.WRITE_HANDLERS[OPERATION])
    from mock_server.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
