"""A shop's purchase flow with Brevo's official Python client (brevo-python 5.x), step by step.

Against the mock, unchanged client, only `base_url` differs:

    make run ARGS='--fixture widget-member'          # one terminal
    python examples/python/purchase_flow.py          # another (the venv has brevo-python)

It enrols a new contact in the widget program, credits two orders (create the order,
then complete its transaction), and watches the balance rise and the tier climb from
Bronze through Silver to Gold at 500 points; then it attributes the "Gold Welcome
Reward" voucher (the reward's code pool gives one code: codes-count goes down by one)
and redeems it. Every step prints one line. Run it again after `POST /__mock__/reset`
(or restart the mock): the contact can enrol only once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import httpx
from brevo import Brevo
from brevo.core.api_error import ApiError

DEFAULT_BASE_URL = "http://127.0.0.1:8080/v3"  # `make run`
DEFAULT_API_KEY = "xkeysib-loyalty-mock-local-key"
WIDGET_PROGRAM_ID = "27d1dd7a-af67-4020-ba65-19d60000a26e"  # fixtures/widget-member.yaml
NEW_CONTACT_ID = 67890
ORDERS = (("ORD-200001", 300), ("ORD-200002", 250))  # points per order: 300 reaches Silver, 550 Gold
REWARD_NAME = "Gold Welcome Reward"


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A purchase flow against Brevo Loyalty, with brevo-python.")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"API root (default {DEFAULT_BASE_URL})")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="api-key (default: the mock's)")
    parser.add_argument("--program-id", default=WIDGET_PROGRAM_ID, help="pid (default: the widget program)")
    parser.add_argument("--contact-id", type=int, default=NEW_CONTACT_ID, help="the contact to enrol (67890)")
    return parser.parse_args(argv)


def tier_name(client: Brevo, pid: str, contact_id: int) -> str:
    """The member's tier in the program's first tier group, from account-info and the tier list."""
    names = {tier.tier_id: tier.name for tier in client.tier.get_loyalty_program_tier(pid).items or []}
    held = client.program.get_parameter_subscription_info(pid, contact_id=str(contact_id), params="tier").tier
    return names.get(held[0].tier_id, "?") if held else "no tier"


def points(client: Brevo, pid: str, contact_id: int, definition_id: str) -> float:
    balances = client.balance.get_subscription_balances(pid, str(contact_id)).balance or []
    return next(balance.value for balance in balances if balance.balance_definition_id == definition_id)


def run(client: Brevo, pid: str, contact_id: int) -> list[str]:
    lines: list[str] = []
    definition = client.balance.get_balance_definition_list(pid).items[0]
    enrolled = client.program.subscribe_to_loyalty_program(pid, contact_id=contact_id)
    lines.append(f"enrolled contact {enrolled.contact_id}: {points(client, pid, contact_id, definition.id):,.0f} "
                 f"pts · {tier_name(client, pid, contact_id)}")

    for order_id, amount in ORDERS:
        order = client.balance.create_balance_order(
            pid, amount=amount, balance_definition_id=definition.id, contact_id=contact_id,
            due_at="2026-11-01T12:00:00.000Z", source="user", meta={"orderId": order_id})
        client.balance.complete_transaction(pid, order.transactionid)
        lines.append(f"order {order_id} (+{amount}) completed: {points(client, pid, contact_id, definition.id):,.0f}"
                     f" pts · {tier_name(client, pid, contact_id)}")

    reward = next(offer for offer in client.reward.get_reward_page_api(pid).items or []
                  if offer.name == REWARD_NAME)
    pool_id = client.reward.get_reward_information(pid, reward.id).code_pool_id
    before = client.reward.get_code_count(pid, pool_id).count
    voucher = client.reward.create_voucher(pid, reward_id=reward.id, contact_id=contact_id)
    after = client.reward.get_code_count(pid, pool_id).count
    lines.append(f"voucher {voucher.code} attributed: codes left {before} -> {after}")

    redemption = client.reward.redeem_voucher(pid, attributed_reward_id=voucher.id, contact_id=contact_id)
    done = client.reward.complete_redeem_transaction(pid, redemption.id)
    held = client.reward.get_voucher_for_a_contact(pid, contact_id=contact_id).contact_rewards or []
    usable = [item for item in held if item.consumed_at is None]
    lines.append(f"voucher {voucher.code} redeemed ({done.status}): {len(usable)} usable voucher(s) left")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    client = Brevo(api_key=args.api_key, base_url=args.base_url)
    try:
        for line in run(client, args.program_id, args.contact_id):
            print(line)
    except ApiError as error:
        print(f"{type(error).__name__}: HTTP {error.status_code} {error.body}", file=sys.stderr)
        return 1
    except httpx.TransportError as error:  # no answer at all: nothing listens at the base URL
        print(f"cannot reach {args.base_url}: {error}; is the mock running (make run)? or pass --base-url",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
