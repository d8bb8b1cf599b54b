"""A small world with a known program (the widget fixture), and the writes the durability tests make on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from mock_server.app import create_app
from mock_server.fixtures import shipped_fixture
from tests.api.support import client_for, make_settings

PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"  # the widget program (fixtures/widget-member.yaml)
MEMBER = 12345  # its member
FIXTURE = shipped_fixture("widget-member")


def app_on(state: Path, **overrides: Any) -> Starlette:
    """A mock (in process) whose changes go to `state`: what `serve --state` builds."""
    values: dict[str, Any] = {"contacts": 8, "fixtures": (FIXTURE,), "state": state}
    values.update(overrides)
    return create_app(make_settings(**values))


def points_of(app: Starlette) -> str:
    return app.state.mock.worlds["default"].program(PID).definitions[0].id


def begin(client: Any, points: str, amount: int, kind: str = "credit", auto: bool = True,
          contact: int = MEMBER) -> Any:
    """A transaction begun (auto-completed unless `auto` is false); the answer."""
    return client.post(f"/v3/loyalty/balance/programs/{PID}/transactions", json={
        "contactId": contact, "balanceDefinitionId": points, "amount": amount, "transactionType": kind,
        "autoComplete": auto})


def history(client: Any, points: str, contact: int = MEMBER) -> bytes:
    """The member's whole transaction history, as bytes (what a replay must give back exactly)."""
    answer = client.get(f"/v3/loyalty/balance/programs/{PID}/transaction-history",
                        params={"contactId": contact, "balanceDefinitionId": points, "limit": 500, "offset": 0})
    assert answer.status_code in (200, 204)
    return answer.content


def closed(app: Starlette) -> None:
    """Close the app's state file, as the server's shutdown does (a test reopens it in the same process)."""
    app.state.mock.recorder.close()


def client(app: Starlette) -> Any:
    return client_for(app)
