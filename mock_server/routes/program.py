"""Program operations: programs, their subscriptions and subscription members, and the account view.

Reads take the world; writes (`WRITE_HANDLERS`) make one call to the backend's `programs`
service and render its result with the same renderers as the reads.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orjson import Fragment

from mock_server.errors import BadRequest, UnknownResource
from mock_server.routes.rendered import rendered
from mock_server.routes.signatures import Handler, Params, WriteHandler
from mock_server.store.models import Ledger, LoyaltyProgram, Member, iso, render_amount, thaw
from mock_server.store.program_rules import organization_number
from mock_server.store.queries import descending, ordered, page, program_of
from mock_server.store.world import ProgramData, World

if TYPE_CHECKING:
    from mock_server.backend import Backend

ACCOUNT_SECTIONS = ("balance", "members", "reward", "tier")
_PROGRAM_SORT_KEYS = MappingProxyType({
    "name": lambda p: (p.name.casefold(), p.id),
    "created_at": lambda p: (p.created_at, p.id),
    "updated_at": lambda p: (p.updated_at, p.id),
})


def program_item(program: LoyaltyProgram) -> dict[str, Any]:
    return {
        "id": program.id,
        "name": program.name,
        "description": program.description,
        "meta": thaw(program.meta),
        "state": program.state,
        "subscriptionPoolId": program.subscription_pool_id,
        "subscriptionGeneratorId": program.subscription_generator_id,
        "pattern": program.pattern,
        "codeCount": program.code_count,
        "documentId": program.document_id,
        "birthdayAttribute": program.birthday_attribute,
        "createdAt": iso(program.created_at),
        "updatedAt": iso(program.updated_at),
    }


def program_json(data: ProgramData) -> Fragment:
    return rendered(data, "program", lambda: program_item(data.program))


def get_lp_list(world: World, params: Params) -> dict[str, Any]:
    key = _PROGRAM_SORT_KEYS[params["sort_field"]]
    programs = ordered(world.programs, lambda data: key(data.program), descending(params))
    chosen = page(programs, params["offset"], params["limit"])
    return {"items": [program_json(data) for data in chosen]}


def get_loyalty_program_info(world: World, params: Params) -> Fragment:
    return program_json(program_of(world, params))


def get_parameter_subscription_info(world: World, params: Params) -> dict[str, Any]:
    data = program_of(world, params)
    member = _subscription(world, data, params.get("contactId"), params.get("loyaltySubscriptionId"))
    sections = _sections(params.get("params"))
    include_internal = params["includeInternal"]
    program_id = data.id
    contact_id = member.contact_id
    body: dict[str, Any] = {}
    if "balance" in sections:
        body["balance"] = {
            "balances": [
                {"balanceDefinitionId": definition.id, "value": render_amount(ledger.value, definition.scale)}
                for definition, ledger in zip(data.definitions, member.ledgers, strict=True)
                if (include_internal or not definition.internal) and not definition.deleted
            ],
            "contactId": contact_id,
            "loyaltyProgramId": program_id,
        }
    if "members" in sections:
        body["members"] = members_items(member)
    if "reward" in sections:
        body["reward"] = [
            {
                "id": voucher.id,
                "rewardId": voucher.reward_id,
                "code": voucher.code,
                "contactId": contact_id,
                "loyaltyProgramId": program_id,
                "meta": thaw(voucher.meta),
                "createdAt": iso(voucher.created_at),
                "updatedAt": iso(voucher.updated_at),
                "expirationDate": iso(voucher.expiration_date),
                "validFrom": iso(voucher.valid_from),
            }
            for voucher in member.vouchers
        ]
    if "tier" in sections:
        body["tier"] = _tier_assignments(data, member)
    return body


def members_items(member: Member) -> list[dict[str, Any]]:
    """The contacts of a subscription: its owner, then the contacts attached to it."""
    joined = iso(member.subscription.created_at)
    return [
        {"memberContactId": member.contact_id, "createdAt": joined, "updatedAt": joined},
        *({"memberContactId": attached.contact_id, "createdAt": iso(attached.created_at),
           "updatedAt": iso(attached.updated_at)} for attached in member.subscription_members),
    ]


def _subscription(world: World, data: ProgramData, contact: str | None, subscription: str | None) -> Member:
    """The subscription named by contact id, by subscription id, or by both (then they must agree).

    The contract checks the values and that at least one is sent (`x-requires-any-of`).
    """
    by_contact = by_subscription = None
    if contact is not None:
        by_contact = world.member(data, int(contact))
        if by_contact is None:
            raise UnknownResource("Subscription of contact", "contactId", contact)
    if subscription is not None:
        by_subscription = world.member_by_subscription(data, subscription)
        if by_subscription is None:
            raise UnknownResource("Loyalty subscription", "loyaltySubscriptionId", subscription)
    if by_contact is not None and by_subscription is not None and by_contact.contact_id != by_subscription.contact_id:
        raise BadRequest(
            f"contactId {by_contact.contact_id} and loyaltySubscriptionId {subscription!r} designate different "
            f"subscriptions (that one belongs to contact {by_subscription.contact_id})"
        )
    found = by_contact or by_subscription
    assert found is not None
    return found


def _sections(text: str | None) -> tuple[str, ...]:
    """The sections `params` asks for (the contract's pattern lets only known ones through); all by default."""
    return ACCOUNT_SECTIONS if text is None else tuple(text.split(","))


def _tier_assignments(data: ProgramData, member: Member) -> list[dict[str, Any]]:
    """The tier the member holds in each tier group (none in a group whose lowest tier is out of reach)."""
    assigned = []
    for group in data.tier_groups:
        current, _ = data.standing_of(group, member)
        if current is None:
            continue
        by_hand = member.tier_assignments.get(group.id)
        if by_hand is not None and by_hand.tier_id == current.id:
            since: int | None = by_hand.created_at
        else:
            ledger = member.ledger(group.balance_definition_id)
            scale = data.definition_by_id[group.balance_definition_id].scale
            since = _reached_at(ledger, current.threshold * scale)
        since = since if since is not None else member.subscription.created_at
        assigned.append(
            {
                "tierId": current.id,
                "groupId": group.id,
                "contactId": member.contact_id,
                "loyaltyProgramId": data.id,
                "meta": {},
                "createdAt": iso(since),
                "updatedAt": iso(since),
            }
        )
    return assigned


def _reached_at(ledger: Ledger | None, threshold: int) -> int | None:
    """When the balance last climbed to `threshold` and stayed there (None: held since enrollment)."""
    if ledger is None or threshold <= 0:
        return None
    running, since = 0, None
    completed = sorted((tx for tx in ledger.transactions if tx.counts), key=lambda tx: tx.completed_at or 0)
    for tx in completed:
        before = running
        running += tx.signed_amount
        if running >= threshold > before:
            since = tx.completed_at
        elif running < threshold:
            since = None
    return since


HANDLERS: dict[str, Handler] = {
    "getLPList": get_lp_list,
    "getLoyaltyProgramInfo": get_loyalty_program_info,
    "getParameterSubscriptionInfo": get_parameter_subscription_info,
}


# --------------------------------------------------------------------------- writes


def subscription_item(organisation: str, member: Member) -> dict[str, Any]:
    subscription = member.subscription
    return {
        "organizationId": organization_number(organisation),
        "loyaltyProgramId": subscription.program_id,
        "versionId": 1,  # the subscription record's own version: 1 as created
        "contactId": subscription.contact_id,
        "loyaltySubscriptionId": subscription.loyalty_subscription_id,
        "meta": thaw(subscription.meta),
        "createdAt": iso(subscription.created_at),
        "updatedAt": iso(subscription.updated_at),
    }


def subscription_members_item(organisation: str, member: Member) -> dict[str, Any]:
    attached = member.subscription_members
    since = min((a.created_at for a in attached), default=member.subscription.created_at)
    changed = max((a.updated_at for a in attached), default=member.subscription.updated_at)
    return {
        "organizationId": organization_number(organisation),
        "ownerContactId": member.contact_id,
        "memberContactIds": [a.contact_id for a in attached],
        "createdAt": iso(since),
        "updatedAt": iso(changed),
    }


def create_new_lp(backend: Backend, params: Params, body: Any) -> Fragment:
    data = backend.programs.create(body["name"], body.get("description"), body.get("documentId"), body.get("meta"))
    return program_json(data)


def update_loyalty_program(backend: Backend, params: Params, body: Any) -> Fragment:
    return program_json(backend.programs.update(params["pid"], body["name"], body.get("description"),
                                                body.get("meta")))


def partially_update_loyalty_program(backend: Backend, params: Params, body: Any) -> Fragment:
    return program_json(backend.programs.change(params["pid"], body or {}))


def delete_loyalty_program(backend: Backend, params: Params, body: Any) -> None:
    backend.programs.delete(params["pid"])


def publish_loyalty_program(backend: Backend, params: Params, body: Any) -> Fragment:
    return program_json(backend.programs.publish(params["pid"]))


def subscribe_to_loyalty_program(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    member = backend.programs.subscribe(params["pid"], body["contactId"], body.get("loyaltySubscriptionId"),
                                        body.get("creationDate"), body.get("meta"))
    return subscription_item(backend.organisation, member)


def subscribe_member_to_a_subscription(backend: Backend, params: Params, body: Any) -> dict[str, Any]:
    member = backend.programs.add_subscription_members(
        params["pid"], body["memberContactIds"], body.get("contactId"), body.get("loyaltySubscriptionId"))
    return subscription_members_item(backend.organisation, member)


def delete_contact_members(backend: Backend, params: Params, body: Any) -> None:
    contact_ids = [int(part) for part in str(params["memberContactIds"]).split(",")]
    backend.programs.remove_subscription_members(params["pid"], contact_ids)


def delete_contact_subscription(backend: Backend, params: Params, body: Any) -> None:
    backend.programs.unsubscribe(params["pid"], params["cid"])


WRITE_HANDLERS: dict[str, WriteHandler] = {
    "createNewLP": create_new_lp,
    "updateLoyaltyProgram": update_loyalty_program,
    "partiallyUpdateLoyaltyProgram": partially_update_loyalty_program,
    "deleteLoyaltyProgram": delete_loyalty_program,
    "publishLoyaltyProgram": publish_loyalty_program,
    "subscribeToLoyaltyProgram": subscribe_to_loyalty_program,
    "subscribeMemberToASubscription": subscribe_member_to_a_subscription,
    "deleteContactMembers": delete_contact_members,
    "deleteContactSubscription": delete_contact_subscription,
}
