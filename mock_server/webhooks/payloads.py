"""A webhook payload from an event: the common fields, then the objects the event is about.

Events carry records (`Backend.emit(name, program_id, contact_id, **objects)`); this module turns
them into the JSON Brevo posts. The keys an emitter may pass (all optional, each rendered when
present):

    program       ProgramData or LoyaltyProgram     -> loyalty_program {id, name}
    definition    BalanceDefinition                  -> balance_definition {id, name, unit, metadata}
    member        Member (the subscription's owner)  -> subscription, identifiers.loyalty_subscription_id
    subscription  Subscription (instead of member)   -> the same
    transaction   Transaction                        -> transaction, source_event_id
    value         int, minor units of `definition`   -> value
    balance       int, minor units of `definition`   -> balance
    tier, previous_tier  Tier | None                 -> tier, previous_tier (group from `group` or `program`)
    group         TierGroup                          -> tier_group
    reward        Reward; voucher Voucher            -> reward, voucher
    redemption    Redemption                         -> redemption_id
    reason        str                                -> reason
    expiration (or expires_at), anniversary (or anniversary_at), epoch ms -> expiration_date, anniversary_date
    months, years int                                -> months, years
    source        "api" | "schedule"                 -> source (default: by event name, see catalog.SCHEDULED)

The event id is a UUID drawn from (seed, organisation, the event's sequence number), and the
event date is the organisation's clock at the event: the same seed and requests give the same bytes.
"""

from __future__ import annotations

from functools import lru_cache
from hashlib import blake2b
from typing import Any

from mock_server.backend.events import Event
from mock_server.backend.ids import uuid4_text
from mock_server.store.models import iso, render_amount
from mock_server.webhooks.catalog import SCHEDULED


def event_id(seed: int, organisation: str, seq: int) -> str:
    """A version 4 UUID hashed from (seed, organisation, seq): the prefix's hash is copied, only `seq` hashed."""
    digest = _event_hash(seed, organisation).copy()
    digest.update(b"%d" % seq)
    return uuid4_text(digest.hexdigest())


@lru_cache(maxsize=256)
def _event_hash(seed: int, organisation: str) -> Any:
    return blake2b(f"webhook\x1f{seed}\x1f{organisation}\x1f".encode(), digest_size=16)  # never updated: copied


_MOMENTS = ((("expiration", "expires_at"), "expiration_date"), (("anniversary", "anniversary_at"), "anniversary_date"))


def render(event: Event, seed: int) -> dict[str, Any]:
    """The JSON body posted for `event`."""
    objects = event.objects
    member = objects.get("member")
    subscription = objects.get("subscription") or (member.subscription if member is not None else None)
    identifiers: dict[str, Any] = {}
    if event.contact_id is not None:
        identifiers["contact_id"] = event.contact_id
    if subscription is not None:
        identifiers["loyalty_subscription_id"] = subscription.loyalty_subscription_id
    payload: dict[str, Any] = {
        "event_name": event.name,
        "event_id": event_id(seed, event.organisation, event.seq),
        "event_date": iso(event.at),
        "contact_id": event.contact_id,
        "contact_properties": {},  # the mock keeps no contact attributes (contracts/README.md)
        "identifiers": identifiers,
        "source": objects.get("source") or ("schedule" if event.name in SCHEDULED else "api"),
    }
    program = objects.get("program")
    if program is not None:
        record = getattr(program, "program", program)  # ProgramData or the LoyaltyProgram itself
        payload["loyalty_program"] = {"id": record.id, "name": record.name}
    elif event.program_id is not None:
        payload["loyalty_program"] = {"id": event.program_id, "name": ""}
    definition = objects.get("definition")
    scale = definition.scale if definition is not None else 1
    if definition is not None:
        payload["balance_definition"] = {"id": definition.id, "name": definition.name, "unit": definition.unit,
                                         "metadata": dict(definition.meta)}
    if subscription is not None:
        payload["subscription"] = {"loyalty_subscription_id": subscription.loyalty_subscription_id,
                                   "created_at": iso(subscription.created_at),
                                   "owner_contact_id": subscription.contact_id}
    transaction = objects.get("transaction")
    if transaction is not None:
        payload["transaction"] = {"id": transaction.id, "type": transaction.transaction_type,
                                  "value": render_amount(transaction.amount, scale), "status": transaction.status,
                                  "created_at": iso(transaction.created_at)}
        payload["source_event_id"] = transaction.id
    for key in ("value", "balance"):
        if objects.get(key) is not None:
            payload[key] = render_amount(objects[key], scale)
    _tiers(payload, objects)
    _rewards(payload, objects)
    if objects.get("reason") is not None:
        payload["reason"] = str(objects["reason"])
    for keys, field in _MOMENTS:
        for key in keys:
            moment = objects.get(key)
            if moment is not None:
                payload[field] = iso(moment)
                break
    for key in ("months", "years"):
        if objects.get(key) is not None:
            payload[key] = int(objects[key])
    return payload


def _tier(tier: Any) -> dict[str, Any] | None:
    if tier is None:
        return None
    return {"id": tier.id, "name": tier.name, "threshold": tier.threshold}


def _tiers(payload: dict[str, Any], objects: Any) -> None:
    if "tier" not in objects and "previous_tier" not in objects:
        return
    tier, previous = objects.get("tier"), objects.get("previous_tier")
    payload["tier"] = _tier(tier)
    if "previous_tier" in objects:
        payload["previous_tier"] = _tier(previous)
        if "direction" not in objects:
            rising = previous is None or (tier is not None and tier.threshold > previous.threshold)
            payload["direction"] = "upgrade" if rising else "downgrade"
    if objects.get("direction") is not None:
        payload["direction"] = objects["direction"]
    group = objects.get("group")
    if group is None:
        program = objects.get("program")
        known = tier or previous
        lookup = getattr(program, "group_by_id", None)
        group = lookup.get(known.group_id) if lookup is not None and known is not None else None
    if group is not None:
        payload["tier_group"] = {"id": group.id, "name": group.name}


def _rewards(payload: dict[str, Any], objects: Any) -> None:
    reward, voucher = objects.get("reward"), objects.get("voucher")
    if reward is not None:
        payload["reward"] = {"id": reward.id, "name": reward.name}
    elif voucher is not None:  # its reward was deleted since: named by id only
        payload["reward"] = {"id": voucher.reward_id, "name": ""}
    if voucher is not None:
        payload["voucher"] = {
            "id": voucher.id, "code": voucher.code, "reward_id": voucher.reward_id, "value": voucher.value,
            "unit": voucher.unit, "valid_from": iso(voucher.valid_from),
            "expiration_date": iso(voucher.expiration_date), "created_at": iso(voucher.created_at),
            "consumed_at": iso(voucher.consumed_at) if voucher.consumed_at is not None else None,
        }
    redemption = objects.get("redemption")
    if redemption is not None:
        payload["redemption_id"] = redemption.id
