"""Program handlers called as plain functions: list, info, account view."""

import pytest

from mock_server.errors import BadRequest, UnknownResource
from mock_server.fixtures import load_fixture, shipped_fixture
from mock_server.routes.program import HANDLERS
from mock_server.seeding import build_world
from tests.support.handlers import contract_handlers
from tests.support.operations import read_operations

H = contract_handlers()
WIDGET_PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def world():
    return build_world(21, 40, [load_fixture(shipped_fixture("widget-member"))])


def test_every_operation_has_one_handler():
    assert set(HANDLERS) == {"getLPList", "getLoyaltyProgramInfo", "getParameterSubscriptionInfo"}
    assert set(H) == set(read_operations())  # every read of the contract, none twice (writes: WRITE_HANDLERS)


def test_program_list_sorts_and_pages(world):
    names = [p["name"] for p in H["getLPList"](world, {"sort_field": "name", "sort": "asc"})["items"]]
    assert names == sorted(names, key=str.casefold)
    newest = H["getLPList"](world, {"sort_field": "created_at", "sort": "desc"})["items"]
    assert [p["createdAt"] for p in newest] == sorted((p["createdAt"] for p in newest), reverse=True)
    every = H["getLPList"](world, {"sort_field": "updated_at", "sort": "asc", "limit": 50, "offset": 0})["items"]
    pages = [
        H["getLPList"](world, {"sort_field": "updated_at", "sort": "asc", "limit": 3, "offset": offset})["items"]
        for offset in (0, 3)
    ]
    assert pages[0] + pages[1] == every
    assert H["getLPList"](world, {"offset": 99})["items"] == []


def test_program_info_in_contract_field_order(world):
    program = H["getLoyaltyProgramInfo"](world, {"pid": WIDGET_PID.upper()})
    assert list(program) == [
        "id", "name", "description", "meta", "state", "subscriptionPoolId", "subscriptionGeneratorId", "pattern",
        "codeCount", "documentId", "birthdayAttribute", "createdAt", "updatedAt",
    ]
    assert program["id"] == WIDGET_PID
    assert program["name"] == "Storefront Rewards"
    with pytest.raises(UnknownResource, match="Loyalty program"):
        H["getLoyaltyProgramInfo"](world, {"pid": UNKNOWN})


def test_account_info_by_contact_or_subscription(world):
    by_contact = H["getParameterSubscriptionInfo"](world, {"pid": WIDGET_PID, "contactId": "12345"})
    by_subscription = H["getParameterSubscriptionInfo"](
        world, {"pid": WIDGET_PID, "loyaltySubscriptionId": "cust_abc123"}
    )
    both = H["getParameterSubscriptionInfo"](
        world, {"pid": WIDGET_PID, "contactId": "12345", "loyaltySubscriptionId": "cust_abc123"}
    )
    assert by_contact == by_subscription == both
    assert list(by_contact) == ["balance", "members", "reward", "tier"]
    assert by_contact["balance"]["balances"][0]["value"] == 340
    assert by_contact["members"] == [
        {"memberContactId": 12345, "createdAt": "2025-03-01T10:00:00.000Z", "updatedAt": "2025-03-01T10:00:00.000Z"}
    ]
    assert {voucher["code"] for voucher in by_contact["reward"]} == {"GOLD10", "SHIP-7Q4K"}
    (tier,) = by_contact["tier"]
    silver = next(t for t in H["getLoyaltyProgramTier"](world, {"pid": WIDGET_PID})["items"] if t["name"] == "Silver")
    assert tier["tierId"] == silver["tierId"]
    # Silver (250) was reached in March, lost with the May debit (320 - 100), regained in July.
    assert tier["createdAt"] == "2026-07-08T16:15:00.000Z"


def test_account_info_sections_and_internal_balances(world):
    data = next(d for d in world.programs if any(x.internal for x in d.definitions))
    contact = str(data.members.contact_ids[0])
    only = H["getParameterSubscriptionInfo"](world, {"pid": data.id, "contactId": contact, "params": "tier,balance"})
    assert set(only) == {"tier", "balance"}
    hidden = H["getParameterSubscriptionInfo"](world, {"pid": data.id, "contactId": contact, "params": "balance"})
    shown = H["getParameterSubscriptionInfo"](
        world, {"pid": data.id, "contactId": contact, "params": "balance", "includeInternal": True}
    )
    internal_ids = {d.id for d in data.definitions if d.internal}
    assert not internal_ids & {b["balanceDefinitionId"] for b in hidden["balance"]["balances"]}
    assert internal_ids <= {b["balanceDefinitionId"] for b in shown["balance"]["balances"]}


def test_account_info_errors(world):
    def call(**params):
        return H["getParameterSubscriptionInfo"](world, {"pid": WIDGET_PID, **params})

    # A missing or malformed contactId and an unknown section are the contract's to refuse (tests/api).
    with pytest.raises(UnknownResource, match="contactId"):
        call(contactId="999")
    with pytest.raises(UnknownResource, match="loyaltySubscriptionId"):
        call(loyaltySubscriptionId="nobody")
    seeded = world.programs[0]
    other = seeded.members.subscription_ids[1]
    with pytest.raises(BadRequest) as caught:
        H["getParameterSubscriptionInfo"](
            world, {"pid": seeded.id, "contactId": str(seeded.members.contact_ids[0]), "loyaltySubscriptionId": other}
        )
    assert "contactId" in caught.value.message and other in caught.value.message
