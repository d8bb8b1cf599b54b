"""Every transition the API causes reaches the endpoint as a payload valid by the contract's schema."""

from __future__ import annotations

import hashlib
import uuid

import httpx
from hypothesis import given
from hypothesis import strategies as st

from mock_server.testing import RunningMock
from mock_server.webhooks.payloads import event_id
from mock_server.webhooks.receiver import Receiver
from tests.webhooks.conftest import PID, add_endpoint, credit, definition_id, enrol, valid

P = f"/v3/loyalty/config/programs/{PID}"
OFFER = f"/v3/loyalty/offer/programs/{PID}"


def ok(answer: httpx.Response, status: int = 200) -> dict:
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else {}


def test_each_api_transition_emits_its_event(mock: RunningMock, api: httpx.Client, receiver: Receiver) -> None:
    bdid = definition_id(api)
    add_endpoint(api, receiver.url)
    enrol(api, 901)
    ok(api.post(f"{P}/subscription-members", json={"contactId": 901, "memberContactIds": [902]}))
    ok(api.delete(f"{P}/subscription-members", params={"memberContactIds": "902"}), 204)
    credit(api, 901, 600, bdid)  # Bronze -> Gold at once
    rejected = ok(api.post(f"/v3/loyalty/balance/programs/{PID}/transactions",
                           json={"contactId": 901, "balanceDefinitionId": bdid, "amount": -100_000,
                                 "autoComplete": True}))
    assert rejected["status"] == "rejected"
    reward = next(item for item in ok(api.get(f"{OFFER}/offers"))["items"] if item["name"] == "Free Shipping")
    voucher = ok(api.post(f"{OFFER}/rewards/attribute", json={"rewardId": reward["id"], "contactId": 901}))
    ok(api.post(f"{OFFER}/rewards/redeem", json={"attributedRewardId": voucher["id"], "contactId": 901,
                                                  "autoComplete": True}))
    again = api.post(f"{OFFER}/rewards/redeem", json={"attributedRewardId": voucher["id"], "contactId": 901})
    assert again.status_code == 412  # refused: reported by voucher_redeem_unauthorized, changes nothing
    enrol(api, 903)
    other = ok(api.post(f"{OFFER}/rewards/attribute", json={"rewardId": reward["id"], "contactId": 903}))
    ok(api.delete(f"{OFFER}/rewards/revoke", params={"attributedRewardIds": other["id"]}), 204)
    silver = next(t for t in ok(api.get(f"/v3/loyalty/tier/programs/{PID}/tiers"))["items"] if t["name"] == "Silver")
    ok(api.post(f"/v3/loyalty/tier/programs/{PID}/contacts/901/tiers/{silver['tierId']}"))
    ok(api.delete(f"{P}/contact/901"), 204)

    receiver.wait_for("subscription_revoked", contact_id=901)
    payloads = [valid(payload) for payload in receiver.events]
    names = [payload["event_name"] for payload in payloads]
    assert names[:5] == ["subscription_created", "subscription_member_added", "subscription_member_removed",
                         "balance_value_updated", "tier_association_updated"]
    assert {"balance_transaction_unauthorized", "balance_minimum_value_reached", "voucher_created",
            "voucher_redeemed", "voucher_redeem_unauthorized", "voucher_revoked", "subscription_revoked"} <= set(names)
    by_name = {payload["event_name"]: payload for payload in payloads}
    assert by_name["subscription_member_added"]["contact_id"] == 902
    assert by_name["subscription_member_added"]["subscription"]["owner_contact_id"] == 901
    assert by_name["balance_transaction_unauthorized"]["reason"] == "insufficient_balance"
    assert by_name["voucher_redeemed"]["voucher"]["id"] == voucher["id"]
    assert by_name["voucher_revoked"]["voucher"]["id"] == other["id"]
    manual = [p for p in payloads if p["event_name"] == "tier_association_updated"][-1]
    assert (manual["previous_tier"]["name"], manual["tier"]["name"], manual["direction"]) == ("Gold", "Silver",
                                                                                              "downgrade")
    assert names[-1] == "subscription_revoked"
    seqs = [payload["event_date"] for payload in payloads]
    assert seqs == sorted(seqs)  # in event order


@given(st.integers(min_value=0, max_value=2**63), st.text(min_size=1, max_size=30), st.integers(1, 10**9))
def test_an_event_id_is_the_uuid4_of_its_seed_organisation_and_number(seed: int, organisation: str, seq: int) -> None:
    """Stable across releases: the same seed, organisation and event number always give the same event_id."""
    digest = hashlib.blake2b(f"webhook\x1f{seed}\x1f{organisation}\x1f{seq}".encode(), digest_size=16).digest()
    assert event_id(seed, organisation, seq) == str(uuid.UUID(bytes=digest, version=4))
