"""Reward operations: the offers page, one reward, a contact's vouchers, and code pool sizes.

Voucher metadata filter (``metadata_key_value``): ``key:value`` keeps vouchers
whose ``meta[key]`` reads exactly as ``value`` (booleans as true/false, numbers
as written); a bare ``key`` keeps vouchers that have the key at all. Only the
first ':' splits, so values may contain colons.
"""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from mock_server.backend.rewards import VoucherRef
from mock_server.errors import InvalidParameter, UnknownResource
from mock_server.routes.signatures import Handler, Params, WriteHandler
from mock_server.store.models import Redemption, Reward, Voucher, from_datetime, iso, iso_or_none, parse_iso, thaw
from mock_server.store.queries import (
    descending,
    member_of,
    meta_matches,
    norm_id,
    ordered,
    page,
    parse_meta_filter,
    program_of,
    visible_or_404,
)
from mock_server.store.world import ProgramData, World

if TYPE_CHECKING:
    from mock_server.backend import Backend

_VOUCHER_SORT_KEYS = MappingProxyType({
    "updatedAt": lambda v: (v.updated_at, v.id),
    "createdAt": lambda v: (v.created_at, v.id),
})


def reward_summary(reward: Reward) -> dict[str, Any]:
    return {
        "id": reward.id,
        "loyaltyProgramId": reward.program_id,
        "name": reward.name,
        "publicImage": reward.public_image,
        "state": reward.state,
        "startDate": iso(reward.start_date),
        "endDate": iso(reward.end_date),
        "createdAt": iso(reward.created_at),
        "updatedAt": iso(reward.updated_at),
    }


def reward_detail(data: ProgramData, reward: Reward) -> dict[str, Any]:
    """The full reward; keys that do not apply to this reward (no pool, no rule ...) are left out."""
    code_mode = "fixed" if reward.code else "pool" if reward.code_pool_id else "generator"
    item: dict[str, Any] = {
        "id": reward.id,
        "loyaltyProgramId": reward.program_id,
        "name": reward.name,
        "publicName": reward.public_name,
        "publicDescription": reward.public_description,
        "publicImage": reward.public_image,
        "meta": thaw(reward.meta),
        "attributionPerConsumer": reward.attribution_per_consumer,
        "redeemPerConsumer": reward.redeem_per_consumer,
        "totalAttribution": reward.total_attribution,
        "totalRedeem": reward.total_redeem,
    }
    _put(item, "balanceDefinitionId", reward.balance_definition_id)
    _put(item, "code", reward.code)
    item["codeCount"] = reward.code_count
    _put(item, "codeGeneratorId", reward.code_generator_id)
    _put(item, "codePoolId", reward.code_pool_id)
    item["config"] = reward.value_type
    item["createdAt"] = iso(reward.created_at)
    item["updatedAt"] = iso(reward.updated_at)
    item["disabledAt"] = iso_or_none(reward.disabled_at)
    item["startDate"] = iso(reward.start_date)
    item["endDate"] = iso(reward.end_date)
    # A fixed expiry date of every voucher, or their lifetime: only the one that applies is shown.
    if reward.expiration_date is not None:
        item["expirationDate"] = iso(reward.expiration_date)
    item["expirationModifier"] = "noModification"
    if reward.expiration_date is None:
        item["expirationUnit"] = reward.expiration_unit
        item["expirationValue"] = reward.expiration_value
    generator = data.generator_by_id.get(reward.code_generator_id or "")
    if generator is not None:
        item["generator"] = {
            "id": generator.id,
            "name": generator.name,
            "description": generator.description,
            "pattern": generator.pattern,
            "createdAt": iso(generator.created_at),
            "updatedAt": iso(generator.updated_at),
        }
    item["limits"] = [
        {
            "rewardLimitId": limit.id,
            "type": limit.type,
            "limitValue": limit.limit_value,
            "durationValue": limit.duration_value,
            "durationUnit": limit.duration_unit,
            "slidingSchedule": limit.sliding_schedule,
            "createdAt": iso(limit.created_at),
            "updatedAt": iso(limit.updated_at),
        }
        for limit in reward.limits
    ]
    item["products"] = [thaw(product) for product in reward.products]
    item["redeemRules"] = []
    item["rewardConfigs"] = {
        "attribution": "rule" if reward.rule is not None else "manual",
        "code": code_mode,
        "value": reward.value_type,
    }
    if reward.rule is not None:
        item["rule"] = thaw(reward.rule)
    if reward.subtract_balance_value and reward.balance_definition_id:
        item["subtractBalanceDefinitionId"] = reward.balance_definition_id
        item["subtractBalanceStrategy"] = "fixed"
        item["subtractBalanceValue"] = reward.subtract_balance_value
    item["subtractTotalBalance"] = False
    _put(item, "triggerId", reward.trigger_id)
    item["unit"] = reward.unit
    item["value"] = reward.value
    item["valueType"] = reward.value_type
    return item


def _put(item: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        item[key] = value


def voucher_item(voucher: Voucher) -> dict[str, Any]:
    return {
        "id": voucher.id,
        "rewardId": voucher.reward_id,
        "code": voucher.code,
        "meta": thaw(voucher.meta),
        "unit": voucher.unit,
        "value": voucher.value,
        "createdAt": iso(voucher.created_at),
        "updatedAt": iso(voucher.updated_at),
        "consumedAt": iso_or_none(voucher.consumed_at),
        "expirationDate": iso(voucher.expiration_date),
        "validFrom": iso(voucher.valid_from),
    }


def get_reward_page_api(world: World, params: Params) -> dict[str, Any]:
    """Rewards newest first; ``state`` other than "all" keeps rewards in that state."""
    data = program_of(world, params)
    version = params["version"]
    state = str(params["state"]).lower()
    found = [
        reward
        for reward in data.rewards
        if data.visible(reward, version) and (state == "all" or reward.state == state)
    ]
    found = ordered(found, lambda r: (r.created_at, r.id), reverse=True)
    chosen = page(found, params["offset"], params["limit"])
    return {"items": [reward_summary(reward) for reward in chosen], "totalCount": len(found)}


def get_reward_information(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    raw = params["rid"]
    reward = visible_or_404(
        data, data.reward_by_id.get(norm_id(raw)), params["version"], "Reward", "rid", raw
    )
    return reward_detail(data, reward)


def get_voucher_for_a_contact(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    member = member_of(world, data, params["contactId"], "contactId")
    found = list(member.vouchers)
    reward_id = params.get("rewardId")
    if reward_id is not None:
        wanted = norm_id(reward_id)
        found = [voucher for voucher in found if voucher.reward_id == wanted]
    text = params.get("metadata_key_value")
    if text is not None:
        key, value = parse_meta_filter(text)
        found = [voucher for voucher in found if meta_matches(voucher.meta, key, value)]
    key_of = _VOUCHER_SORT_KEYS[params["sortField"]]
    found = ordered(found, key_of, descending(params))
    return {
        "contactId": member.contact_id,
        "loyaltyProgramId": data.id,
        "loyaltySubscriptionId": member.subscription.loyalty_subscription_id,
        "count": len(found),
        "contactRewards": [
            voucher_item(voucher) for voucher in page(found, params["offset"], params["limit"])
        ],
    }


def get_code_count(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    raw = params["cpid"]
    pool = data.pool_by_id.get(norm_id(raw))
    if pool is None:
        raise UnknownResource("Code pool", "cpid", raw)
    return {"count": pool.code_count}


HANDLERS: dict[str, Handler] = {
    "getRewardPageApi": get_reward_page_api,
    "getRewardInformation": get_reward_information,
    "getVoucherForAContact": get_voucher_for_a_contact,
    "getCodeCount": get_code_count,
}


# ------------------------------------------------------------------------------------------- writes


def redemption_item(redemption: Redemption) -> dict[str, Any]:
    """A redemption as redeem and complete answer it (every key always present; a debit is made at issue)."""
    return {
        "id": redemption.id,
        "status": redemption.status,
        "loyaltyProgramId": redemption.program_id,
        "contactId": redemption.contact_id,
        "rewardAttributionId": redemption.voucher_id,
        "debitTransactionId": None,
        "meta": thaw(redemption.meta),
        "rejectReason": None,
        "createdAt": iso(redemption.created_at),
        "updatedAt": iso(redemption.updated_at),
        "expiresAt": iso_or_none(redemption.expires_at),
        "completedAt": iso_or_none(redemption.completed_at),
        "cancelledAt": None,
        "rejectedAt": None,
    }


def _moment(body: dict[str, Any], field: str) -> int | None:
    """A body date: RFC 3339, or ``DD/MM/YYYY HH:MM AM|PM`` read in UTC (the mock organisation's timezone)."""
    text = body.get(field)
    if text is None:
        return None
    try:
        if "/" in str(text):
            return from_datetime(datetime.strptime(str(text), "%d/%m/%Y %I:%M %p"))
        return parse_iso(str(text))
    except ValueError:
        raise InvalidParameter(f"{field} {text!r} is not a date-time") from None


def _voucher_ref(body: dict[str, Any]) -> VoucherRef:
    return VoucherRef(
        attributed_reward_id=body.get("attributedRewardId"),
        code=body.get("code"),
        reward_id=body.get("rewardId"),
        contact_id=body.get("contactId"),
        loyalty_subscription_id=body.get("loyaltySubscriptionId"),
    )


def create_reward(backend: Backend, params: Params, body: dict[str, Any]) -> dict[str, Any]:
    data, reward = backend.rewards.create_reward(
        params["pid"], body["name"], public_name=body.get("publicName"),
        public_description=body.get("publicDescription"), public_image=body.get("publicImage"),
    )
    return reward_detail(data, reward)


def create_voucher(backend: Backend, params: Params, body: dict[str, Any]) -> dict[str, Any]:
    data, voucher = backend.rewards.create_voucher(
        params["pid"], body["rewardId"], contact_id=body.get("contactId"),
        loyalty_subscription_id=body.get("loyaltySubscriptionId"), code=body.get("code"), value=body.get("value"),
        valid_from=_moment(body, "validFrom"), expiration_date=_moment(body, "expirationDate"), meta=body.get("meta"),
    )
    return {**voucher_item(voucher), "contactId": voucher.contact_id, "loyaltyProgramId": data.id}


def redeem_voucher(backend: Backend, params: Params, body: dict[str, Any]) -> dict[str, Any]:
    redemption = backend.rewards.redeem_voucher(
        params["pid"], _voucher_ref(body), ttl=body.get("ttl"), auto_complete=bool(body.get("autoComplete")),
        meta=body.get("meta"),
    )
    return redemption_item(redemption)


def complete_redeem_transaction(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    return redemption_item(backend.rewards.complete_redeem_transaction(params["pid"], params["tid"]))


def revoke_vouchers(backend: Backend, params: Params, body: Any) -> None:
    ids = [part.strip() for part in str(params["attributedRewardIds"]).split(",") if part.strip()]
    backend.rewards.revoke_vouchers(params["pid"], ids)  # 204, no body


def validate_reward(backend: Backend, params: Params, body: dict[str, Any]) -> dict[str, Any]:
    return {"authorize": backend.rewards.validate_reward(params["pid"], _voucher_ref(body))}


WRITE_HANDLERS: dict[str, WriteHandler] = {
    "createReward": create_reward,
    "createVoucher": create_voucher,
    "redeemVoucher": redeem_voucher,
    "completeRedeemTransaction": complete_redeem_transaction,
    "revokeVouchers": revoke_vouchers,
    "validateReward": validate_reward,
}
