"""Every malformed request of the corpus gets a 4xx in Brevo's error shape, naming the problem.

Each app-level case is sent twice: in-process to the ASGI app, and as raw bytes
over a socket to the real command (`brevo-loyalty-mock serve`, same seed and
world); both must give the case's status and code, and the very same body.
HTTP-level cases (not HTTP/1.1, or past a limit of docs/limits.md) only go over
the socket, where the server refuses them with the same error shape. The server
must answer all of it without a 5xx, a traceback in a body or in its log, and
still be up at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.settings import Settings
from tests.cli.proc import Served, serving
from tests.hostile.corpus import CATEGORIES, Case, baseline, contract, corpus, fill, ids_from_summary, summary
from tests.hostile.wire import (
    TRACEBACK_MARKERS,
    assert_error_answer,
    in_process,
    over_socket,
    request_bytes,
    scope_for,
)
from tests.support.operations import read_operations

SEED, CONTACTS = 1, 50
CASES = corpus()
APP_CASES = [case for case in CASES if case.level == "app"]


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app(Settings(seed=SEED, contacts=CONTACTS, access_log=False))


@pytest.fixture(scope="module")
def ids(app: Any) -> dict[str, str]:
    return ids_from_summary(app.state.mock.worlds["default"].summary())


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    with serving("--seed", str(SEED), "--contacts", str(CONTACTS), "--no-access-log") as served:
        yield served
    assert served.returncode == 0, served.stderr.text


def test_the_corpus_covers_every_category_and_operation() -> None:
    found = summary()
    assert found.total >= 100
    assert set(found.by_category) == set(CATEGORIES), set(CATEGORIES) ^ set(found.by_category)
    assert found.operations == set(read_operations(contract()))  # the corpus is about reads (see corpus.py)
    assert found.by_level["http"] >= 15


@pytest.mark.parametrize("operation_id", sorted(read_operations(contract())))
def test_every_baseline_is_a_valid_request(app: Any, ids: dict[str, str], operation_id: str) -> None:
    """The generated cases change one parameter of these requests: they must be valid as they are."""
    path, query = baseline(contract().operations[operation_id])
    target = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    case = Case("baseline", "baseline", target, 200, "")
    answer = in_process(app, scope_for(case, ids))
    assert answer.status == 200, (operation_id, fill(target, ids), answer.body[:300])


@pytest.mark.parametrize("case", APP_CASES, ids=[case.name for case in APP_CASES])
def test_in_process(app: Any, ids: dict[str, str], case: Case) -> None:
    assert_error_answer(in_process(app, scope_for(case, ids), case.body), case)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_over_a_socket(server: Served, app: Any, ids: dict[str, str], case: Case) -> None:
    answer = over_socket(server.port, request_bytes(case, ids))
    assert_error_answer(answer, case)
    if case.level == "app":
        assert answer.body == in_process(app, scope_for(case, ids), case.body).body
    else:
        assert answer.closed, f"{case.name}: the connection should be closed after a refusal"


def test_the_server_is_still_up_and_logged_no_traceback(server: Served) -> None:
    case = Case("health", "-", "/__mock__/health", 200, "", api_key=False)
    assert over_socket(server.port, request_bytes(case, {})).json()["status"] == "ok"
    log = server.stderr.text.encode()
    for marker in TRACEBACK_MARKERS[:2]:
        assert marker not in log, server.stderr.text[-3000:]
    assert b"ERROR" not in log, server.stderr.text[-3000:]
    assert server.process.poll() is None


@pytest.mark.parametrize("param", ["pid", "bdid", "blid", "gid", "rid", "cpid"])
def test_an_upper_case_id_names_the_same_record(app: Any, ids: dict[str, str], param: str) -> None:
    """UUIDs are read case-insensitively (RFC 4122), everywhere alike: upper case answers as lower case."""
    # Reads on this shared app; writes (which change the world) in tests/api/test_parameters.py.
    for operation in read_operations(contract()).values():
        if param not in {p.name for p in operation.path_params}:
            continue
        path, query = baseline(operation)
        target = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        lower = in_process(app, scope_for(Case("lower", "-", target, 200, ""), ids))
        upper_target = target.replace("{" + param + "}", "{" + param + "|upper}")
        upper = in_process(app, scope_for(Case("upper", "-", upper_target, 200, ""), ids))
        assert lower.status == 200 and upper.status == 200, (operation.operation_id, upper.body[:200])
        assert upper.body == lower.body, operation.operation_id
