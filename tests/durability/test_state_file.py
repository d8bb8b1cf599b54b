"""`--state`: what a restart replays, and the state files it refuses (mock_server/durable/)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from mock_server import app as app_module
from mock_server.app import build_worlds
from mock_server.backend import Backends
from mock_server.durable import StateError, open_recorder
from mock_server.durable.logfile import FRAME, MAGIC, scan
from mock_server.routes import all_write_handlers
from tests.api.support import API_KEY, client_for
from tests.durability.support import MEMBER, PID, app_on, begin, client, closed, history, points_of


def _some_writes(state: Path) -> tuple[bytes, list[str]]:
    """Writes of every outcome on a fresh state file; the member's history after them, and the 2xx ids."""
    app = app_on(state)
    api, points = client(app), points_of(app)
    ids = []
    for amount, kind, auto in ((50, "credit", True), (20, "debit", True), (10, "credit", False),
                               (10_000, "debit", True)):  # the last one: answered 200, status rejected
        answer = begin(api, points, amount, kind, auto)
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["id"])
    assert answer.json()["status"] == "rejected"
    refused = begin(api, points, 5, contact=424_242)  # not a member: refused, never logged, changes nothing
    assert refused.status_code in (400, 404, 422), refused.text
    cancelled = api.post(f"/v3/loyalty/balance/programs/{PID}/transactions/{ids[2]}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    enrolled = api.post(f"/v3/loyalty/config/programs/{PID}/subscriptions", json={"contactId": 900_001})
    assert enrolled.status_code == 200, enrolled.text
    seen = history(api, points)
    closed(app)
    return seen, ids


def test_a_restart_replays_every_accepted_write_byte_for_byte(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    before, ids = _some_writes(state)
    app = app_on(state)
    api, points = client(app), points_of(app)
    assert history(api, points) == before
    for tid in ids:  # the rejected one too: it is in the history, as Brevo keeps it
        assert tid.encode() in before
    member = api.get(f"/v3/loyalty/config/programs/{PID}/account-info", params={"contactId": "900001"})
    assert member.status_code == 200, member.text
    # The sequence of ids and the logical clock go on where they were: the next write is new.
    after = begin(api, points, 1).json()
    assert after["id"] not in ids
    closed(app)
    writes = [record.value for record in scan(str(state), state.read_bytes()).records[1:]]
    assert [w["op"] for w in writes] == ["beginTransaction"] * 4 + ["cancelTransaction", "subscribeToLoyaltyProgram",
                                                                     "beginTransaction"]


def test_a_torn_last_record_is_dropped_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.log"
    app = app_on(state)
    api, points = client(app), points_of(app)
    begin(api, points, 7)
    one = history(api, points)
    begin(api, points, 9)
    closed(app)
    whole = state.read_bytes()
    state.write_bytes(whole[:-5])  # power lost while the last record was being written
    app = app_on(state)
    assert history(client(app), points) == one
    assert "dropped an incomplete last record" in capsys.readouterr().err
    begin(client(app), points, 11)  # appends start on a record boundary again
    closed(app)
    found = scan(str(state), state.read_bytes())
    assert found.dropped_bytes == 0 and len(found.records) == 1 + 2


def test_a_torn_frame_head_is_dropped_too(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    app = app_on(state)
    begin(client(app), points_of(app), 7)
    closed(app)
    with state.open("ab") as file:
        file.write(b"\x10\x00")  # two bytes of the next frame's length
    found = scan(str(state), state.read_bytes())
    assert (found.dropped_bytes, len(found.records)) == (2, 2)


def _corrupt_middle(state: Path) -> int:
    """Flip a byte inside the first write record (records follow it); its offset."""
    found = scan(str(state), state.read_bytes())
    target = found.records[1]
    data = bytearray(state.read_bytes())
    data[target.offset + FRAME.size + 3] ^= 0xFF
    state.write_bytes(bytes(data))
    return target.offset


def test_a_corrupt_record_stops_the_start_with_its_offset(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    _some_writes(state)
    offset = _corrupt_middle(state)
    size = state.stat().st_size
    with pytest.raises(StateError, match=f"corrupt at byte {offset}: a record whose checksum does not match"):
        app_on(state)
    assert state.stat().st_size == size  # nothing was cut without being asked
    app = app_on(state, state_truncate=True)  # asked: cut there, start from what comes before
    assert state.stat().st_size == offset
    assert history(client(app), points_of(app)) == history(client(app_on(tmp_path / "fresh.log")),
                                                           points_of(app))
    closed(app)


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "notes.txt"
    state.write_bytes(b"shopping list\n")
    with pytest.raises(StateError, match="corrupt at byte 0: it does not start with the state file's magic"):
        app_on(state)
    assert state.read_bytes() == b"shopping list\n"


@pytest.mark.parametrize(("change", "named"), [
    ({"seed": 2}, "--seed 1 (now 2)"),
    ({"contacts": 9}, "--contacts 8 (now 9)"),
    ({"fixtures": ()}, "fixtures widget-member.yaml"),
    ({"clock": "real"}, "--clock fixed (now real)"),
])
def test_another_world_than_the_log_was_written_on_is_refused(tmp_path: Path, change: dict[str, Any],
                                                               named: str) -> None:
    state = tmp_path / "state.log"
    _some_writes(state)
    with pytest.raises(StateError, match="was written with") as refused:
        app_on(state, **change)
    assert named in str(refused.value)


def test_two_mocks_never_share_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    first = app_on(state)
    with pytest.raises(StateError, match="in use by another running mock"):
        app_on(state)
    closed(first)


def test_reset_drops_the_organisations_changes_for_good(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    app = app_on(state)
    api, points = client(app), points_of(app)
    seeded = history(api, points)
    header_only = state.stat().st_size
    begin(api, points, 30)
    # A reset of every organisation cuts the file back to its header.
    assert client_for(app, key=None).post("/__mock__/reset", headers={"X-Brevo-Mock": "1"}).status_code == 200
    assert state.stat().st_size == header_only
    assert history(api, points) == seeded
    begin(api, points, 20)
    # One organisation's reset (the key's) is a record: replay drops that organisation's changes before it.
    answer = api.post("/__mock__/reset", headers={"X-Brevo-Mock": "1", "api-key": API_KEY})
    assert answer.status_code == 200
    assert history(api, points) == seeded
    after_reset = begin(api, points, 5).json()
    expected = history(api, points)
    closed(app)
    app = app_on(state)
    api = client(app)
    assert history(api, points) == expected
    assert after_reset["id"].encode() in expected
    closed(app)
    kinds = [record.value["k"] for record in scan(str(state), state.read_bytes()).records]
    assert kinds == ["header", "w", "reset", "w"]


def _clock_to(backend: Any, payload: Any) -> None:
    backend.clock.rewind(payload["to"])  # a logical clock set forward, bluntly


def test_a_change_of_another_kind_replays_through_its_function(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state.log"
    monkeypatch.setitem(app_module.CHANGE_KINDS, "jump", _clock_to)  # a kind of change this test defines
    app = app_on(state)
    later = 1_900_000_000_000
    app.state.mock.recorder.change("default", "jump", {"to": later})
    api, points = client(app), points_of(app)
    made = begin(api, points, 12).json()
    assert made["createdAt"].startswith("2030-03-17")  # a second after the clock's new time
    expected = history(api, points)
    closed(app)
    app = app_on(state)
    assert history(client(app), points) == expected
    closed(app)
    monkeypatch.delitem(app_module.CHANGE_KINDS, "jump")
    with pytest.raises(StateError, match="kind 'jump', which this mock cannot replay"):
        app_on(state)


def test_records_hold_what_replays_the_call(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    app = app_on(state)
    begin(client(app), points_of(app), 3)
    closed(app)
    data = state.read_bytes()
    assert data.startswith(MAGIC)
    header, write = (record.value for record in scan(str(state), data).records)
    assert header["seed"] == 1 and header["fixtures"][0][0] == "widget-member.yaml"
    assert write["o"] == "default" and write["op"] == "beginTransaction" and write["p"] == {"pid": PID}
    assert write["b"]["amount"] == 3 and write["b"]["contactId"] == MEMBER
    assert orjson.dumps(write["b"])  # plain JSON, nothing the next version of Python could read otherwise


def test_on_the_real_clock_a_replay_sets_the_timestamps_the_writes_set(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    app = app_on(state, clock="real")
    api, points = client(app), points_of(app)
    begin(api, points, 4)
    time.sleep(0.01)
    begin(api, points, 6, auto=False)
    expected = history(api, points)
    closed(app)
    time.sleep(0.01)  # the wall clock moved on: a replay that read it would give other createdAt values
    app = app_on(state, clock="real")
    assert history(client(app), points) == expected
    closed(app)


def test_a_replay_tells_no_event_listener(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    app = app_on(state)
    begin(client(app), points_of(app), 4)
    closed(app)
    handlers = all_write_handlers()
    begin_transaction = handlers["beginTransaction"]

    def begin_and_tell(backend: Any, params: Any, body: Any) -> Any:  # a write with an event, as webhooks see it
        backend.emit("balance_value_updated", params["pid"], body["contactId"])
        return begin_transaction(backend, params, body)

    handlers["beginTransaction"] = begin_and_tell
    heard: list[Any] = []
    settings = app.state.mock.settings
    backends = Backends(build_worlds(settings))
    backends.on_events(lambda organisation, events: heard.extend(events))
    recorder = open_recorder(settings, backends, handlers)
    assert heard == []  # the webhooks of replayed writes went out when they were made
    answer = recorder.write(backends["default"], "beginTransaction", begin_and_tell, {"pid": PID},
                            {"contactId": MEMBER, "balanceDefinitionId": points_of(app), "amount": 2,
                             "transactionType": "credit", "autoComplete": True})
    assert answer["status"] == "completed"
    recorder.close()
    # Numbered after the replayed write's events, as they would have been without a restart.
    reference = Backends(build_worlds(settings))
    numbered: list[Any] = []
    reference.on_events(lambda organisation, events: numbered.append([(e.seq, e.name) for e in events]))
    for amount in (4, 2):
        begin_and_tell(reference["default"], {"pid": PID},
                       {"contactId": MEMBER, "balanceDefinitionId": points_of(app), "amount": amount,
                        "transactionType": "credit", "autoComplete": True})
    assert [(event.seq, event.name) for event in heard] == numbered[-1] and numbered[-1][0][0] > 1


@pytest.mark.parametrize("clock", ["fixed", "real"])
def test_a_clock_move_replays_with_what_it_ran(tmp_path: Path, clock: str) -> None:
    state = tmp_path / "state.log"
    app = app_on(state, clock=clock)
    api, points = client(app), points_of(app)
    begin(api, points, 40)
    moved = api.post("/__mock__/clock", json={"advance": "P400D"}, headers={"X-Brevo-Mock": "1"})
    assert moved.status_code == 200, moved.text
    begin(api, points, 3)  # a write at the moved time
    expected, now = history(api, points), api.get("/__mock__/clock").json()["now"]
    closed(app)
    app = app_on(state, clock=clock)
    api = client(app)
    assert history(api, points) == expected  # what the move ran (lapsed credits ...) and the later write
    assert api.get("/__mock__/clock").json()["now"] >= now
    closed(app)
    kinds = [record.value["k"] for record in scan(str(state), state.read_bytes()).records]
    assert kinds == ["header", "w", "clock", "w"]


def test_the_world_of_a_per_key_key_comes_back_made_the_same_way(tmp_path: Path) -> None:
    state = tmp_path / "state.log"
    app = app_on(state, world_per_key="xkeysib-test-")
    job, other = client_for(app, "xkeysib-test-job-1"), client_for(app, "xkeysib-test-job-2")
    points = points_of(app)
    made = begin(job, points, 25).json()
    expected, untouched = history(job, points), history(other, points)
    assert made["id"].encode() in expected and made["id"].encode() not in untouched
    closed(app)
    app = app_on(state, world_per_key="xkeysib-test-")
    assert history(client_for(app, "xkeysib-test-job-1"), points) == expected
    assert history(client_for(app, "xkeysib-test-job-2"), points) == untouched
    closed(app)
