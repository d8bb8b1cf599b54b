"""`serve --workers 2` with writes: any worker answers with every write acknowledged before, ids are unique.

Each check opens many new connections; the kernel hands each to either worker (they accept on one
socket), so a worker that had not applied the other's writes would answer some of them wrongly.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from mock_server.cli import SHARED_DIR_PREFIX, shared_dir_parent
from mock_server.webhooks.receiver import Receiver
from tests.api.support import API_KEY
from tests.cli.proc import Served, serving
from tests.durability.support import MEMBER, PID

FLAGS = ("--workers", "2", "--contacts", "8", "--fixture", "widget-member", "--rate-limit", "100000/hour",
         "--world-per-key", "xkeysib-test-")
NEW_CONNECTIONS = 24


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Served]:
    with serving(*FLAGS) as server:
        yield _both_up(server)


def _both_up(server: Served) -> Served:
    for _ in range(2):  # each worker logs its start-up (uvicorn, at info level)
        server.wait_for(r"(?s)(Application startup complete.*){2}", stream="stderr", timeout=60)
    return server


def _request(port: int, method: str, target: str, body: object = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    """One request on a new connection (so on either worker)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        sent = {"api-key": API_KEY, "content-type": "application/json", **(headers or {})}
        connection.request(method, target, None if body is None else orjson.dumps(body), sent)
        answer = connection.getresponse()
        return answer.status, answer.read(), {k.lower(): v for k, v in answer.getheaders()}
    finally:
        connection.close()


def _account(port: int, contact: int) -> int:
    return _request(port, "GET", f"/v3/loyalty/config/programs/{PID}/account-info?contactId={contact}")[0]


def _points(port: int) -> str:
    status, body, _ = _request(port, "GET", f"/v3/loyalty/balance/programs/{PID}/balance-definitions")
    assert status == 200
    return orjson.loads(body)["items"][0]["id"]


def test_a_write_through_one_worker_is_read_through_every_connection(two_workers: Served) -> None:
    port = two_workers.port
    status, body, _ = _request(port, "POST", f"/v3/loyalty/config/programs/{PID}/subscriptions",
                               {"contactId": 900_001})
    assert status == 200, body
    assert [_account(port, 900_001) for _ in range(NEW_CONNECTIONS)] == [200] * NEW_CONNECTIONS


def test_writes_from_both_workers_get_unique_ids_and_all_count(two_workers: Served) -> None:
    port, points = two_workers.port, _points(two_workers.port)
    ids: list[str] = []

    def credit(n: int) -> None:
        for _ in range(n):
            status, body, _ = _request(port, "POST", f"/v3/loyalty/balance/programs/{PID}/transactions", {
                "contactId": MEMBER, "balanceDefinitionId": points, "amount": 2, "autoComplete": True})
            assert status == 200, body
            ids.append(orjson.loads(body)["id"])

    before = _balance(port, points)
    threads = [threading.Thread(target=credit, args=(10,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(ids) == 40 and len(set(ids)) == 40
    for _ in range(NEW_CONNECTIONS // 2):  # every worker has every credit, none twice
        assert _balance(port, points) == before + 80
    status, body, _ = _request(port, "GET", f"/v3/loyalty/balance/programs/{PID}/transaction-history"
                               f"?contactId={MEMBER}&balanceDefinitionId={points}&limit=500&offset=0")
    assert status == 200 and set(ids) <= {tx["id"] for tx in orjson.loads(body)["transactionHistory"]}


def _balance(port: int, points: str) -> float:
    status, body, _ = _request(port, "GET", f"/v3/loyalty/balance/programs/{PID}/subscriptions/{MEMBER}/balances")
    assert status == 200, body
    return next(entry["value"] for entry in orjson.loads(body)["balance"] if entry["balanceDefinitionId"] == points)


def test_the_rate_limit_counts_every_workers_requests(two_workers: Served) -> None:
    remaining = [int(_request(two_workers.port, "GET", "/v3/loyalty/config/programs")[2]["x-sib-ratelimit-remaining"])
                 for _ in range(NEW_CONNECTIONS)]
    assert remaining == sorted(remaining, reverse=True) and len(set(remaining)) == NEW_CONNECTIONS


def _reset(port: int) -> None:
    status, _, _ = _request(port, "POST", "/__mock__/reset", headers={"X-Brevo-Mock": "1"})
    assert status == 200


def test_a_reset_through_one_worker_holds_on_every_connection(two_workers: Served) -> None:
    port = two_workers.port
    _reset(port)
    status, body, _ = _request(port, "POST", f"/v3/loyalty/config/programs/{PID}/subscriptions",
                               {"contactId": 900_002})
    assert status == 200, body
    _reset(port)
    unknown = _account(port, 900_099)  # what a contact that is no member gets
    assert unknown != 200
    assert [_account(port, 900_002) for _ in range(NEW_CONNECTIONS)] == [unknown] * NEW_CONNECTIONS
    # ... and the ids start again from the seeded world's, on whichever worker takes the next write.
    status, again, _ = _request(port, "POST", f"/v3/loyalty/config/programs/{PID}/subscriptions",
                                {"contactId": 900_002})
    assert status == 200
    assert orjson.loads(again)["loyaltySubscriptionId"] == orjson.loads(body)["loyaltySubscriptionId"]


def _subscribe(port: int, contact: int) -> None:
    status, body, _ = _request(port, "POST", f"/v3/loyalty/config/programs/{PID}/subscriptions", {"contactId": contact})
    assert status == 200, body


def test_workers_on_a_state_file_keep_their_writes_over_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    with serving("--state", str(state), *FLAGS) as server:
        _subscribe(_both_up(server).port, 900_003)
        alone = serving("--state", str(state), "--contacts", "8", "--fixture", "widget-member")
        with pytest.raises(AssertionError, match="in use by another running mock"), alone:
            pass
    with serving("--state", str(state), "--contacts", "8", "--fixture", "widget-member") as server:
        assert _account(server.port, 900_003) == 200


def _reset_journal(port: int) -> None:
    # A worker journals a request just after sending its answer: give the last one that moment, so that
    # the reset (which drops the entries recorded before it) comes after it.
    time.sleep(0.1)
    _reset(port)


def test_the_journal_shows_every_workers_requests_and_a_reset_clears_them_all(two_workers: Served) -> None:
    port = two_workers.port
    _reset_journal(port)
    targets = [f"/v3/loyalty/config/programs?offset={n}" for n in range(NEW_CONNECTIONS)]
    for target in targets:
        assert _request(port, "GET", target)[0] in (200, 204)
    for _ in range(4):  # whichever worker answers the journal
        status, body, _ = _request(port, "GET", "/__mock__/requests")
        assert status == 200
        seen = [f"{entry['path']}?{entry['query']}" for entry in orjson.loads(body)["requests"]]
        assert seen == targets
    _reset_journal(port)
    status, body, _ = _request(port, "GET", "/__mock__/requests")
    assert orjson.loads(body)["count"] == 0


def test_a_per_key_key_sees_and_clears_its_own_requests_on_every_worker(two_workers: Served) -> None:
    port = two_workers.port
    _reset_journal(port)
    keys = ("xkeysib-test-w1", "xkeysib-test-w2")
    for n in range(NEW_CONNECTIONS):  # new connections: both workers answer each key
        assert _request(port, "GET", f"/v3/loyalty/config/programs?offset={n}", headers={"api-key": keys[n % 2]}
                        )[0] in (200, 204)

    def seen(key: str) -> list[str]:
        status, body, _ = _request(port, "GET", "/__mock__/requests", headers={"api-key": key})
        assert status == 200
        return [entry["query"] for entry in orjson.loads(body)["requests"]]

    assert seen(keys[0]) == [f"offset={n}" for n in range(0, NEW_CONNECTIONS, 2)]
    time.sleep(0.1)  # the last answer's entry is recorded just after it is sent
    assert _request(port, "POST", "/__mock__/reset", headers={"api-key": keys[0], "X-Brevo-Mock": "1"})[0] == 200
    for _ in range(4):  # whichever worker answers
        assert seen(keys[0]) == []
        assert seen(keys[1]) == [f"offset={n}" for n in range(1, NEW_CONNECTIONS, 2)]


def test_an_endpoint_added_through_one_worker_gets_the_events_of_every_worker(two_workers: Served) -> None:
    port, admin = two_workers.port, {"X-Brevo-Mock": "1"}
    with Receiver() as receiver:
        status, body, _ = _request(port, "POST", "/__mock__/webhooks",
                                   {"url": receiver.url, "events": ["subscription_created"]}, admin)
        assert status == 201, body
        try:
            contacts = range(910_001, 910_001 + NEW_CONNECTIONS)  # new connections: both workers take some
            for contact in contacts:
                status, body, _ = _request(port, "POST", f"/v3/loyalty/config/programs/{PID}/subscriptions",
                                           {"contactId": contact})
                assert status == 200, body
            delivered = receiver.wait_count(NEW_CONNECTIONS, timeout=20)
            assert sorted(payload["contact_id"] for payload in delivered) == list(contacts)
        finally:
            assert _request(port, "DELETE", "/__mock__/webhooks", None, admin)[0] == 200


def test_a_retry_fires_when_the_other_worker_moves_the_clock_and_every_worker_journals_it(two_workers: Served
                                                                                          ) -> None:
    """The worker that posted an event holds its retries; the clock moved through the other worker (the holder
    taking no request meanwhile) still brings each one, and either worker's journal shows every attempt, until a
    reset through either."""
    port = two_workers.port
    headers = {"api-key": "xkeysib-test-retries", "X-Brevo-Mock": "1"}  # a world of its own: its clock is ours
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30)]

    def call(connection: http.client.HTTPConnection, method: str, target: str, body: object = None) -> object:
        connection.request(method, target, None if body is None else orjson.dumps(body),
                           {**headers, "content-type": "application/json"})
        answer = connection.getresponse()
        payload = answer.read()
        assert answer.status in (200, 201), payload
        return orjson.loads(payload)

    with Receiver(answer=lambda payload: 429) as receiver:
        call(connections[0], "POST", "/__mock__/webhooks", {"url": receiver.url, "events": ["subscription_created"]})
        try:
            call(connections[0], "POST", f"/v3/loyalty/config/programs/{PID}/subscriptions", {"contactId": 920_001})
            receiver.wait_count(1, timeout=10)
            # A kept-alive connection stays with its worker: the one that took the write posted the event and
            # holds its retry (once the 429's outcome reached it). New connections until one reaches the other.
            holder = connections[0]
            holder_pid = _worker(call, holder)
            assert _eventually(lambda: _retries_by_worker(call, holder).get(holder_pid) == 1)
            other = None
            while other is None and len(connections) < 200:
                connections.append(http.client.HTTPConnection("127.0.0.1", port, timeout=30))
                other = connections[-1] if _worker(call, connections[-1]) != holder_pid else None
            assert other is not None, "no new connection reached the other worker"
            # Either worker counts the retry the holder keeps: `pending` adds up every worker's.
            assert _retries_by_worker(call, other) == {holder_pid: 1, _worker(call, other): 0}
            assert _pending_retries(call, other) == 1
            for attempts, step in enumerate(("PT10M", "PT1H", "PT2H", "PT8H"), start=2):
                call(other, "POST", "/__mock__/clock", {"advance": step})
                assert len(receiver.wait_count(attempts, timeout=10)) == attempts
            assert _eventually(lambda: _pending_retries(call, other) == 0)  # the fifth attempt was the last
            expected = [(1, "retry_scheduled"), (2, "retry_scheduled"), (3, "retry_scheduled"),
                        (4, "retry_scheduled"), (5, "gave_up")]
            for connection in (holder, other):  # (the last outcome reaches the holder just after the post)
                assert _eventually(lambda connection=connection: [  # type: ignore[misc]
                    (row["attempt"], row["outcome"])
                    for row in call(connection, "GET", "/__mock__/webhooks/deliveries")["deliveries"]  # type: ignore[index]
                ] == expected)
            call(other, "POST", "/__mock__/reset")  # the holder has not applied it when it is asked next
            for connection in (holder, other):
                assert call(connection, "GET", "/__mock__/webhooks/deliveries")["deliveries"] == []  # type: ignore[index]
            # A retry waiting in the holder when the other worker takes a reset: no worker counts it any more.
            call(holder, "POST", f"/v3/loyalty/config/programs/{PID}/subscriptions", {"contactId": 920_002})
            assert _eventually(lambda: _pending_retries(call, other) == 1)
            call(other, "POST", "/__mock__/reset")
            assert _pending_retries(call, other) == 0
            assert _pending_retries(call, holder) == 0
        finally:
            call(connections[0], "DELETE", "/__mock__/webhooks")
            for connection in connections:
                connection.close()


def _pending_retries(call: Any, connection: http.client.HTTPConnection) -> int:
    return int(call(connection, "GET", "/__mock__/webhooks")["pending"]["retries"])


def _worker(call: Any, connection: http.client.HTTPConnection) -> int:
    """The process id of the worker a kept-alive connection reaches."""
    return int(call(connection, "GET", "/__mock__/webhooks")["worker"])


def _retries_by_worker(call: Any, connection: http.client.HTTPConnection) -> dict[int, int]:
    answer = call(connection, "GET", "/__mock__/webhooks")
    return {row["worker"]: row["retries"] for row in answer["pending_by_worker"]}


def _eventually(condition: Any, timeout: float = 10.0) -> bool:
    """Whether `condition()` holds within `timeout` seconds (checked every 50 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie has ended; only its parent's wait is missing


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_workers_end_with_a_parent_killed_and_a_new_mock_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    import os
    import signal

    state = tmp_path / "state.log"
    with serving("--state", str(state), *FLAGS) as server:
        port = _both_up(server).port
        _subscribe(port, 900_004)
        workers = _children(server.process.pid)
        assert len(workers) >= 2, workers  # the two workers (and multiprocessing's resource tracker)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(10)
        deadline = time.monotonic() + 20
        while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [pid for pid in workers if not _gone(pid)]
        for pid in left:  # ended here so that a failure does not leave them serving (and holding the pipes)
            os.kill(pid, signal.SIGKILL)
        assert left == [], f"processes of the killed server still running: {left}"
        with pytest.raises(OSError):  # nothing answers on the port any more
            _request(port, "GET", "/__mock__/health")
        killed = server.process.pid
    with serving("--state", str(state), "--contacts", "8", "--fixture", "widget-member") as server:
        assert _account(server.port, 900_004) == 200
    # The killed run could not remove its shared directory; the next run with workers does.
    left_behind = list(shared_dir_parent().glob(f"{SHARED_DIR_PREFIX}{killed}-*"))
    assert left_behind, "the killed run's shared directory was expected to stay behind"
    with serving(*FLAGS) as server:
        _both_up(server)
        assert not any(path.exists() for path in left_behind)
