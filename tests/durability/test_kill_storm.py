"""`serve --state`: SIGKILL in a storm of writes, restart, and every acknowledged write is there, whole.

A real server process takes transactions from several threads, each on its own connection and
members; it is killed with SIGKILL while they are answered. After a restart on the same state
file, every transaction answered 2xx is in its member's history, and each member's balance is
exactly its completed history (tests/support/invariants.py): a write the crash cut short left
nothing half-applied. What was logged but not yet acknowledged may be there too, whole.
"""

from __future__ import annotations

import http.client
import signal
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson

from mock_server.contract import compile_contract, load_contract
from tests.api.support import API_KEY
from tests.cli.proc import serving
from tests.durability.support import MEMBER, PID, app_on, closed, points_of
from tests.support.invariants import ALL, check_member_balances

CONTRACT = compile_contract(load_contract())
THREADS = 4
CONTACTS = [MEMBER, 900_001, 900_002, 900_003]  # one a thread: the widget member, and three enrolled first
ACKS_BEFORE_KILL = 120  # the storm runs on after this many acknowledgements, until the kill
FLAGS = ("--contacts", "8", "--fixture", "widget-member", "--no-access-log")


class HttpReads(Mapping[str, Any]):
    """The read operations by operationId, over HTTP, shaped like the handlers the invariants take."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def __getitem__(self, operation_id: str) -> Any:
        operation = CONTRACT.operations[operation_id]
        in_path = {param.name for param in operation.path_params}

        def read(_world: Any, params: Mapping[str, Any]) -> Any:
            path = CONTRACT.base_path + operation.path.format(**{k: v for k, v in params.items() if k in in_path})
            query = {k: str(v).lower() if isinstance(v, bool) else str(v)
                     for k, v in params.items() if k not in in_path}
            answer = self.client.get(path, params=query)
            assert answer.status_code in (200, 204), (operation_id, answer.text)
            return answer.json() if answer.content else None

        return read

    def __iter__(self) -> Any:
        return iter(CONTRACT.operations)

    def __len__(self) -> int:
        return len(CONTRACT.operations)


def _storm(port: int, contact: int, points: str, acked: list[str], count: list[int], stop: threading.Event) -> None:
    """Credits and debits for one member, each on one keep-alive connection, until the server dies."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"api-key": API_KEY, "content-type": "application/json"}
    n = 0
    try:
        while not stop.is_set():
            n += 1
            kind = "debit" if n % 4 == 0 else "credit"
            body = orjson.dumps({"contactId": contact, "balanceDefinitionId": points, "amount": 3 + n % 5,
                                 "transactionType": kind, "autoComplete": True})
            connection.request("POST", f"/v3/loyalty/balance/programs/{PID}/transactions", body, headers)
            answer = connection.getresponse()
            data = answer.read()
            assert answer.status == 200, data
            acked.append(orjson.loads(data)["id"])
            count[0] += 1
    except (OSError, http.client.HTTPException):
        return  # the kill: this request may or may not have been applied, it was not acknowledged
    finally:
        connection.close()


def test_every_acknowledged_write_survives_sigkill(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    app = app_on(tmp_path / "probe.log")  # the same world in process: its program's definitions
    program, points = app.state.mock.worlds["default"].program(PID), points_of(app)
    closed(app)
    acked: dict[int, list[str]] = {contact: [] for contact in CONTACTS}
    with serving("--state", str(state), *FLAGS) as server:
        with httpx.Client(base_url=server.root, headers={"api-key": API_KEY}) as client:
            for contact in CONTACTS[1:]:
                enrolled = client.post(f"/v3/loyalty/config/programs/{PID}/subscriptions", json={"contactId": contact})
                assert enrolled.status_code == 200, enrolled.text
        stop, count = threading.Event(), [0]
        threads = [threading.Thread(target=_storm, args=(server.port, contact, points, acked[contact], count, stop))
                   for contact in CONTACTS]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while count[0] < ACKS_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.005)
        server.process.send_signal(signal.SIGKILL)  # mid-storm: requests are in flight
        assert server.stop(None) == -signal.SIGKILL
        stop.set()
        for thread in threads:
            thread.join(10)
    assert sum(map(len, acked.values())) >= ACKS_BEFORE_KILL

    with serving("--state", str(state), *FLAGS) as server:
        assert "replayed" in server.stderr.text
        with httpx.Client(base_url=server.root, headers={"api-key": API_KEY}) as client:
            reads = HttpReads(client)
            listed = reads["getContactBalances"](None, {"pid": PID, "balanceDefinitionId": points,
                                                        "includeInternal": True, **ALL})
            rows = {entry["contactId"]: entry for entry in listed["balances"]}
            for contact in CONTACTS:
                history = reads["getTransactionHistoryApi"](None, {"pid": PID, "contactId": contact,
                                                                   "balanceDefinitionId": points, **ALL})
                present = {tx["id"] for tx in history["transactionHistory"]}
                missing = set(acked[contact]) - present
                assert not missing, f"acknowledged, lost in the crash: {sorted(missing)[:5]}"
                # Whole writes only: the balance is the completed history, in every view.
                check_member_balances(reads, None, program, contact, {points: rows[contact]})
            # The id sequence goes on past every write made before the crash.
            after = client.post(f"/v3/loyalty/balance/programs/{PID}/transactions", json={
                "contactId": MEMBER, "balanceDefinitionId": points, "amount": 1, "autoComplete": True})
            assert after.status_code == 200
            assert after.json()["id"] not in {tid for ids in acked.values() for tid in ids}
