"""What a transition emits when it causes several events at once (the services call one function).

The services emit simple events with one `backend.emit(...)` line where the transition happens;
the ones that need working out live here: a transaction's balance events (and the tier moves it
causes), a redemption. Callers check `backend.listening` first, so that nothing here runs when no
one listens. Events carry records (see mock_server/webhooks/payloads.py for the keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mock_server.store.models import BalanceDefinition, Member, Redemption, Reward, Transaction
from mock_server.store.tier_changes import TierMove, tier_moves

if TYPE_CHECKING:
    from mock_server.backend.state import Backend
    from mock_server.store.world import ProgramData


def transaction_events(backend: Backend, data: ProgramData, definition: BalanceDefinition, before: Member,
                       after: Member, tx: Transaction, moves: Sequence[TierMove] | None = None) -> None:
    """A transaction judged now: rejected (unauthorized, and the cap or floor it hit) or completed (the balance
    moved, the cap or floor reached, and the tiers that changed, group by group; `moves` when the caller
    knows them already)."""
    cid = after.contact_id
    value = after.ledgers[definition.index].value
    common = {"program": data, "definition": definition, "member": after, "transaction": tx}
    if tx.status == "rejected":
        backend.emit("balance_transaction_unauthorized", data.id, cid, **common, reason=tx.reject_reason)
        if tx.reject_reason == "max_amount_exceeded":
            backend.emit("balance_maximum_value_reached", data.id, cid, **common, value=value)
        elif tx.reject_reason == "insufficient_balance":
            backend.emit("balance_minimum_value_reached", data.id, cid, **common, value=value)
        return
    if tx.status != "completed":
        return
    backend.emit("balance_value_updated", data.id, cid, **common, value=value)
    if tx.transaction_type == "credit" and value >= definition.max_amount:
        backend.emit("balance_maximum_value_reached", data.id, cid, **common, value=value)
    elif tx.transaction_type == "debit" and value <= definition.min_amount:
        backend.emit("balance_minimum_value_reached", data.id, cid, **common, value=value)
    tier_events(backend, data, before, after, tx, moves)


def tier_events(backend: Backend, data: ProgramData, before: Member, after: Member,
                tx: Transaction | None = None, moves: Sequence[TierMove] | None = None) -> None:
    """`tier_association_updated` for each group where the member's tier changed between `before` and `after`
    (`moves`: those changes, when the caller has them from `settled_tiers`)."""
    for move in tier_moves(data, before, after) if moves is None else moves:
        extra = {"transaction": tx} if tx is not None else {}
        backend.emit("tier_association_updated", data.id, after.contact_id, program=data, member=after,
                     group=move.group, tier=move.after, previous_tier=move.before, **extra)


def redeemed(backend: Backend, data: ProgramData, reward: Reward, member: Member, redemption: Redemption) -> None:
    """`voucher_redeemed` for the voucher a completed redemption consumed."""
    voucher = next((v for v in member.vouchers if v.id == redemption.voucher_id), None)
    backend.emit("voucher_redeemed", data.id, member.contact_id, program=data, member=member, reward=reward,
                 voucher=voucher, redemption=redemption)
