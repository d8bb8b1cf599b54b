"""`conformance-webhooks`: a handler that takes every event passes; one that refuses, fails or chokes on a
redelivery is named, and the command exits 1."""

from __future__ import annotations

import threading
from typing import Any

import jsonschema
import pytest

from mock_server.cli import main
from mock_server.webhooks.catalog import payload_schemas
from mock_server.webhooks.receiver import Receiver


class Handler:
    """A receiver's answer: 200 for a new event, and what `duplicate` says for an event_id seen before."""

    def __init__(self, duplicate: int = 200, refuse: dict[str, int] | None = None) -> None:
        self.seen: set[str] = set()
        self.duplicate = duplicate
        self.refuse = refuse or {}
        self.lock = threading.Lock()

    def __call__(self, payload: dict[str, Any]) -> int:
        if payload.get("event_name") in self.refuse:
            return self.refuse[payload["event_name"]]
        with self.lock:
            if payload["event_id"] in self.seen:
                return self.duplicate
            self.seen.add(payload["event_id"])
        return 200


def test_a_good_handler_passes_with_every_event_valid(capsys: pytest.CaptureFixture[str]) -> None:
    with Receiver(answer=Handler()) as receiver:
        status = main(["conformance-webhooks", "--target", receiver.url, "--examples", "3"])
        received = receiver.events
    out = capsys.readouterr().out
    assert status == 0, out
    assert "24/24 events handled" in out
    schemas = payload_schemas()
    assert {payload["event_name"] for payload in received} == set(schemas)
    for payload in received:  # everything posted is valid by the contract
        jsonschema.Draft202012Validator(schemas[payload["event_name"]]).validate(payload)


def test_a_broken_handler_is_reported_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    handler = Handler(duplicate=500, refuse={"tier_association_updated": 500, "voucher_created": 422})
    with Receiver(answer=handler) as receiver:
        status = main(["conformance-webhooks", "--target", receiver.url, "--examples", "2",
                       "--events", "tier_association_updated,voucher_created,subscription_created"])
    out = capsys.readouterr().out
    assert status == 1
    lines = {line.split(":")[0].split()[-1]: line for line in out.splitlines() if line.startswith("  ")}
    assert "failed 500 x2" in lines["tier_association_updated"]
    assert "refused 422 x2" in lines["voucher_created"]
    assert "redelivery answered 500" in lines["subscription_created"]
    assert "0/3 events handled" in out


def test_refusals_can_be_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    with Receiver(answer=Handler(refuse={"voucher_created": 409})) as receiver:
        status = main(["conformance-webhooks", "--target", receiver.url, "--examples", "2", "--events",
                       "voucher_created", "--allow-refusals"])
    assert status == 0, capsys.readouterr().out


def test_an_unknown_event_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance-webhooks", "--target", "http://127.0.0.1:9/x", "--events", "points_added"]) == 2
    assert "unknown event(s) points_added" in capsys.readouterr().err
