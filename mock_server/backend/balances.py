"""`Balances`: the balance writes of one organisation (definitions, limits, member balances, transactions).

Every method follows the backend's writing rule: check everything (raising the documented error),
stamp the moment, build new frozen records with the rules of `mock_server.store.balance_rules`,
commit through the backend. The decisions where the docs are silent are listed in docs/writes.md
("Decisions: balances").

Transactions are found by id through an index of the transactions this backend wrote or saw on a
member it changed, plus the members fixtures placed; a seeded member nobody changed is generated on
demand, and its transactions' ids carry its contact id (`owner_of`), which leads to it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from mock_server.backend.emitting import transaction_events
from mock_server.errors import InvalidParameter, UnknownResource
from mock_server.seeding.random_source import owner_of
from mock_server.store.balance_rules import (
    Completions,
    apply_completed,
    balance_opened,
    check_span,
    definition_fields,
    find_transaction,
    limit_fields,
    to_minor,
    verdict,
    with_ledger,
    with_replaced,
    with_transaction,
)
from mock_server.store.models import (
    EMPTY_META,
    MINUTE,
    SECOND,
    BalanceDefinition,
    BalanceLimit,
    Ledger,
    Member,
    Meta,
    Transaction,
    freeze,
    iso,
    parse_iso,
)
from mock_server.store.queries import norm_id
from mock_server.store.tier_changes import TierMove, reached_tiers, settled_tiers
from mock_server.store.world import ProgramData, World

if TYPE_CHECKING:
    from mock_server.backend.state import Backend

COMPLETIONS_KEPT = 4096  # members' completion indexes kept between writes (limit windows by bisection)


class TransactionResult(NamedTuple):  # a NamedTuple, not a frozen dataclass: one per write, cheaper to make
    """A transaction as a write left it, with what its answer shows."""

    program_id: str
    contact_id: int
    definition: BalanceDefinition
    transaction: Transaction
    balance: int | None  # the member's new total (minor units) when this write moved it


@dataclass(frozen=True, slots=True)
class OrderResult:
    id: str
    amount: int  # signed, minor units
    due_at: int
    expires_at: int | None
    meta: Meta
    created_at: int
    transaction: TransactionResult


@dataclass(frozen=True, slots=True)
class OpenedBalance:
    id: str
    program_id: str
    contact_id: int
    definition: BalanceDefinition
    amount: int
    created_at: int


class Balances:
    """Balance definitions, limits, member balances and transactions of one organisation."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._world: World | None = None  # the world the index describes (a reset starts a new one)
        # program id -> transaction id -> contact id. Plain ints as values: a dict holding only untracked
        # objects leaves the cyclic GC's young generation, whereas a new tuple per entry put this dict back
        # there on every write, to be walked whole by each young collection.
        self._index: dict[str, dict[str, int]] = {}
        # members in the index -> how many transactions of each ledger it holds (the rest are newer: other areas
        # may have added some, e.g. a reward's debit, since this backend last wrote the member)
        self._indexed: dict[tuple[str, int], list[int]] = {}
        # (program id, contact id, definition id) -> completions of the member's ledger, for limit windows
        # (the members written last: a member that fell out is counted anew, once, from its ledger)
        self._completions: OrderedDict[tuple[str, int, str], Completions] = OrderedDict()

    # ------------------------------------------------------------- definitions

    def create_definition(self, pid: str, body: Mapping[str, Any]) -> tuple[ProgramData, BalanceDefinition]:
        """A new definition (unpublished); every member starts at 0 on it."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            fields = definition_fields(body)
            now = b.stamp()
            definition = BalanceDefinition(id=b.new_id(), program_id=data.id, index=len(data.definitions),
                                           **fields, created_at=now, updated_at=now, published=False)
            data = b.writable(data)
            data.members.add_definition()
            data = b.edit_config(data, now, definitions=(*data.definitions, definition))
            # Members held as changed records gain their empty ledger; generated ones get it from the source.
            for member in b.world.changed_members(data.id):
                empty = Ledger(definition.id, 0, member.subscription.created_at, (), ())
                b.put_member(data, replace(member, ledgers=(*member.ledgers, empty)))
            return data, definition

    def update_definition(self, pid: str, bdid: str, body: Mapping[str, Any]) -> tuple[ProgramData, BalanceDefinition]:
        """Every rule of a definition replaced (what the body leaves out goes back to its default)."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            old = self._definition(data, bdid, "bdid")
            fields = definition_fields(body)
            if fields["unit"] != old.unit and any(data.members.counts[old.index]):
                raise InvalidParameter(f"body.unit: balance definition {old.id} already has transactions in "
                                       f"{old.unit}; its unit cannot change to {fields['unit']}")
            now = b.stamp()
            definition = replace(old, **fields, updated_at=now)
            data = b.edit_config(data, now,
                                 definitions=tuple(definition if d.id == old.id else d for d in data.definitions))
            return data, definition

    def delete_definition(self, pid: str, bdid: str) -> None:
        """A soft delete: the definition keeps its place (members' ledgers stay aligned) and reads lose it."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            old = self._definition(data, bdid, "bdid")
            for group in data.tier_groups:
                if group.balance_definition_id == old.id:
                    raise InvalidParameter(f"Balance definition {old.id} ranks the members of tier group "
                                           f"{group.id} ('{group.name}'); delete or change the group first")
            for reward in data.rewards:
                if reward.balance_definition_id == old.id:
                    raise InvalidParameter(f"Balance definition {old.id} is used by reward {reward.id} "
                                           f"('{reward.name}'); change the reward first")
            now = b.stamp()
            gone = replace(old, deleted_at=now, updated_at=now)
            b.edit_config(
                data, now,
                definitions=tuple(gone if d.id == old.id else d for d in data.definitions),
                limits=tuple(limit for limit in data.limits if limit.balance_definition_id != old.id),
            )

    # ------------------------------------------------------------- limits

    def create_limit(self, pid: str, bdid: str, body: Mapping[str, Any]) -> tuple[BalanceDefinition, BalanceLimit]:
        """A new limit on a definition (unpublished: it applies once the program is published)."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            definition = self._definition(data, bdid, "bdid")
            fields = limit_fields(body, definition)
            now = b.stamp()
            limit = BalanceLimit(id=b.new_id(), balance_definition_id=definition.id, **fields,
                                 created_at=now, updated_at=now, published=False)
            b.edit_config(data, now, limits=(*data.limits, limit))
            return definition, limit

    def update_limit(
        self, pid: str, bdid: str, blid: str, body: Mapping[str, Any]
    ) -> tuple[BalanceDefinition, BalanceLimit]:
        b = self.backend
        with b.writing():
            data = b.program(pid)
            definition = self._definition(data, bdid, "bdid")
            old = self._limit(data, definition, blid)
            fields = limit_fields(body, definition)
            now = b.stamp()
            limit = replace(old, **fields, updated_at=now)
            b.edit_config(data, now, limits=tuple(limit if item.id == old.id else item for item in data.limits))
            return definition, limit

    def delete_limit(self, pid: str, bdid: str, blid: str) -> None:
        b = self.backend
        with b.writing():
            data = b.program(pid)
            definition = self._definition(data, bdid, "bdid")
            old = self._limit(data, definition, blid)
            now = b.stamp()
            b.edit_config(data, now, limits=tuple(item for item in data.limits if item.id != old.id))

    # ------------------------------------------------------------- member balances

    def open_balance(self, pid: str, contact_id: int, bdid: str) -> OpenedBalance:
        """A member's balance on a definition created after they subscribed (422 if they hold one)."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            member = b.member(data, contact_id, "cid")
            definition = self._definition(data, bdid, "balanceDefinitionId")
            ledger = member.ledgers[definition.index]
            if balance_opened(definition, member, ledger):
                raise InvalidParameter(f"Contact {contact_id} already has a balance on balance definition "
                                       f"{definition.id} (balanceDefinitionId)")
            now = b.stamp()
            # Its balance did not change (still 0, no transaction): its `updatedAt` stays where it was.
            opened = with_ledger(member, definition.index, replace(ledger, opened_at=now))
            self._commit(data, opened)
            return OpenedBalance(b.new_id(), data.id, contact_id, definition, ledger.value, now)

    # ------------------------------------------------------------- transactions

    def begin_transaction(
        self,
        pid: str,
        *,
        balance_definition_id: str,
        amount: float,
        transaction_type: str | None = None,
        contact_id: int | None = None,
        loyalty_subscription_id: str | None = None,
        meta: Mapping[str, Any] | None = None,
        ttl: int | None = None,
        event_time: str | None = None,
        auto_complete: bool = False,
        balance_expiry_minutes: int | None = None,
    ) -> TransactionResult:
        """A draft (balance unchanged), or with `auto_complete` a completed transaction, `rejected` (recorded,
        answered 200) when a cap, a limit or the balance refuses it."""
        b = self.backend
        with b.writing():
            data = self._published(pid)
            definition = self._transactable(data, balance_definition_id)
            member = self._member_of_body(data, contact_id, loyalty_subscription_id)
            kind, minor = self._kind_and_amount(definition, amount, transaction_type)
            event = self._moment(event_time, "eventTime")
            if ttl is not None:
                check_span(ttl, "second", "ttl")
            if balance_expiry_minutes is not None:
                check_span(balance_expiry_minutes, "minute", "balanceExpiryInMinutes")
            now = b.stamp()
            draft = Transaction.draft(
                b.new_id(), definition.id, kind, minor, now, _frozen(meta), event_time=event,
                expires_at=now + ttl * SECOND if ttl is not None and not auto_complete else None,
            )
            lifetime = balance_expiry_minutes * MINUTE if auto_complete and balance_expiry_minutes else None
            return self._settle(data, member, definition, draft, now, new=True, complete=auto_complete,
                                lifetime=lifetime)

    def complete_transaction(self, pid: str, tid: str) -> TransactionResult:
        """A draft applied to the balance (or `rejected` if a rule refuses it now); 422 unless a draft."""
        b = self.backend
        with b.writing():
            data = self._published(pid)
            member, definition, tx = self._located(data, tid)
            self._check_draft(tx, "completed")
            if definition.deleted:
                raise InvalidParameter(f"Transaction {tx.id} cannot be completed: its balance definition "
                                       f"{definition.id} was deleted")
            now = b.stamp()
            if tx.expires_at is not None and now > tx.expires_at:
                raise InvalidParameter(f"Transaction {tx.id} expired at {iso(tx.expires_at)} (its ttl or "
                                       f"order expiry) and can no longer be completed; cancel it")
            return self._settle(data, member, definition, tx, now, new=False, complete=True, lifetime=None)

    def cancel_transaction(self, pid: str, tid: str) -> TransactionResult:
        """A draft voided; a completed transaction cannot be (refund it with a debit)."""
        b = self.backend
        with b.writing():
            data = self._published(pid)
            member, definition, tx = self._located(data, tid)
            self._check_draft(tx, "cancelled")
            now = b.stamp()
            cancelled = replace(tx, status="cancelled", cancelled_at=now)
            ledger = with_replaced(member.ledgers[definition.index], cancelled)
            self._commit(data, with_ledger(member, definition.index, ledger))
            return TransactionResult(data.id, member.contact_id, definition, cancelled, None)

    def create_order(
        self,
        pid: str,
        *,
        balance_definition_id: str,
        amount: float,
        contact_id: int,
        due_at: str,
        expires_at: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> OrderResult:
        """An order backed by a draft transaction (credit for a positive amount, debit for a negative one),
        completed or cancelled through the transaction endpoints, where the rules are judged."""
        b = self.backend
        with b.writing():
            data = self._published(pid)
            definition = self._transactable(data, balance_definition_id)
            member = self._member_of_body(data, contact_id, None)
            kind, minor = self._kind_and_amount(definition, amount, None)
            due = self._moment(due_at, "dueAt")
            lapse = self._moment(expires_at, "expiresAt")
            now = b.stamp()
            if lapse is not None and lapse <= now:
                raise InvalidParameter(f"body.expiresAt: {expires_at} is not after the order's creation "
                                       f"({iso(now)})")
            order_id = b.new_id()
            order_meta = _frozen(meta)
            draft = Transaction.draft(b.new_id(), definition.id, kind, minor, now, order_meta, expires_at=lapse)
            result = self._settle(data, member, definition, draft, now, new=True, complete=False, lifetime=None)
            signed = minor if kind == "credit" else -minor
            return OrderResult(order_id, signed, due, lapse, order_meta, now, result)

    def record(
        self,
        data: ProgramData,
        member: Member,
        definition: BalanceDefinition,
        kind: str,
        amount: int,
        now: int,
        meta: Mapping[str, Any] | None = None,
    ) -> TransactionResult:
        """A transaction another part of the mock makes inside its own write (e.g. a reward debiting points):
        `amount` in minor units, completed at `now` if the rules allow, else recorded `rejected`.

        The caller holds `backend.writing()`, has checked what it needed and taken `now` from `stamp()`.
        """
        tx = Transaction.draft(self.backend.new_id(), definition.id, kind, amount, now, _frozen(meta))
        return self._settle(data, member, definition, tx, now, new=True, complete=True, lifetime=None)

    # ------------------------------------------------------------- helpers: rules

    def _settle(
        self,
        data: ProgramData,
        member: Member,
        definition: BalanceDefinition,
        tx: Transaction,
        now: int,
        *,
        new: bool,
        complete: bool,
        lifetime: int | None,
    ) -> TransactionResult:
        """Record `tx` (new, or a draft of the member's): a draft as it is; a completion judged now, completed or
        rejected. The rules are judged when the balance would move, so a transaction always starts a draft."""
        ledger = member.ledgers[definition.index]
        completions = self._completions_of(data.id, member.contact_id, ledger)
        moved, reason = tx.amount, None
        if complete:
            moved, reason = verdict(definition, self._limits(data, definition), ledger, tx.transaction_type,
                                    tx.amount, now, completions)
        known = not new  # a draft of the ledger being completed, else a transaction created now
        balance = None
        if reason is not None:
            tx = replace(tx, status="rejected", rejected_at=now, reject_reason=reason)
            ledger = with_replaced(ledger, tx) if known else with_transaction(ledger, tx)
        elif complete:
            expiry = None
            if tx.transaction_type == "credit":
                expiry = now + lifetime if lifetime is not None else definition.credit_expiry(now)
            tx = tx.completed(moved, now, expiry)
            ledger = apply_completed(ledger, tx, self.backend.new_id(), known=known)
            balance = ledger.value
        else:
            ledger = with_transaction(ledger, tx)
        # Where the member stands in each tier group is read once here, for events and tier rewards too.
        after, moves = settled_tiers(data, member, with_ledger(member, definition.index, ledger), now)
        self._commit(data, after)
        self._remember(data.id, member.contact_id, completions.moved_to(ledger, tx if balance is not None else None))
        if complete and self.backend.listening:
            transaction_events(self.backend, data, definition, member, after, tx, moves)
        if balance is not None and moves:
            self._tiers_moved(data, after, moves)
        return TransactionResult(data.id, member.contact_id, definition, tx, balance)

    def _tiers_moved(self, data: ProgramData, after: Member, moves: list[TierMove]) -> None:
        """Tell whoever listens (the rewards service, once connected) which tiers were newly reached."""
        reached = reached_tiers(data, moves)
        listener = getattr(getattr(self.backend, "rewards", None), "on_tiers_reached", None)
        if reached and listener is not None:
            listener(data.id, after.contact_id, reached)

    def _limits(self, data: ProgramData, definition: BalanceDefinition) -> tuple[BalanceLimit, ...]:
        """The limits in force: published ones (a new limit waits for the next publish)."""
        return data.limits_in_force(definition.id)

    @staticmethod
    def _kind_and_amount(definition: BalanceDefinition, amount: float, kind: str | None) -> tuple[str, int]:
        """Credit or debit (the explicit type, else the sign) and the size in minor units, rounded the
        definition's way for that kind."""
        if amount == 0:
            raise InvalidParameter("body.amount: a transaction moves a non-zero amount")
        kind = kind or ("credit" if amount > 0 else "debit")
        rounding = definition.credit_rounding if kind == "credit" else definition.debit_rounding
        minor = abs(to_minor(amount, definition.scale, "amount", rounding))
        if minor == 0:
            raise InvalidParameter(f"body.amount: {amount} rounds to 0 {definition.unit} "
                                   f"({rounding} rounding of {kind}s on balance definition {definition.id})")
        return kind, minor

    @staticmethod
    def _check_draft(tx: Transaction, wanted: str) -> None:
        if tx.status == "draft":
            return
        if wanted == "cancelled" and tx.status == "completed":
            raise InvalidParameter(f"Transaction {tx.id} is completed and cannot be cancelled; refund it with a "
                                   f"debit transaction")
        verb = "completed" if wanted == "completed" else "cancelled"
        raise InvalidParameter(f"Transaction {tx.id} is {tx.status}, not a draft: it cannot be {verb}")

    @staticmethod
    def _moment(text: str | None, field: str) -> int | None:
        if text is None:
            return None
        try:
            return parse_iso(text)
        except (ValueError, OverflowError) as error:
            raise InvalidParameter(f"body.{field}: {text!r} is not an RFC 3339 date-time") from error

    # ------------------------------------------------------------- helpers: lookups

    def _published(self, pid: str) -> ProgramData:
        data = self.backend.program(pid)
        if not data.program.has_active_version:
            raise InvalidParameter(f"Loyalty program {data.id} is not published: publish it before moving its "
                                   f"members' balances")
        return data

    @staticmethod
    def _definition(data: ProgramData, raw: str, param: str) -> BalanceDefinition:
        definition = data.definition_by_id.get(norm_id(str(raw)))
        if definition is None or definition.deleted:
            raise UnknownResource("Balance definition", param, raw)
        return definition

    def _transactable(self, data: ProgramData, raw: str) -> BalanceDefinition:
        definition = self._definition(data, raw, "balanceDefinitionId")
        if not definition.published:
            raise InvalidParameter(f"Balance definition {definition.id} is not published yet: publish the program "
                                   f"before crediting or debiting it")
        return definition

    @staticmethod
    def _limit(data: ProgramData, definition: BalanceDefinition, raw: str) -> BalanceLimit:
        limit = data.limit_by_id.get(norm_id(str(raw)))
        if limit is None or limit.balance_definition_id != definition.id:
            raise UnknownResource("Balance limit", "blid", raw)
        return limit

    def _member_of_body(self, data: ProgramData, contact_id: int | None, subscription_id: str | None) -> Member:
        """The member a body names by contact id and/or subscription id; 422 when not subscribed."""
        world = self.backend.world
        found: Member | None = None
        if contact_id is not None:
            found = world.member(data, contact_id)
            if found is None:
                raise InvalidParameter(f"Contact {contact_id} is not subscribed to loyalty program {data.id} "
                                       f"(contactId); subscribe it first")
        if subscription_id is not None:
            by_subscription = world.member_by_subscription(data, subscription_id)
            if by_subscription is None:
                raise InvalidParameter(f"No member of loyalty program {data.id} has LoyaltySubscriptionId "
                                       f"{subscription_id!r}")
            if found is not None and found.contact_id != by_subscription.contact_id:
                raise InvalidParameter(f"contactId {contact_id} and LoyaltySubscriptionId {subscription_id!r} name "
                                       f"different members")
            found = by_subscription
        if found is None:
            raise InvalidParameter("Missing member: give 'contactId' or 'LoyaltySubscriptionId'")
        return found

    def _located(self, data: ProgramData, raw: str) -> tuple[Member, BalanceDefinition, Transaction]:
        """The transaction `tid` of the program, with its member and definition; 404 if unknown."""
        tid = norm_id(str(raw))
        self._fresh()
        contact_id = self._index.get(data.id, {}).get(tid)
        if contact_id is None:
            self._index_fixture_members(data)
            contact_id = self._index.get(data.id, {}).get(tid)
        if contact_id is None:  # a seeded member's, never written to: its transactions' ids name it
            contact_id = owner_of(tid)
        if contact_id is not None:
            member = self.backend.world.member(data, contact_id)
            if member is not None:
                for definition, ledger in zip(data.definitions, member.ledgers, strict=True):
                    tx = find_transaction(ledger, tid)
                    if tx is not None:
                        return member, definition, tx
        raise UnknownResource("Transaction", "tid", tid)  # ids are read in any letter case, and named so

    # ------------------------------------------------------------- helpers: committing and the index

    def _commit(self, data: ProgramData, after: Member) -> None:
        data = self.backend.writable(data)
        self.backend.put_member(data, after)
        self._fresh()
        self._index_member(data.id, after)

    def _fresh(self) -> None:
        """Start a new index when the backend's world was replaced (a reset)."""
        world = self.backend.world
        if self._world is not world:
            self._world, self._index, self._indexed, self._completions = world, {}, {}, OrderedDict()

    def _completions_of(self, program_id: str, contact_id: int, ledger: Ledger) -> Completions:
        """The completions of `ledger`: carried along from this backend's last write to it, else counted anew
        (the first time, or when another part of the mock changed the ledger since)."""
        self._fresh()
        found = self._completions.get((program_id, contact_id, ledger.balance_definition_id))
        return found if found is not None and found.ledger is ledger else Completions.of(ledger)

    def _remember(self, program_id: str, contact_id: int, completions: Completions) -> None:
        key = (program_id, contact_id, completions.ledger.balance_definition_id)
        self._completions[key] = completions
        self._completions.move_to_end(key)
        if len(self._completions) > COMPLETIONS_KEPT:
            self._completions.popitem(last=False)

    def _index_member(self, program_id: str, member: Member) -> None:
        """Every transaction of the member in the index (only those added since it was last indexed)."""
        index = self._index.get(program_id)
        if index is None:
            index = self._index[program_id] = {}
        contact_id = member.contact_id
        key = (program_id, contact_id)
        known = self._indexed.get(key)
        if known is None or len(known) != len(member.ledgers):
            # Counted in place, in a list made once per member: a new value per write would put the
            # dict back in the GC's young generation (as for `_index`).
            known = self._indexed[key] = [0] * len(member.ledgers)
        for d, ledger in enumerate(member.ledgers):
            transactions = ledger.transactions
            count, start = len(transactions), known[d]
            if start == count:
                continue  # a ledger this write did not change
            for position in range(start if start < count else 0, count):
                index[transactions[position].id] = contact_id
            known[d] = count

    def _index_fixture_members(self, data: ProgramData) -> None:
        """The members fixtures placed are few and known by contact: their drafts are addressable too."""
        for contact_id in data.members.fixture_contacts:
            member = self.backend.world.member(data, contact_id)
            if member is not None:
                self._index_member(data.id, member)


def _frozen(meta: Mapping[str, Any] | None) -> Meta:
    """A body's `meta` as a transaction keeps it (`freeze` copies: the body is not kept)."""
    return freeze(meta) if meta else EMPTY_META
