"""Balance operations: definitions, limits, member totals, active credits and transaction history.

Amounts are kept in minor units in the store and rendered per definition:
points as integers, money as numbers with at most two decimals. Definitions
flagged internal (meta ``isInternal``) are left out of totals unless the request
sets ``includeInternal``; asking for the contact balances or active credits of an
internal definition without it gives an empty page.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orjson import Fragment

from mock_server.errors import NoContent
from mock_server.routes.rendered import rendered, rendered_transaction
from mock_server.routes.signatures import Handler, Params, WriteHandler
from mock_server.store.models import (
    BalanceDefinition,
    BalanceLimit,
    Transaction,
    iso,
    iso_or_none,
    render_amount,
    thaw,
)
from mock_server.store.queries import (
    definition_of,
    descending,
    member_of,
    norm_id,
    ordered,
    page,
    page_of_order,
    program_of,
    visible_or_404,
)
from mock_server.store.world import ProgramData, World

if TYPE_CHECKING:
    from mock_server.backend import Backend
    from mock_server.backend.balances import TransactionResult

_DEFINITION_SORT_KEYS = MappingProxyType({
    "name": lambda d: (d.name.casefold(), d.id),
    "created_at": lambda d: (d.created_at, d.id),
    "updated_at": lambda d: (d.updated_at, d.id),
})


# ------------------------------------------------------------------ renderers


def definition_item(definition: BalanceDefinition) -> dict[str, Any]:
    scale = definition.scale
    item: dict[str, Any] = {
        "id": definition.id,
        "name": definition.name,
        "description": definition.description,
    }
    if definition.image_ref:  # a definition created without an image has none to show (the field is a URI)
        item["imageRef"] = definition.image_ref
    item.update({
        "meta": thaw(definition.meta),
        "unit": definition.unit,
        "minAmount": render_amount(definition.min_amount, scale),
        "maxAmount": render_amount(definition.max_amount, scale),
        "maxCreditAmountLimit": render_amount(definition.max_credit_amount_limit, scale),
        "maxDebitAmountLimit": render_amount(definition.max_debit_amount_limit, scale),
        "balanceOptionAmountOvertakingStrategy": definition.overtaking_strategy,
        "balanceOptionCreditRounding": definition.credit_rounding,
        "balanceOptionDebitRounding": definition.debit_rounding,
    })
    # A credit lifetime or a yearly expiry day: only the one that applies is shown.
    if definition.duration_value is not None:
        item["balanceAvailabilityDurationValue"] = definition.duration_value
        item["balanceAvailabilityDurationUnit"] = definition.duration_unit
        item["balanceAvailabilityDurationModifier"] = definition.duration_modifier
    if definition.expiration_date is not None:
        item["balanceExpirationDate"] = definition.expiration_date
    item["createdAt"] = iso(definition.created_at)
    item["updatedAt"] = iso(definition.updated_at)
    item["deletedAt"] = None
    return item


def definition_json(data: ProgramData, definition: BalanceDefinition) -> Fragment:
    return rendered(data, ("definition", definition.id), lambda: definition_item(definition))


def limit_item(limit: BalanceLimit, scale: int) -> dict[str, Any]:
    value = render_amount(limit.value, scale) if limit.constraint_type == "amount" else limit.value
    return {
        "id": limit.id,
        "balanceDefinitionId": limit.balance_definition_id,
        "transactionType": limit.transaction_type,
        "constraintType": limit.constraint_type,
        "durationValue": limit.duration_value,
        "durationUnit": limit.duration_unit,
        "value": value,
        "slidingSchedule": limit.sliding_schedule,
        "createdAt": iso(limit.created_at),
        "updatedAt": iso(limit.updated_at),
    }


def transaction_item(tx: Transaction, scale: int) -> dict[str, Any]:
    return {
        "id": tx.id,
        "amount": render_amount(tx.amount, scale),
        "transactionType": tx.transaction_type,
        "status": tx.status,
        "meta": thaw(tx.meta),
        "balanceExpirationDate": iso_or_none(tx.balance_expiration_date),
        "createdAt": iso(tx.created_at),
        "completedAt": iso_or_none(tx.completed_at),
        "cancelledAt": iso_or_none(tx.cancelled_at),
        "rejectedAt": iso_or_none(tx.rejected_at),
        "rejectReason": tx.reject_reason,
    }


# ----------------------------------------------------------------- operations


def get_balance_definition_list(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    version = params["version"]
    key = _DEFINITION_SORT_KEYS[params["sortField"]]
    found = ordered((d for d in data.definitions if data.visible(d, version)), key, descending(params))
    chosen = page(found, params["offset"], params["limit"])
    if not chosen:
        raise NoContent()
    return {"items": [definition_json(data, definition) for definition in chosen]}


def get_balance_definition(world: World, params: Params) -> Fragment:
    data = program_of(world, params)
    raw = params["bdid"]
    found = data.definition_by_id.get(norm_id(raw))
    definition = visible_or_404(data, found, params["version"], "Balance definition", "bdid", raw)
    return definition_json(data, definition)


def get_balance_limit(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    version = params["version"]
    raw_definition = params["bdid"]
    definition = visible_or_404(
        data, data.definition_by_id.get(norm_id(raw_definition)), version, "Balance definition", "bdid",
        raw_definition,
    )
    raw = params["blid"]
    limit = data.limit_by_id.get(norm_id(raw))
    if limit is not None and limit.balance_definition_id != definition.id:
        limit = None  # a limit of another definition is not found under this one
    limit = visible_or_404(data, limit, version, "Balance limit", "blid", raw)
    return limit_item(limit, definition.scale)


def get_subscription_balances(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    member = member_of(world, data, params["cid"], "cid")
    include_internal = params["includeInternal"]
    return {
        "loyaltyProgramId": data.id,
        "contactId": member.contact_id,
        "balance": [
            {"balanceDefinitionId": definition.id, "value": render_amount(ledger.value, definition.scale)}
            for definition, ledger in zip(data.definitions, member.ledgers, strict=True)
            if (include_internal or not definition.internal) and not definition.deleted
        ],
    }


def get_contact_balances(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    definition = definition_of(data, params, "balanceDefinitionId")
    body: dict[str, Any] = {"loyaltyProgramId": data.id, "balanceDefinitionId": definition.id}
    if definition.internal and not params["includeInternal"]:
        return {**body, "count": 0, "balances": []}
    table = data.members
    d = definition.index
    order = table.order(d, params["sortField"])
    positions = page_of_order(order, params["offset"], params["limit"], descending(params))
    values, updated, scale = table.values[d], table.updated_at[d], definition.scale
    return {
        **body,
        "count": len(table),
        "balances": [
            {
                "contactId": table.contact_ids[p],
                "loyaltySubscriptionId": table.subscription_ids[p],
                "updatedAt": iso(updated[p]),
                "value": render_amount(values[p], scale),
            }
            for p in positions
        ],
    }


def get_active_balances_api(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    definition = definition_of(data, params, "balanceDefinitionId")
    member = member_of(world, data, params["contactId"], "contactId")
    body: dict[str, Any] = {
        "count": 0,
        "loyaltyProgramId": data.id,
        "contactId": member.contact_id,
        "balanceDefinitionId": definition.id,
        "activeBalances": [],
    }
    if definition.internal and not params["includeInternal"]:
        return body
    ledger = member.ledgers[definition.index]
    found = ordered(ledger.active_balances, lambda a: (a.created_at, a.id), descending(params))
    body["count"] = len(found)
    body["activeBalances"] = [
        {
            "id": active.id,
            "amount": render_amount(active.amount, definition.scale),
            "createdAt": iso(active.created_at),
            "expiresAt": iso_or_none(active.expires_at),
        }
        for active in page(found, params["offset"], params["limit"])
    ]
    return body


def get_transaction_history_api(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    definition = definition_of(data, params, "balanceDefinitionId")
    member = member_of(world, data, params["contactId"], "contactId")
    subscription = params.get("loyaltySubscriptionId")
    history = world.history(data, member, definition.index)
    found: tuple[Transaction, ...] = ()
    if subscription is None or subscription == member.subscription.loyalty_subscription_id:
        # Filtered and ordered once per revision of the ledger: a page costs its size, not the history's.
        found = history.selection(params.get("status"), params.get("transactionType"), descending(params))
    scale = definition.scale
    return {
        "loyaltyProgramId": data.id,
        "balanceDefinitionId": definition.id,
        "contactId": member.contact_id,
        "count": len(found),
        "transactionHistory": [
            rendered_transaction(history, tx, scale, transaction_item)
            for tx in page(found, params["offset"], params["limit"])
        ],
    }


# ----------------------------------------------------------------- writes


def transaction_answer(result: TransactionResult) -> dict[str, Any]:
    """A transaction as begin, complete and cancel answer it; `balance` only when that call moved it."""
    tx, definition = result.transaction, result.definition
    scale = definition.scale
    # A write's moments are mostly one (created, completed and updated at the write's tick): rendered once.
    created_at = tx.created_at
    created = iso(created_at)
    body: dict[str, Any] = {
        "id": tx.id,
        "amount": render_amount(tx.amount, scale),
        "balance": None,
        "transactionType": tx.transaction_type,
        "status": tx.status,
        "meta": thaw(tx.meta),
        "loyaltyProgramId": result.program_id,
        "balanceDefinitionId": definition.id,
        "contactId": result.contact_id,
        "eventTime": iso_or_none(tx.event_time),
        "rejectReason": tx.reject_reason,
        "rejectedAt": _moment(tx.rejected_at, created_at, created),
        "expirationDate": iso_or_none(tx.expires_at),
        "completedAt": _moment(tx.completed_at, created_at, created),
        "cancelledAt": _moment(tx.cancelled_at, created_at, created),
        "createdAt": created,
        "updatedAt": _moment(tx.last_event_at, created_at, created),
    }
    if result.balance is None:
        del body["balance"]  # the others keep their order
    else:
        body["balance"] = render_amount(result.balance, scale)
    return body


def _moment(ms: int | None, known: int, rendered: str) -> str | None:
    """`iso_or_none(ms)`, reusing `rendered` (the date of `known`) when it is that moment."""
    if ms is None:
        return None
    return rendered if ms == known else iso(ms)


def create_balance_definition(backend: Backend, params: Params, body: Any) -> Fragment:
    data, definition = backend.balances.create_definition(params["pid"], body)
    return definition_json(data, definition)


def update_balance_definition(backend: Backend, params: Params, body: Any) -> Fragment:
    data, definition = backend.balances.update_definition(params["pid"], params["bdid"], body)
    return definition_json(data, definition)


def delete_balance_definition(backend: Backend, params: Params, body: Any) -> None:
    backend.balances.delete_definition(params["pid"], params["bdid"])


def create_balance_limit(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    definition, limit = backend.balances.create_limit(params["pid"], params["bdid"], body)
    return limit_item(limit, definition.scale)


def update_balance_limit(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    definition, limit = backend.balances.update_limit(params["pid"], params["bdid"], params["blid"], body)
    return limit_item(limit, definition.scale)


def delete_balance_limit(backend: Backend, params: Params, body: Any) -> None:
    backend.balances.delete_limit(params["pid"], params["bdid"], params["blid"])


def create_subscription_balances(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    opened = backend.balances.open_balance(params["pid"], params["cid"], body["balanceDefinitionId"])
    return {
        "id": opened.id,
        "amount": render_amount(opened.amount, opened.definition.scale),
        "loyaltyProgramId": opened.program_id,
        "contactId": opened.contact_id,
        "balanceDefinitionId": opened.definition.id,
        "createdAt": iso(opened.created_at),
        "expiresAt": None,
        "consumedAt": None,
    }


def begin_transaction(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    result = backend.balances.begin_transaction(
        params["pid"],
        balance_definition_id=body["balanceDefinitionId"],
        amount=body["amount"],
        transaction_type=body.get("transactionType"),
        contact_id=body.get("contactId"),
        loyalty_subscription_id=body.get("LoyaltySubscriptionId"),
        meta=body.get("meta"),
        ttl=body.get("ttl"),
        event_time=body.get("eventTime"),
        auto_complete=bool(body.get("autoComplete", False)),
        balance_expiry_minutes=body.get("balanceExpiryInMinutes"),
    )
    return transaction_answer(result)


def complete_transaction(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    return transaction_answer(backend.balances.complete_transaction(params["pid"], params["tid"]))


def cancel_transaction(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    return transaction_answer(backend.balances.cancel_transaction(params["pid"], params["tid"]))


def create_balance_order(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    order = backend.balances.create_order(
        params["pid"],
        balance_definition_id=body["balanceDefinitionId"],
        amount=body["amount"],
        contact_id=body["contactId"],
        due_at=body["dueAt"],
        expires_at=body.get("expiresAt"),
        meta=body.get("meta"),
    )
    result = order.transaction
    return {
        "id": order.id,
        "amount": render_amount(order.amount, result.definition.scale),
        "balanceDefinitionId": result.definition.id,
        "contactId": result.contact_id,
        "loyaltyProgramId": result.program_id,
        "dueAt": iso(order.due_at),
        "expiresAt": iso_or_none(order.expires_at),
        "processedAt": None,
        "transactionid": result.transaction.id,
        "meta": thaw(order.meta),
        "createdAt": iso(order.created_at),
        "updatedAt": iso(order.created_at),
    }


WRITE_HANDLERS: dict[str, WriteHandler] = {
    "createBalanceDefinition": create_balance_definition,
    "updateBalanceDefinition": update_balance_definition,
    "deleteBalanceDefinition": delete_balance_definition,
    "createBalanceLimit": create_balance_limit,
    "updateBalanceLimit": update_balance_limit,
    "deleteBalanceLimit": delete_balance_limit,
    "createSubscriptionBalances": create_subscription_balances,
    "beginTransaction": begin_transaction,
    "completeTransaction": complete_transaction,
    "cancelTransaction": cancel_transaction,
    "createBalanceOrder": create_balance_order,
}


HANDLERS: dict[str, Handler] = {
    "getBalanceDefinitionList": get_balance_definition_list,
    "getBalanceDefinition": get_balance_definition,
    "getBalanceLimit": get_balance_limit,
    "getSubscriptionBalances": get_subscription_balances,
    "getContactBalances": get_contact_balances,
    "getActiveBalancesApi": get_active_balances_api,
    "getTransactionHistoryApi": get_transaction_history_api,
}
