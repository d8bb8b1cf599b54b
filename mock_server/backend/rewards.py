"""`Rewards`: creating rewards, and the life of a voucher (issue, redeem, complete, revoke, validate).

Every write follows the backend's rule: check everything, take the moment, build the new frozen
records, commit (`put_program` for code pools and reward counters, `put_member` for the holder).
The rules themselves live in `mock_server.store.reward_rules` and on the records.

Finding a voucher: with its holder named (`contactId` or `loyaltySubscriptionId`), among the
holder's vouchers, seeded or issued; without, by id among the vouchers issued through the API and
the seeded ones (whose ids carry their holder's contact id: `owner_of`), and by code among the
issued ones (seeded vouchers are drawn per member, lazily: only their holder or id leads to them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mock_server.backend.emitting import redeemed
from mock_server.errors import (
    ExpectationFailed,
    InvalidParameter,
    MissingParameter,
    PreconditionFailed,
    UnknownResource,
)
from mock_server.seeding.random_source import owner_of
from mock_server.store.debits import with_debit
from mock_server.store.models import (
    CodeGenerator,
    Member,
    Redemption,
    Reward,
    Tier,
    Transaction,
    Voucher,
    add_period,
    freeze,
    iso,
)
from mock_server.store.queries import norm_id
from mock_server.store.reward_rules import (
    LATEST,
    check_attribution,
    check_redeemable,
    check_redemption_caps,
    draw_code,
)
from mock_server.store.world import ProgramData, World

if TYPE_CHECKING:
    from mock_server.backend.state import Backend

# A reward created through the API, before anything else is configured on it (a fixture reward's defaults).
NEW_REWARD_LIFETIME = (1, "year")  # its attribution window
NEW_VOUCHER_LIFETIME = (90, "day")  # the lifetime of its vouchers


@dataclass(frozen=True, slots=True)
class VoucherRef:
    """How a request names a voucher: by id, by code, or by reward and holder (any combination narrows)."""

    attributed_reward_id: str | None = None
    code: str | None = None
    reward_id: str | None = None
    contact_id: int | None = None
    loyalty_subscription_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Found:
    member: Member
    voucher: Voucher
    revoked: bool


class _Issued:
    """Where the vouchers and redemptions made through the API are held: id -> (program, contact).

    A cache of the backend's world, not state of its own: it is emptied whenever the backend's
    world is another one (a reset), and every hit is checked against the member record.
    """

    __slots__ = ("codes", "redemptions", "vouchers", "world")

    def __init__(self) -> None:
        self.world: World | None = None
        self.vouchers: dict[str, tuple[str, int]] = {}
        self.codes: dict[tuple[str, str], dict[int, None]] = {}  # (program, code) -> holders, in issue order
        self.redemptions: dict[str, tuple[str, int]] = {}

    def of(self, world: World) -> _Issued:
        if world is not self.world:
            self.world = world
            self.vouchers, self.codes, self.redemptions = {}, {}, {}
        return self

    def add_voucher(self, program_id: str, voucher: Voucher) -> None:
        self.vouchers[voucher.id] = (program_id, voucher.contact_id)
        self.codes.setdefault((program_id, voucher.code), {})[voucher.contact_id] = None


class Rewards:
    """The reward operations of one organisation's backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._issued = _Issued()

    # ------------------------------------------------------------------ rewards

    def create_reward(
        self, pid: str, name: str, public_name: str | None = None, public_description: str | None = None,
        public_image: str | None = None,
    ) -> tuple[ProgramData, Reward]:
        """A new reward, active at once with a code generator of its own; published with the program's next publish."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            now = b.stamp()
            reward_id, generator_id = b.new_id(), b.new_id()
            prefix = "".join(ch for ch in name.upper() if ch.isalnum())[:6] or "CODE"
            generator = CodeGenerator(generator_id, data.id, f"{name} generator", f"Codes for {name}",
                                      f"{prefix}-####", now, now)
            reward = Reward(
                id=reward_id,
                program_id=data.id,
                name=name,
                public_name=public_name if public_name is not None else name,
                public_description=public_description or "",
                public_image=public_image or "",
                meta=freeze({}),
                state="active",
                start_date=now,
                end_date=add_period(now, *NEW_REWARD_LIFETIME),
                disabled_at=None,
                unit="percentage",
                value=0,
                value_type="percentage",
                balance_definition_id=None,  # no price: it draws on no balance
                code=None,
                code_pool_id=None,
                code_generator_id=generator_id,
                code_count=0,
                expiration_value=NEW_VOUCHER_LIFETIME[0],
                expiration_unit=NEW_VOUCHER_LIFETIME[1],
                attribution_per_consumer=0,
                redeem_per_consumer=0,
                total_attribution=0,
                total_redeem=0,
                subtract_balance_value=0,
                limits=(),
                products=(),
                rule=None,
                trigger_id=None,
                created_at=now,
                updated_at=now,
                published=False,
            )
            # A configuration change: a published program waits for its next publish (state draft).
            data = b.edit_config(data, now, rewards=(*data.rewards, reward),
                                 code_generators=(*data.code_generators, generator))
            return data, reward

    # ------------------------------------------------------------------ vouchers

    def create_voucher(
        self, pid: str, reward_id: str, *, contact_id: int | None = None, loyalty_subscription_id: str | None = None,
        code: str | None = None, value: float | None = None, valid_from: int | None = None,
        expiration_date: int | None = None, meta: Mapping[str, Any] | None = None,
    ) -> tuple[ProgramData, Voucher]:
        """Issue a voucher of a reward to a member (a code of its pool, a debit of its price if it has one)."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            reward = self._reward(data, reward_id, "rewardId")
            member = self._holder(data, contact_id, loyalty_subscription_id)
            if member is None:
                raise MissingParameter("Name the member: contactId or loyaltySubscriptionId")
            check_attribution(reward, member, b.clock.now())
            pool = data.pool_by_id.get(reward.code_pool_id or "") if code is None else None
            if pool is not None and pool.code_count <= 0:
                raise InvalidParameter(f"Code pool {pool.id} of reward {reward.id} has no code left")
            # Refusals from here on (dates, a balance too low) roll the clock and ids back with the write.
            now = b.stamp()
            start = valid_from if valid_from is not None else now
            try:
                expiry = expiration_date if expiration_date is not None else reward.voucher_expiry(start)
            except (ValueError, OverflowError):  # a lifetime from a start near year 9999
                expiry = LATEST + 1
            if max(start, expiry) > LATEST or start < 0:
                raise InvalidParameter(
                    f"validFrom and the voucher's expiry must fall between {iso(0)} and {iso(LATEST)}")
            if expiry <= max(start, now):
                what = "expirationDate" if expiration_date is not None else f"Reward {reward.id}'s voucher expiry"
                raise InvalidParameter(f"{what} ({iso(expiry)}) must be later than validFrom and the moment of issue")
            voucher_id = b.new_id()
            voucher = Voucher(
                id=voucher_id,
                contact_id=member.contact_id,
                reward_id=reward.id,
                code=code if code is not None else draw_code(data, reward, voucher_id),
                created_at=now,
                updated_at=now,
                valid_from=start,
                expiration_date=expiry,
                consumed_at=None,
                meta=freeze(dict(meta or {})),
                unit=reward.unit,
                value=value if value is not None else reward.value,
            )
            holder = self._paid(data, reward, replace(member, vouchers=(*member.vouchers, voucher)), voucher, now)
            data = b.writable(self._issue(data, reward, pooled=code is None, now=now))
            b.put_program(data)
            b.put_member(data, holder)
            self._issued.of(b.world).add_voucher(data.id, voucher)
            b.emit("voucher_created", data.id, holder.contact_id, program=data, member=holder, reward=reward,
                   voucher=voucher)
            return data, voucher

    def on_tiers_reached(self, program_id: str, contact_id: int, tiers: Iterable[Tier],
                         at: int | None = None) -> Member | None:
        """Vouchers of the rewards on tiers a member just reached, inside the caller's write (after its commit).

        Called by a balance transaction that crossed thresholds (`Balances`), and by a clock move for a
        scheduled upgrade (`Timeline`, with `at` its moment). A tier reward is a gift:
        nothing is debited. A reward that may not be issued now (inactive, capped, its pool empty) is
        skipped, as Brevo reports a failed attribution by webhook rather than refusing the transaction.
        Commits the program (pools, counters) and the member; returns the member (None if not found).
        """
        b = self.backend
        data = b.world.program(program_id)
        member = b.world.member(data, contact_id) if data is not None else None
        if data is None or member is None:
            return None
        now = b.clock.now() if at is None else at  # the caller's moment (its stamp), or the schedule's
        issued: list[Voucher] = []
        for tier in tiers:
            for reward_id in tier.reward_ids:
                reward = data.reward_by_id.get(reward_id)
                if reward is None:
                    continue
                expiry = reward.voucher_expiry(now)
                if expiry <= now:  # a fixed expiry date already past: nothing usable to give
                    continue
                try:
                    check_attribution(reward, member, now)
                    data = self._issue(data, reward, pooled=True, now=now)
                except InvalidParameter as refusal:
                    b.emit("voucher_attribution_failed", data.id, contact_id, program=data, member=member,
                           reward=reward, tier=tier, reason=refusal.message)
                    continue
                voucher_id = b.new_id()
                voucher = Voucher(voucher_id, member.contact_id, reward.id, draw_code(data, reward, voucher_id),
                                  now, now, now, expiry, None, freeze({"source": "tier_upgrade", "tierId": tier.id}),
                                  reward.unit, reward.value)
                member = replace(member, vouchers=(*member.vouchers, voucher))
                issued.append(voucher)
                b.emit("voucher_created", data.id, contact_id, program=data, member=member, reward=reward,
                       voucher=voucher)
        if issued:
            data = b.writable(data)
            b.put_program(data)
            b.put_member(data, member)
            index = self._issued.of(b.world)
            for voucher in issued:
                index.add_voucher(data.id, voucher)
        return member

    def revoke_vouchers(self, pid: str, voucher_ids: Iterable[str]) -> None:
        """Withdraw vouchers (issued through the API or seeded) from their holders (all of them, or none)."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            holders: dict[int, Member] = {}
            for raw in dict.fromkeys(norm_id(raw) for raw in voucher_ids):  # an id named twice is revoked once
                try:
                    found = self._find(data, VoucherRef(attributed_reward_id=raw), holders=holders)
                except UnknownResource:
                    raise UnknownResource("Voucher", "attributedRewardIds", raw) from None
                if found.revoked:
                    raise UnknownResource("Voucher (already revoked)", "attributedRewardIds", raw)
                member = found.member
                b.emit("voucher_revoked", data.id, member.contact_id, program=data, member=member,
                       reward=data.reward_by_id.get(found.voucher.reward_id), voucher=found.voucher)
                holders[member.contact_id] = replace(
                    member,
                    vouchers=tuple(voucher for voucher in member.vouchers if voucher.id != found.voucher.id),
                    revoked=(*member.revoked, found.voucher),
                )
            b.stamp()
            data = b.writable(data)
            for member in holders.values():
                b.put_member(data, member)

    # ------------------------------------------------------------------ redemptions

    def redeem_voucher(
        self, pid: str, ref: VoucherRef, *, ttl: int | None = None, auto_complete: bool = False,
        meta: Mapping[str, Any] | None = None,
    ) -> Redemption:
        """Open a redemption of a usable voucher (and complete it at once with `auto_complete`)."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            found = self._find(data, ref)
            now = b.clock.now()
            reward = self._voucher_reward(data, found.voucher)
            refusal = self._redemption_refusal(found, reward, now)
            if refusal is not None:
                b.emit_refusal("voucher_redeem_unauthorized", data.id, found.member.contact_id, program=data,
                               member=found.member, reward=reward, voucher=found.voucher, reason=refusal.message)
                raise refusal
            if ttl is not None and now + ttl * 1000 > LATEST:
                raise InvalidParameter(f"ttl {ttl} would end the redemption after {iso(LATEST)}")
            now = b.stamp()
            redemption = Redemption(
                id=b.new_id(),
                program_id=data.id,
                contact_id=found.member.contact_id,
                voucher_id=found.voucher.id,
                status="draft",
                meta=freeze(dict(meta or {})),
                created_at=now,
                updated_at=now,
                expires_at=now + ttl * 1000 if ttl else None,
                completed_at=None,
            )
            member = replace(found.member, redemptions=(*found.member.redemptions, redemption))
            data = b.writable(data)
            if auto_complete:
                data, member, redemption = self._consume(data, reward, member, redemption, now)
                b.put_program(data)
                if b.listening:
                    redeemed(b, data, reward, member, redemption)
            b.put_member(data, member)
            self._issued.of(b.world).redemptions[redemption.id] = (data.id, member.contact_id)
            return redemption

    def complete_redeem_transaction(self, pid: str, tid: str) -> Redemption:
        """Confirm an open redemption: its voucher is consumed."""
        b = self.backend
        with b.writing():
            data = b.program(pid)
            member, redemption = self._redemption(data, tid)
            now = b.clock.now()
            status = redemption.status_at(now)
            if status != "draft":
                raise InvalidParameter(
                    f"Redemption {redemption.id} is {status}: only an open (draft) redemption can be completed"
                )
            found = self._voucher_of(member, redemption.voucher_id)
            reward = self._voucher_reward(data, found.voucher)
            try:
                check_redeemable(found.voucher, found.revoked, None, now)
                check_redemption_caps(reward, member, now)
            except (PreconditionFailed, ExpectationFailed) as refusal:
                b.emit_refusal("voucher_redeem_unauthorized", data.id, member.contact_id, program=data, member=member,
                               reward=reward, voucher=found.voucher, reason=refusal.message)
                raise
            now = b.stamp()
            data, member, redemption = self._consume(b.writable(data), reward, member, redemption, now)
            b.put_program(data)
            b.put_member(data, member)
            if b.listening:
                redeemed(b, data, reward, member, redemption)
            return redemption

    def validate_reward(self, pid: str, ref: VoucherRef) -> bool:
        """Whether the voucher may be redeemed now (404 if it names nothing); changes nothing, not even the clock."""
        b = self.backend
        with b.lock:  # no tick, but never halfway through a write (or a reset)
            data = b.program(pid)
            found = self._find(data, ref)
            now = b.clock.now()
            reward = self._voucher_reward(data, found.voucher)
        return self._redemption_refusal(found, reward, now) is None  # what a redemption would answer

    def _redemption_refusal(self, found: _Found, reward: Reward, now: int
                            ) -> PreconditionFailed | ExpectationFailed | None:
        """Why the voucher may not be redeemed now (412 unusable, 417 a cap reached), or None."""
        try:
            check_redeemable(found.voucher, found.revoked, self._open_redemption(found, now), now)
            check_redemption_caps(reward, found.member, now)
        except (PreconditionFailed, ExpectationFailed) as refusal:
            return refusal
        return None

    # ------------------------------------------------------------------ helpers

    def _reward(self, data: ProgramData, raw: str, param: str) -> Reward:
        reward = data.reward_by_id.get(norm_id(str(raw)))
        if reward is None:
            raise UnknownResource("Reward", param, norm_id(str(raw)))  # ids are named as stored: lower case
        return reward

    def _voucher_reward(self, data: ProgramData, voucher: Voucher) -> Reward:
        reward = data.reward_by_id.get(voucher.reward_id)
        if reward is None:  # a voucher always references a reward of its program
            raise UnknownResource("Reward of voucher", "attributedRewardId", voucher.id)
        return reward

    def _holder(self, data: ProgramData, contact_id: int | None, subscription_id: str | None) -> Member | None:
        """The member named by contact id and/or subscription id (404 naming the one that names nobody)."""
        by_contact = self.backend.member(data, contact_id, "contactId") if contact_id is not None else None
        if subscription_id is None:
            return by_contact
        by_subscription = self.backend.world.member_by_subscription(data, subscription_id)
        if by_subscription is None:
            raise UnknownResource("Subscription", "loyaltySubscriptionId", subscription_id)
        if by_contact is not None and by_contact.contact_id != by_subscription.contact_id:
            raise InvalidParameter(
                f"contactId {contact_id} and loyaltySubscriptionId {subscription_id} name different members"
            )
        return by_subscription

    def _find(self, data: ProgramData, ref: VoucherRef, holders: Mapping[int, Member] | None = None) -> _Found:
        """The voucher `ref` names: of its matches, the usable one not in redemption expiring first; 404 if none."""
        holder = self._holder(data, ref.contact_id, ref.loyalty_subscription_id)
        if ref.attributed_reward_id is None and ref.code is None and (ref.reward_id is None or holder is None):
            raise MissingParameter(
                "Name the voucher: attributedRewardId, code, or rewardId with contactId or loyaltySubscriptionId"
            )
        wanted_id = norm_id(ref.attributed_reward_id) if ref.attributed_reward_id is not None else None
        wanted_reward = norm_id(ref.reward_id) if ref.reward_id is not None else None
        members = [holder] if holder is not None else self._issued_holders(data, wanted_id, ref.code)
        if holders:  # members this write already changed
            members = [holders.get(member.contact_id, member) for member in members]
        matches = [
            _Found(member, voucher, revoked)
            for member in members
            for revoked, vouchers in ((False, member.vouchers), (True, member.revoked))
            for voucher in vouchers
            if (wanted_id is None or voucher.id == wanted_id)
            and (ref.code is None or voucher.code == ref.code)
            and (wanted_reward is None or voucher.reward_id == wanted_reward)
        ]
        if not matches:
            param, value = next((name, given) for name, given in (
                ("attributedRewardId", wanted_id), ("code", ref.code), ("rewardId", wanted_reward),
            ) if given is not None)
            raise UnknownResource("Voucher", param, value)
        if len({found.member.contact_id for found in matches}) > 1:
            raise InvalidParameter(
                f"code {ref.code} is held by several contacts: name the holder with contactId or loyaltySubscriptionId"
            )
        now = self.backend.clock.now()
        return min(matches, key=lambda found: (
            found.revoked, found.voucher.unusable_reason(now) is not None,
            self._open_redemption(found, now) is not None, found.voucher.expiration_date, found.voucher.id,
        ))

    def _issued_holders(self, data: ProgramData, voucher_id: str | None, code: str | None) -> list[Member]:
        index = self._issued.of(self.backend.world)
        if voucher_id is not None:
            place = index.vouchers.get(voucher_id)
            if place is not None:
                contacts = [place[1]] if place[0] == data.id else []
            else:  # a seeded voucher: its id carries its holder's contact id
                owner = owner_of(voucher_id)
                contacts = [owner] if owner is not None else []
        else:
            contacts = list(index.codes.get((data.id, code or ""), {}))
        found = (self.backend.world.member(data, contact) for contact in contacts)
        return [member for member in found if member is not None]

    def _voucher_of(self, member: Member, voucher_id: str) -> _Found:
        for revoked, vouchers in ((False, member.vouchers), (True, member.revoked)):
            for voucher in vouchers:
                if voucher.id == voucher_id:
                    return _Found(member, voucher, revoked)
        raise UnknownResource("Voucher of redemption", "tid", voucher_id)

    def _open_redemption(self, found: _Found, now: int) -> str | None:
        for redemption in found.member.redemptions:
            if redemption.voucher_id == found.voucher.id and redemption.status_at(now) == "draft":
                return redemption.id
        return None

    def _redemption(self, data: ProgramData, tid: str) -> tuple[Member, Redemption]:
        wanted = norm_id(str(tid))
        place = self._issued.of(self.backend.world).redemptions.get(wanted)
        member = self.backend.world.member(data, place[1]) if place is not None and place[0] == data.id else None
        for redemption in member.redemptions if member is not None else ():
            if redemption.id == wanted:
                return member, redemption
        raise UnknownResource("Redemption", "tid", wanted)

    @staticmethod
    def _issue(data: ProgramData, reward: Reward, *, pooled: bool, now: int) -> ProgramData:
        """The program once a voucher of `reward` is issued: one code fewer in its pool, one more attribution."""
        pools = data.code_pools
        pool = data.pool_by_id.get(reward.code_pool_id or "") if pooled else None
        if pool is not None:
            if pool.code_count <= 0:
                raise InvalidParameter(f"Code pool {pool.id} of reward {reward.id} has no code left")
            pools = tuple(replace(p, code_count=p.code_count - 1, updated_at=now) if p.id == pool.id else p
                          for p in pools)
        counted = replace(reward, attributed=reward.attributed + 1)
        rewards = tuple(counted if r.id == reward.id else r for r in data.rewards)
        return data.replace(rewards=rewards, code_pools=pools)

    def _paid(self, data: ProgramData, reward: Reward, member: Member, voucher: Voucher, now: int) -> Member:
        """`member` after paying the reward's price (`subtractBalanceValue`) with a completed debit, if it has one."""
        if not reward.subtract_balance_value or reward.balance_definition_id is None:
            return member
        definition = data.definition_by_id.get(reward.balance_definition_id)
        ledger = member.ledger(reward.balance_definition_id)
        if definition is None or ledger is None:
            raise InvalidParameter(
                f"Reward {reward.id} is paid from balance definition {reward.balance_definition_id}, "
                f"which the program no longer has"
            )
        debit = Transaction(
            id=self.backend.new_id(),
            balance_definition_id=definition.id,
            transaction_type="debit",
            amount=reward.subtract_balance_value * definition.scale,
            status="completed",
            created_at=now,
            completed_at=now,
            cancelled_at=None,
            rejected_at=None,
            reject_reason=None,
            balance_expiration_date=None,
            meta=freeze({"source": "reward_attribution", "rewardId": reward.id, "voucherId": voucher.id}),
        )
        paid = with_debit(ledger, debit, definition.scale)
        ledgers = tuple(paid if other.balance_definition_id == definition.id else other for other in member.ledgers)
        subscription = replace(member.subscription, updated_at=max(member.subscription.updated_at, now))
        return replace(member, ledgers=ledgers, subscription=subscription)

    def _consume(
        self, data: ProgramData, reward: Reward, member: Member, redemption: Redemption, now: int
    ) -> tuple[ProgramData, Member, Redemption]:
        """The redemption completed: its voucher consumed, the reward's redemptions counted."""
        done = redemption.complete(now)
        member = replace(
            member,
            vouchers=tuple(v.consume(now) if v.id == redemption.voucher_id else v for v in member.vouchers),
            redemptions=tuple(done if r.id == done.id else r for r in member.redemptions),
        )
        counted = replace(reward, redeemed=reward.redeemed + 1)
        data = data.replace(rewards=tuple(counted if r.id == reward.id else r for r in data.rewards))
        return data, member, done
