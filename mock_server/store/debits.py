"""A completed debit on a member's ledger: the one place a balance goes down outside seeding.

It keeps the ledger's invariants (see `mock_server.seeding.ledger`): the balance is completed
credits minus completed debits, and equals the sum of the active balances, which debits
consume oldest first. A debit larger than the balance is refused and nothing changes.
"""

from __future__ import annotations

from mock_server.errors import InsufficientBalance
from mock_server.store.balance_rules import apply_completed
from mock_server.store.models import Ledger, Transaction, render_amount


def with_debit(ledger: Ledger, debit: Transaction, scale: int) -> Ledger:
    """`ledger` after the completed `debit` (appended to its history); `scale` only words the refusal."""
    if debit.transaction_type != "debit" or debit.status != "completed" or debit.completed_at is None:
        raise ValueError(f"not a completed debit: {debit.id}")
    if debit.amount > ledger.value:
        raise InsufficientBalance(
            f"Balance {render_amount(ledger.value, scale)} on balance definition {ledger.balance_definition_id} "
            f"is less than the {render_amount(debit.amount, scale)} to debit"
        )
    return apply_completed(ledger, debit, active_id="", known=False)  # the one ledger move (balance_rules)
