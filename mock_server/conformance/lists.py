"""The paged lists of the contract: where their items are, what they count, how they sort.

The semantic properties page, sort and filter these; the table is read from
the contract by hand once (names of the item arrays, the count field, the
sort parameter and its values), because the contract says what the fields
are but not which field a sort value orders by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PROGRAM_SORTS = {"name": "name", "created_at": "createdAt", "updated_at": "updatedAt"}


@dataclass(frozen=True)
class ListSpec:
    operation_id: str
    path: str  # with {pid}
    items: str  # the array of the page
    count: str | None  # the total over all pages, when the list reports one
    max_limit: int  # the largest page the contract allows (500 when it sets no maximum)
    needs: str | None = None  # "definition", "member" or "contact": what else the request names
    sort_param: str | None = None
    sort_fields: dict[str, str] = field(default_factory=dict)  # sort value -> item field
    include_internal: bool = False  # the list takes includeInternal (internal balances are opt-in)


LISTS = (
    ListSpec("getLPList", "/loyalty/config/programs", "items", None, 500,
             sort_param="sort_field", sort_fields=PROGRAM_SORTS),
    ListSpec("getBalanceDefinitionList", "/loyalty/balance/programs/{pid}/balance-definitions", "items", None, 500,
             sort_param="sortField", sort_fields=PROGRAM_SORTS),
    ListSpec("getContactBalances", "/loyalty/balance/programs/{pid}/contact-balances", "balances", "count", 500,
             needs="definition", sort_param="sortField", sort_fields={"updatedAt": "updatedAt", "value": "value"},
             include_internal=True),
    ListSpec("getActiveBalancesApi", "/loyalty/balance/programs/{pid}/active-balance", "activeBalances", "count",
             500, needs="member", sort_param="sortField", sort_fields={"createdAt": "createdAt"},
             include_internal=True),
    ListSpec("getTransactionHistoryApi", "/loyalty/balance/programs/{pid}/transaction-history",
             "transactionHistory", "count", 500, needs="member", sort_param="sortField",
             sort_fields={"createdAt": "createdAt"}),
    ListSpec("getRewardPageApi", "/loyalty/offer/programs/{pid}/offers", "items", "totalCount", 100),
    ListSpec("getVoucherForAContact", "/loyalty/offer/programs/{pid}/vouchers", "contactRewards", "count", 100,
             needs="contact", sort_param="sortField",
             sort_fields={"updatedAt": "updatedAt", "createdAt": "createdAt"}),
)


def sort_key(item: dict[str, Any], field_name: str) -> Any:
    """How a field orders: names case-insensitively, times as instants, numbers as numbers."""
    value = item.get(field_name)
    if field_name == "name":
        return str(value or "").casefold()
    if field_name.endswith("At"):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    return value
