"""`Programs`: the write side of programs and subscriptions (issue 10's nine program operations).

Every method follows the backend's writing rule: check everything (raising the documented
error), take the moment, build the new frozen records, commit. A refused call leaves the
world, the clock and the ids as they were.

Statuses (see docs/writes.md, "Decisions: programs"): an unknown program or subscription is
`UnknownResource` (404); a name already taken, or a contact that already has its place in the
program when attaching members, is `Conflict` (409); enrolling in a program never published, a
contact enrolled twice and a creation date in the future are 422; a loyaltySubscriptionId held by
another contact is the documented 400.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mock_server.errors import BadRequest, Conflict, InvalidParameter, UnknownResource
from mock_server.store.models import EMPTY_META, Member, Meta, freeze, parse_iso
from mock_server.store.program_rules import generated_subscription_id, new_member, new_program, published
from mock_server.store.world import ProgramData

if TYPE_CHECKING:
    from mock_server.backend.state import Backend


class Programs:
    """`backend.programs`: create, update (PUT), change (PATCH), delete, publish; subscribe, unsubscribe;
    owner (look-up), add_subscription_members, remove_subscription_members."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    # ------------------------------------------------------------------ programs

    def create(self, name: str, description: str | None = None, document_id: str | None = None,
               meta: Mapping[str, Any] | None = None) -> ProgramData:
        """A new program, `inactive` until published."""
        backend = self.backend
        with backend.writing():
            self._check_name_free(name, None)
            now = backend.stamp()
            programs = backend.world.programs
            data = new_program(
                program_id=backend.new_id(),
                index=1 + max((p.program.index for p in programs), default=-1),
                name=name,
                description=description or "",
                meta=_frozen(meta),
                document_id=document_id.lower() if document_id else backend.new_id(),
                pool_id=backend.new_id(),
                generator_id=backend.new_id(),
                now=now,
            )
            backend.put_program(data)
            return data

    def update(self, pid: str, name: str, description: str | None = None,
               meta: Mapping[str, Any] | None = None) -> ProgramData:
        """PUT: the name, description and meta replaced; an absent description or meta is cleared."""
        return self.change(pid, {"name": name, "description": description or "", "meta": meta or {}})

    def change(self, pid: str, changes: Mapping[str, Any]) -> ProgramData:
        """PATCH: only the details given (among name, description, meta) change; none given is accepted."""
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            current = data.program
            name = changes.get("name") if changes.get("name") is not None else current.name
            self._check_name_free(name, data.id)
            description = changes.get("description")
            meta = changes.get("meta")
            now = backend.stamp()
            program = current.with_details(
                name,
                current.description if description is None else description,
                current.meta if meta is None else _frozen(meta),
                now,
            )
            changed = data.replace(program=program)
            backend.put_program(changed)
            return changed

    def delete(self, pid: str) -> None:
        """The program goes, with its configuration and every member; its id then answers 404."""
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            backend.stamp()
            backend.drop_program(data.id)

    def publish(self, pid: str) -> ProgramData:
        """Active, with every configuration record published; publishing again is accepted."""
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            now = backend.stamp()
            changed = published(data, now)
            backend.put_program(changed)
            return changed

    # ------------------------------------------------------------------ subscriptions

    def subscribe(self, pid: str, contact_id: int, loyalty_subscription_id: str | None = None,
                  creation_date: str | None = None, meta: Mapping[str, Any] | None = None) -> Member:
        """Enrolls a contact in a published program: 0 on every balance, on the entry tier."""
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            if not data.program.has_active_version:
                raise InvalidParameter(
                    f"Loyalty program {data.id} is not published (state inactive): publish it before "
                    f"enrolling contacts")
            self._check_has_no_place(data, contact_id)
            if loyalty_subscription_id is not None:
                holder = data.members.position_of_subscription(loyalty_subscription_id)
                if holder is not None:
                    raise BadRequest(
                        f"loyaltySubscriptionId {loyalty_subscription_id!r} is already assigned to contact "
                        f"{data.members.contact_ids[holder]} in loyalty program {data.id}")
            joined = self._creation_date(creation_date)
            now = backend.stamp()
            subscription_id = loyalty_subscription_id or generated_subscription_id(data, backend.new_id)
            member = new_member(data, contact_id, subscription_id, now if joined is None else joined, _frozen(meta))
            backend.add_member(data, member)
            backend.emit("subscription_created", data.id, contact_id, program=data, member=member)
            return member

    def unsubscribe(self, pid: str, contact_id: int) -> None:
        """The contact's subscription goes, with its balances, vouchers and attached members."""
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            member = backend.member(data, contact_id)
            backend.stamp()
            changed = backend.remove_member(data, contact_id)
            backend.emit("subscription_revoked", data.id, contact_id, program=data, member=member)
            for attached in member.subscription_members:  # they are free to go elsewhere
                del changed.members.attached[attached.contact_id]

    def owner(self, pid: str, contact_id: int | None = None, loyalty_subscription_id: str | None = None
              ) -> tuple[ProgramData, Member]:
        """The subscription named by its owner's contact id, its loyaltySubscriptionId, or both (agreeing)."""
        data = self.backend.program(pid)
        world = self.backend.world
        by_contact = by_subscription = None
        if contact_id is not None:
            by_contact = world.member(data, contact_id)
            if by_contact is None:
                raise UnknownResource("Subscription of contact", "contactId", contact_id)
        if loyalty_subscription_id is not None:
            by_subscription = world.member_by_subscription(data, loyalty_subscription_id)
            if by_subscription is None:
                raise UnknownResource("Loyalty subscription", "loyaltySubscriptionId", loyalty_subscription_id)
        both = by_contact is not None and by_subscription is not None
        if both and by_contact.contact_id != by_subscription.contact_id:
            raise BadRequest(
                f"contactId {contact_id} and loyaltySubscriptionId {loyalty_subscription_id!r} designate different "
                f"subscriptions (that one belongs to contact {by_subscription.contact_id})")
        found = by_contact or by_subscription
        if found is None:
            raise BadRequest("Give contactId or loyaltySubscriptionId to choose the subscription")
        return data, found

    def add_subscription_members(self, pid: str, member_contact_ids: Sequence[int], contact_id: int | None = None,
                                 loyalty_subscription_id: str | None = None) -> Member:
        """Attaches contacts to an owner's subscription; the owner's record afterwards.

        A contact attached already to this subscription stays as it is; the owner itself, the
        owner of another subscription, or a contact attached to another one is a 409.
        """
        backend = self.backend
        with backend.writing():
            data, member = self.owner(pid, contact_id, loyalty_subscription_id)
            owner = member.contact_id
            for candidate in member_contact_ids:
                if candidate == owner:
                    raise Conflict(
                        f"Contact {owner} owns this subscription: the owner cannot be added as a member "
                        f"(memberContactIds)")
                if data.members.owner_of(candidate) not in (None, owner):
                    raise Conflict(
                        f"Contact {candidate} is already a member of the subscription of contact "
                        f"{data.members.owner_of(candidate)} in loyalty program {data.id} (memberContactIds)")
                if data.members.position(candidate) is not None:
                    raise Conflict(
                        f"Contact {candidate} has its own subscription to loyalty program {data.id} and cannot "
                        f"be added as a member (memberContactIds)")
            held = {attached.contact_id for attached in member.subscription_members}
            if all(candidate in held for candidate in member_contact_ids):
                return member  # every one attached already: nothing changes
            changed = member.with_subscription_members(member_contact_ids, backend.stamp())
            data = backend.writable(data)
            for attached in changed.subscription_members:
                data.members.attached[attached.contact_id] = owner
            backend.put_member(data, changed)
            for attached in changed.subscription_members[len(member.subscription_members):]:  # the new ones
                backend.emit("subscription_member_added", data.id, attached.contact_id, program=data, member=changed)
            return changed

    def remove_subscription_members(self, pid: str, member_contact_ids: Sequence[int]) -> None:
        """Detaches contacts from the subscriptions they are attached to (all of them known, or nothing)."""
        backend = self.backend
        with backend.writing():
            data = backend.program(pid)
            owners: dict[int, list[int]] = {}
            for candidate in dict.fromkeys(member_contact_ids):
                owner = data.members.owner_of(candidate)
                if owner is None:
                    raise UnknownResource("Subscription member", "memberContactIds", candidate)
                owners.setdefault(owner, []).append(candidate)
            backend.stamp()
            data = backend.writable(data)
            for owner, detached in owners.items():
                member = backend.member(data, owner)
                for candidate in detached:
                    del data.members.attached[candidate]
                    backend.emit("subscription_member_removed", data.id, candidate, program=data, member=member)
                backend.put_member(data, member.without_subscription_members(detached))

    # ------------------------------------------------------------------ checks

    def _check_name_free(self, name: str, program_id: str | None) -> None:
        holder = self.backend.world.program_by_name(name)
        if holder is not None and holder.id != program_id:
            raise Conflict(f"Loyalty program name {name!r} already exists (program {holder.id})")

    def _check_has_no_place(self, data: ProgramData, contact_id: int) -> None:
        """A contact is enrolled once in a program, and not while attached to someone's subscription."""
        position = data.members.position(contact_id)
        if position is not None:
            raise InvalidParameter(
                f"Contact {contact_id} is already subscribed to loyalty program {data.id} "
                f"(loyaltySubscriptionId {data.members.subscription_ids[position]!r})")
        owner = data.members.owner_of(contact_id)
        if owner is not None:
            raise InvalidParameter(
                f"Contact {contact_id} is a member of the subscription of contact {owner} in loyalty program "
                f"{data.id}: detach it before enrolling it")

    def _creation_date(self, text: str | None) -> int | None:
        """The enrollment moment a body gives (an import), which must not lie ahead of the mock's clock."""
        if text is None:
            return None
        try:
            moment = parse_iso(text)
        except (ValueError, OverflowError):
            raise InvalidParameter(f"creationDate must be an ISO 8601 date-time, got {text!r}") from None
        now = self.backend.clock.now()
        if moment > now:
            raise InvalidParameter(
                f"creationDate {text} is in the future: it must be before the current time")
        if moment < 0:  # dates are epoch milliseconds throughout; no loyalty program predates 1970
            raise InvalidParameter(f"creationDate {text} is before 1970-01-01T00:00:00Z")
        return moment


def _frozen(meta: Mapping[str, Any] | None) -> Meta:
    return freeze(meta) if meta else EMPTY_META

