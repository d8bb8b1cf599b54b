"""A guard for a CPython bug that the in-process server can trigger: ast.parse in two threads at once.

CPython 3.11.0-3.11.7 and 3.12.0-3.12.1 keep the depth counter of `ast.parse`'s tree
construction in interpreter-wide state. When a garbage collection during one parse lets
another thread run its own parse, the counter is corrupted and one of them raises
``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905, fixed
in 3.11.8 and 3.12.2 by python/cpython#113035).

A test process that runs the mock in a thread (`mock_server.testing.running_mock`, the
pytest plugin) has two threads that may parse: pytest rewrites the asserts of modules it
imports lazily (the mock's own modules included), and hypothesis parses source to describe
strategies. A collection in the middle of a parse can also run code that parses in the same
thread (a finalizer, or the hook that prints an ignored exception's traceback: 3.11 parses the
source line to underline it). On the affected versions, `install()` serialises `ast.parse` and
holds the collector off during each parse; elsewhere it does nothing. Parsing is rare and short,
so neither costs anything measurable.
"""

from __future__ import annotations

import ast
import functools
import gc
import sys
import threading
from typing import Any

_lock = threading.RLock()


def affected(version: tuple[int, int, int] = sys.version_info[:3]) -> bool:
    """Whether this Python has the race (cpython#106905)."""
    return (3, 11, 0) <= version < (3, 11, 8) or (3, 12, 0) <= version < (3, 12, 2)


def install() -> None:
    """Serialise `ast.parse` on the affected versions (idempotent)."""
    if not affected() or getattr(ast.parse, "serialised_by_brevo_mock", False):
        return
    original = ast.parse

    @functools.wraps(original)
    def parse(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            # Nor may a collection run in the middle: code it runs (a finalizer, the hook that formats the traceback
            # of an ignored exception) can parse in this very thread, which the lock lets through.
            collecting = gc.isenabled()
            gc.disable()
            try:
                return original(*args, **kwargs)
            finally:
                if collecting:
                    gc.enable()

    parse.serialised_by_brevo_mock = True  # type: ignore[attr-defined]
    ast.parse = parse  # type: ignore[assignment]
