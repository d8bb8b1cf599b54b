"""The six reward writes over HTTP: what each answers, and what the reads show right after.

The app here is this module's own (writes would disturb the session app the read tests share),
reset before every test. Every answer is checked against the contract's response schema
(`Api.error` for errors, `post` for 200s); expectations come from the world before the write.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mock_server.app import create_app
from mock_server.backend import Backend
from mock_server.contract.operations import CompiledContract
from mock_server.contract.responses import ResponseValidator
from mock_server.store.models import Member, Reward
from mock_server.store.reward_rules import check_attribution
from mock_server.store.world import ProgramData
from tests.api.support import UNKNOWN_UUID, Api, client_for, make_settings


@pytest.fixture(scope="module")
def app() -> Starlette:
    return create_app(make_settings())


@pytest.fixture(scope="module")
def client(app: Starlette) -> Iterator[TestClient]:
    with client_for(app) as client:
        yield client


@pytest.fixture(scope="module")
def api(client: TestClient, app: Starlette, validator: ResponseValidator) -> Api:
    contract: CompiledContract = app.state.mock.contract
    return Api(client, contract, validator)


@pytest.fixture(autouse=True)
def fresh(app: Starlette) -> None:
    app.state.mock.reset()


@pytest.fixture
def backend(app: Starlette) -> Backend:
    state = app.state.mock
    return state.backends[state.settings.api_keys[0].organisation]


def post(api: Api, operation_id: str, path: dict[str, Any], body: Any = None, **kwargs: Any) -> httpx2.Response:
    return api.client.request(api.operation(operation_id).method, api.url(operation_id, path), json=body, **kwargs)


def ok(api: Api, operation_id: str, path: dict[str, Any], body: Any = None) -> Any:
    """The JSON of a 200 answer to a write, checked against the contract."""
    response = post(api, operation_id, path, body)
    assert response.status_code == 200, (operation_id, response.status_code, response.text)
    assert api.validator.check(operation_id, 200, response.headers, response.content) == []
    return response.json()


# ----------------------------------------------------------------- seeded choices


def program(backend: Backend) -> ProgramData:
    seeded = next(data for data in backend.base.programs if data.program.state == "active")
    data = backend.world.program(seeded.id)
    assert data is not None
    return data


def reconfigure(backend: Backend, reward: Reward, **changes: Any) -> Reward:
    """Test setup: a reward uncapped, free or priced, as a fixture could make it."""
    data = program(backend)
    changed = replace(reward, **changes)
    backend.put_program(data.replace(rewards=tuple(changed if r.id == reward.id else r for r in data.rewards)))
    return changed


def pooled(backend: Backend) -> Reward:
    reward = next(r for r in program(backend).rewards if r.state == "active" and r.code_pool_id)
    return reconfigure(backend, reward, subtract_balance_value=0, attribution_per_consumer=0, limits=(),
                       redeem_per_consumer=0)


def holder(backend: Backend, reward: Reward, skip: int = 0) -> Member:
    data = program(backend)
    found = []
    for position in range(len(data.members)):
        member = backend.world.member_at(data, position)
        try:
            check_attribution(reward, member, backend.clock.now())
        except Exception:
            continue
        found.append(member)
    return found[skip]


def codes_count(api: Api, backend: Backend, reward: Reward) -> int:
    return api.ok("getCodeCount", {"pid": program(backend).id, "cpid": reward.code_pool_id})["count"]


def usable(api: Api, backend: Backend, member: Member) -> list[str]:
    rows = api.ok("getSubscriptionVouchers", {"pid": program(backend).id, "cid": member.contact_id})
    return [row["id"] for row in rows]


def attribute(api: Api, backend: Backend, reward: Reward, member: Member, **extra: Any) -> dict[str, Any]:
    return ok(api, "createVoucher", {"pid": program(backend).id},
              {"rewardId": reward.id, "contactId": member.contact_id, **extra})


# ----------------------------------------------------------------- tests


def test_attribute_redeem_complete_as_the_reads_show_it(api: Api, backend: Backend) -> None:
    reward = pooled(backend)
    member = holder(backend, reward)
    pid = program(backend).id
    before = codes_count(api, backend, reward)
    voucher = attribute(api, backend, reward, member, meta={"campaign": "spring"})
    assert (voucher["rewardId"], voucher["contactId"], voucher["loyaltyProgramId"]) == (reward.id, member.contact_id,
                                                                                          pid)
    assert voucher["meta"] == {"campaign": "spring"} and voucher["consumedAt"] is None
    assert codes_count(api, backend, reward) == before - 1
    world = api.client.get("/__mock__/world").json()
    pools = next(p for p in world["programs"] if p["id"] == pid)["codePools"]
    assert next(pool["count"] for pool in pools if pool["id"] == reward.code_pool_id) == before - 1
    listed = api.ok("getVoucherForAContact", query={"contactId": member.contact_id}, path={"pid": pid})
    assert voucher["id"] in [row["id"] for row in listed["contactRewards"]]
    assert listed["count"] == len(member.vouchers) + 1
    assert voucher["id"] in usable(api, backend, member)

    opened = ok(api, "redeemVoucher", {"pid": pid}, {"attributedRewardId": voucher["id"]})
    assert (opened["status"], opened["rewardAttributionId"]) == ("draft", voucher["id"])
    done = ok(api, "completeRedeemTransaction", {"pid": pid, "tid": opened["id"]})
    assert done["status"] == "completed" and done["completedAt"] is not None
    assert voucher["id"] not in usable(api, backend, member)
    listed = api.ok("getVoucherForAContact", query={"contactId": member.contact_id}, path={"pid": pid})
    row = next(row for row in listed["contactRewards"] if row["id"] == voucher["id"])
    assert row["consumedAt"] == done["completedAt"]

    again = post(api, "completeRedeemTransaction", {"pid": pid, "tid": opened["id"]})
    assert "completed" in api.error(again, "completeRedeemTransaction", 422)
    consumed = post(api, "redeemVoucher", {"pid": pid}, {"attributedRewardId": voucher["id"]})
    assert "was redeemed" in api.error(consumed, "redeemVoucher", 412, "precondition_failed")


def test_an_empty_pool_refuses_and_every_read_is_unchanged(api: Api, backend: Backend) -> None:
    reward = pooled(backend)
    data = program(backend)
    backend.put_program(data.replace(code_pools=tuple(
        replace(pool, code_count=0) if pool.id == reward.code_pool_id else pool for pool in data.code_pools)))
    member = holder(backend, reward)
    pid = data.id
    vouchers = api.ok("getVoucherForAContact", query={"contactId": member.contact_id}, path={"pid": pid})
    balances = api.ok("getSubscriptionBalances", {"pid": pid, "cid": member.contact_id})
    response = post(api, "createVoucher", {"pid": pid}, {"rewardId": reward.id, "contactId": member.contact_id})
    assert "no code left" in api.error(response, "createVoucher", 422)
    assert codes_count(api, backend, reward) == 0
    assert api.ok("getVoucherForAContact", query={"contactId": member.contact_id}, path={"pid": pid}) == vouchers
    assert api.ok("getSubscriptionBalances", {"pid": pid, "cid": member.contact_id}) == balances


def test_a_price_is_debited_from_the_balance_and_one_too_high_is_refused(api: Api, backend: Backend) -> None:
    reward = pooled(backend)
    data = program(backend)
    definition = data.definition_by_id[reward.balance_definition_id or ""]
    member = holder(backend, reward)
    value = member.ledgers[definition.index].value
    pid = data.id

    def balance() -> float:
        found = api.ok("getSubscriptionBalances", {"pid": pid, "cid": member.contact_id})
        return next(row["value"] for row in found["balance"] if row["balanceDefinitionId"] == definition.id)

    reconfigure(backend, program(backend).reward_by_id[reward.id],
                subtract_balance_value=value // definition.scale + 1)
    refused = post(api, "createVoucher", {"pid": pid}, {"rewardId": reward.id, "contactId": member.contact_id})
    assert definition.id in api.error(refused, "createVoucher", 422)
    assert balance() * definition.scale == value
    if value >= definition.scale:
        reconfigure(backend, program(backend).reward_by_id[reward.id], subtract_balance_value=1)
        attribute(api, backend, reward, member)
        assert round(balance() * definition.scale) == value - definition.scale
        history = api.ok("getTransactionHistoryApi", query={"contactId": member.contact_id,
                                                             "balanceDefinitionId": definition.id}, path={"pid": pid})
        assert history["count"] == len(member.ledgers[definition.index].transactions) + 1


def test_unknown_ids_are_404_naming_the_field(api: Api, backend: Backend) -> None:
    reward = pooled(backend)
    member = holder(backend, reward)
    pid = program(backend).id
    cases = [
        ("createVoucher", {"pid": pid}, {"rewardId": UNKNOWN_UUID, "contactId": member.contact_id}, "rewardId"),
        ("createVoucher", {"pid": pid}, {"rewardId": reward.id, "contactId": 999_999_999}, "contactId"),
        ("createVoucher", {"pid": UNKNOWN_UUID}, {"rewardId": reward.id, "contactId": 1}, "pid"),
        ("redeemVoucher", {"pid": pid}, {"attributedRewardId": UNKNOWN_UUID}, "attributedRewardId"),
        ("validateReward", {"pid": pid}, {"code": "NO-SUCH-CODE"}, "code"),
        ("completeRedeemTransaction", {"pid": pid, "tid": UNKNOWN_UUID}, None, "tid"),
        ("createReward", {"pid": UNKNOWN_UUID}, {"name": "Ghost"}, "pid"),
    ]
    for operation_id, path, body, field in cases:
        message = api.error(post(api, operation_id, path, body), operation_id, 404, "document_not_found")
        assert f"'{field}'" in message, (operation_id, message)


def test_revoke_removes_vouchers_from_every_read(api: Api, backend: Backend) -> None:
    reward = pooled(backend)
    member = holder(backend, reward)
    pid = program(backend).id
    kept, gone = attribute(api, backend, reward, member)["id"], attribute(api, backend, reward, member)["id"]
    unknown = api.client.delete(api.url("revokeVouchers", {"pid": pid}),
                                params={"attributedRewardIds": f"{gone},{UNKNOWN_UUID}"})
    assert "attributedRewardIds" in api.error(unknown, "revokeVouchers", 404)
    assert gone in usable(api, backend, member)  # all or nothing
    revoked = api.client.delete(api.url("revokeVouchers", {"pid": pid}), params={"attributedRewardIds": gone})
    assert (revoked.status_code, revoked.content) == (204, b"")
    assert gone not in usable(api, backend, member) and kept in usable(api, backend, member)
    listed = api.ok("getVoucherForAContact", query={"contactId": member.contact_id}, path={"pid": pid})
    assert gone not in [row["id"] for row in listed["contactRewards"]]
    assert ok(api, "validateReward", {"pid": pid}, {"attributedRewardId": gone}) == {"authorize": False}
    redeemed = post(api, "redeemVoucher", {"pid": pid}, {"attributedRewardId": gone})
    assert "revoked" in api.error(redeemed, "redeemVoucher", 412)


def test_validate_checks_without_changing_anything(api: Api, backend: Backend) -> None:
    reward = pooled(backend)
    member = holder(backend, reward)
    pid = program(backend).id
    voucher = attribute(api, backend, reward, member)
    writes = backend.writes
    body = {"rewardId": reward.id, "contactId": member.contact_id, "pointOfSellId": "till-4"}
    assert ok(api, "validateReward", {"pid": pid}, body) == {"authorize": True}
    assert ok(api, "validateReward", {"pid": pid}, {"code": voucher["code"]}) == {"authorize": True}
    assert backend.writes == writes
    assert voucher["id"] in usable(api, backend, member)


def test_a_redemption_cap_is_417(api: Api, backend: Backend) -> None:
    reward = pooled(backend)
    member = next(m for m in (holder(backend, reward, i) for i in range(5))
                  if not any(v.reward_id == reward.id for v in m.vouchers))
    reconfigure(backend, program(backend).reward_by_id[reward.id], redeem_per_consumer=1)
    pid = program(backend).id
    first, second = attribute(api, backend, reward, member)["id"], attribute(api, backend, reward, member)["id"]
    done = ok(api, "redeemVoucher", {"pid": pid}, {"attributedRewardId": first, "autoComplete": True})
    assert done["status"] == "completed"
    capped = post(api, "redeemVoucher", {"pid": pid}, {"attributedRewardId": second})
    assert "redeemPerConsumer" in api.error(capped, "redeemVoucher", 417, "expectation_failed")


def test_a_created_reward_is_readable_at_once(api: Api, backend: Backend) -> None:
    pid = program(backend).id
    body = {"name": "Free coffee", "publicName": "Coffee on us", "publicDescription": "One coffee",
            "publicImage": "https://img.example/coffee.png"}
    created = ok(api, "createReward", {"pid": pid}, body)
    assert {key: created[key] for key in body} == body
    assert api.ok("getRewardInformation", {"pid": pid, "rid": created["id"]}) == created
    offers = api.ok("getRewardPageApi", {"pid": pid}, {"limit": 100})
    assert created["id"] in [item["id"] for item in offers["items"]]
    assert offers["totalCount"] == len(backend.base.program(pid).rewards) + 1  # type: ignore[union-attr]


def test_prefer_steers_the_documented_412_and_417(api: Api, backend: Backend) -> None:
    pid = program(backend).id
    for status, code in ((412, "precondition_failed"), (417, "expectation_failed")):
        response = post(api, "redeemVoucher", {"pid": pid}, {"code": "X"}, headers={"Prefer": f"code={status}"})
        api.error(response, "redeemVoucher", status, code)


def test_the_same_requests_give_the_same_bytes() -> None:
    def run() -> list[bytes]:
        app = create_app(make_settings())
        state = app.state.mock
        backend = state.backends[state.settings.api_keys[0].organisation]
        reward = next(r for r in program(backend).rewards if r.state == "active" and not r.subtract_balance_value)
        member = holder(backend, reward)
        pid = program(backend).id
        with client_for(app) as client:
            base = "/v3/loyalty/offer/programs/" + pid
            answers = [client.post(base + "/offers", json={"name": "Gift"}),
                       client.post(base + "/rewards/attribute", json={"rewardId": reward.id,
                                                                      "contactId": member.contact_id})]
            voucher = answers[-1].json().get("id", "")
            answers.append(client.post(base + "/rewards/redeem", json={"attributedRewardId": voucher,
                                                                       "autoComplete": True}))
            answers.append(client.get(base + "/vouchers", params={"contactId": member.contact_id}))
            return [answer.content for answer in answers]

    first, second = run(), run()
    assert first == second
    assert b'"status":"completed"' in first[2]


def test_a_body_that_names_no_member_or_voucher_is_a_422_and_changes_nothing(api: Api, backend: Backend) -> None:
    reward = pooled(backend)
    pid = program(backend).id
    before = codes_count(api, backend, reward)
    writes = backend.writes
    nobody = post(api, "createVoucher", {"pid": pid}, {"rewardId": reward.id})
    message = api.error(nobody, "createVoucher", 422)
    assert "contactId" in message and "loyaltySubscriptionId" in message
    nothing = post(api, "redeemVoucher", {"pid": pid}, {"rewardId": reward.id})
    assert "attributedRewardId" in api.error(nothing, "redeemVoucher", 422)
    wrong = post(api, "createVoucher", {"pid": pid}, {"rewardId": reward.id, "contactId": "12"})
    assert "contactId" in api.error(wrong, "createVoucher", 422)
    assert (codes_count(api, backend, reward), backend.writes) == (before, writes)


def test_a_seeded_voucher_is_found_by_its_id_alone(api: Api, backend: Backend) -> None:
    """A voucher in a seeded member's list (no write touched the member) is validated and revoked by id."""
    data = program(backend)
    pid = data.id
    now = backend.clock.now()
    found = None
    for cid in data.members.contact_ids[:400]:
        for row in api.ok("getSubscriptionVouchers", {"pid": pid, "cid": cid}):
            voucher = next(v for v in backend.world.member(data, cid).vouchers if v.id == row["id"])
            if voucher.unusable_reason(now) is None:
                found = (cid, row["id"])
                break
        if found:
            break
    assert found is not None, "no usable seeded voucher among the first 400 members"
    cid, voucher_id = found
    assert ok(api, "validateReward", {"pid": pid}, {"attributedRewardId": voucher_id}) == {"authorize": True}
    revoked = api.client.delete(api.url("revokeVouchers", {"pid": pid}), params={"attributedRewardIds": voucher_id})
    assert (revoked.status_code, revoked.content) == (204, b"")
    assert voucher_id not in [row["id"] for row in api.ok("getSubscriptionVouchers", {"pid": pid, "cid": cid})]
