"""The mock in a thread must not make a test fail on CPython's ast.parse race (cpython#106905)."""

from __future__ import annotations

import ast
import difflib
import gc
import random
import threading
from pathlib import Path

from mock_server import ast_guard


def test_the_affected_versions_are_the_ones_before_the_fix() -> None:
    assert ast_guard.affected((3, 11, 7)) and ast_guard.affected((3, 12, 1))
    assert not ast_guard.affected((3, 11, 8)) and not ast_guard.affected((3, 12, 2))
    assert not ast_guard.affected((3, 13, 0)) and not ast_guard.affected((3, 10, 14))


def test_parsing_in_threads_while_collections_run_python_code_raises_nothing() -> None:
    """The issue's reproducer, scaled down: a gc callback lets other threads run in the middle of a parse.

    On 3.11.7 without the guard this raises SystemError within a second; with it, never.
    """
    ast_guard.install()
    source = Path(ast.__file__).read_text()  # a long module: many collections during one parse
    errors: list[BaseException] = []

    def collect_noise(phase: str, info: dict[str, int]) -> None:
        lines = [f"{random.randint(0, 10)}\n" for _ in range(100)]
        list(difflib.unified_diff(lines, sorted(lines)))

    def parse_repeatedly() -> None:
        try:
            for _ in range(4):
                ast.parse(source)
        except SystemError as error:
            errors.append(error)

    gc.callbacks.append(collect_noise)
    try:
        threads = [threading.Thread(target=parse_repeatedly) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.callbacks.remove(collect_noise)
    assert errors == []


def test_a_parse_made_by_a_collection_in_the_middle_of_a_parse_raises_nothing() -> None:
    """The same race within one thread: code a collection runs (a finalizer, a hook formatting a traceback of an
    ignored exception, which parses on 3.11) parsing while the thread's own parse builds its tree."""
    ast_guard.install()
    source = Path(ast.__file__).read_text()
    errors: list[BaseException] = []

    def parse_inside(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            try:
                ast.parse("x = (1 + (2 * (3 - 4)))\n")
            except SystemError as error:
                errors.append(error)

    gc.callbacks.append(parse_inside)
    try:
        for _ in range(4):
            try:
                ast.parse(source)
            except SystemError as error:
                errors.append(error)
    finally:
        gc.callbacks.remove(parse_inside)
    assert errors == []
