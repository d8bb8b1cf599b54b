"""Every count and totalCount is the number of matching records, whatever the page.

For any seed, contact count, page (limit, offset), order and filter, on every
paged operation: the page is the slice [offset, offset + limit) of the whole
ordered answer, and the count it reports is the size of the whole answer.
(test_world_consistency.py covers contact balances and the plain transaction
history; these are the other paged reads.)
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.errors import NoContent
from mock_server.seeding import build_world
from tests.support.handlers import contract_handlers

H = contract_handlers()
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MEMBERS = 4

seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=12)
limits = st.integers(min_value=1, max_value=6)
offsets = st.integers(min_value=0, max_value=8)
sorts = st.sampled_from(["asc", "desc"])


def check_paged(world: Any, operation_id: str, params: dict[str, Any], items: str, count: str, limit: int,
                offset: int, whole_limit: int) -> None:
    """The page is a slice of the whole answer, and both report the whole answer's size."""
    whole = H[operation_id](world, {**params, "limit": whole_limit, "offset": 0})
    page = H[operation_id](world, {**params, "limit": limit, "offset": offset})
    assert page[count] == whole[count] == len(whole[items])
    assert page[items] == whole[items][offset:offset + limit]


@SETTINGS
@given(seed=seeds, contacts=sizes, limit=limits, offset=offsets, sort=sorts,
       voucher_field=st.sampled_from(["updatedAt", "createdAt"]),
       status=st.sampled_from([None, "draft", "completed", "rejected", "cancelled", "expired"]),
       kind=st.sampled_from([None, "credit", "debit"]))
def test_member_pages_keep_their_count(seed, contacts, limit, offset, sort, voucher_field, status, kind):
    world = build_world(seed, contacts)
    for data in world.programs:
        for contact in data.members.contact_ids[:MEMBERS]:
            for definition in data.definitions:
                ids = {"pid": data.id, "contactId": contact, "balanceDefinitionId": definition.id, "sort": sort}
                check_paged(world, "getActiveBalancesApi", {**ids, "includeInternal": True}, "activeBalances", "count",
                            limit, offset, 500)
                hidden = H["getActiveBalancesApi"](world, {**ids, "limit": limit, "offset": offset})
                if definition.internal:
                    assert hidden["count"] == 0 and hidden["activeBalances"] == []
                filters = {k: v for k, v in (("status", status), ("transactionType", kind)) if v is not None}
                check_paged(world, "getTransactionHistoryApi", {**ids, **filters}, "transactionHistory", "count",
                            limit, offset, 500)
                matching = H["getTransactionHistoryApi"](world, {**ids, **filters, "limit": 500})
                assert all(tx["status"] == status for tx in matching["transactionHistory"] if status)
                assert all(tx["transactionType"] == kind for tx in matching["transactionHistory"] if kind)
            vouchers = {"pid": data.id, "contactId": contact, "sort": sort, "sortField": voucher_field}
            check_paged(world, "getVoucherForAContact", vouchers, "contactRewards", "count", limit, offset, 100)


@SETTINGS
@given(seed=seeds, contacts=sizes, limit=limits, offset=offsets, sort=sorts,
       state=st.sampled_from(["all", "active", "inactive", "expired", "draft"]),
       version=st.sampled_from(["draft", "active"]),
       definition_field=st.sampled_from(["name", "created_at", "updated_at"]))
def test_configuration_pages_keep_their_count(seed, contacts, limit, offset, sort, state, version, definition_field):
    world = build_world(seed, contacts)
    programs = H["getLPList"](world, {"limit": 500, "sort": sort, "sort_field": definition_field})["items"]
    page = H["getLPList"](world, {"limit": limit, "offset": offset, "sort": sort, "sort_field": definition_field})
    assert page["items"] == programs[offset:offset + limit]
    for data in world.programs:
        offers = {"pid": data.id, "state": state, "version": version}
        check_paged(world, "getRewardPageApi", offers, "items", "totalCount", limit, offset, 100)
        whole = H["getRewardPageApi"](world, {**offers, "limit": 100})
        assert all(state == "all" or item["state"] == state for item in whole["items"])
        listing = {"pid": data.id, "version": version, "sort": sort, "sortField": definition_field}
        every = H["getBalanceDefinitionList"](world, {**listing, "limit": 500, "offset": 0}) if any(
            data.visible(d, version) for d in data.definitions) else {"items": []}
        expected = every["items"][offset:offset + limit]
        if expected:
            assert H["getBalanceDefinitionList"](world, {**listing, "limit": limit, "offset": offset}) == {
                "items": expected}
        else:  # the documented 204: nothing on this page
            with pytest.raises(NoContent):
                H["getBalanceDefinitionList"](world, {**listing, "limit": limit, "offset": offset})
