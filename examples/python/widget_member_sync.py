"""Read the loyalty widget's member with Brevo's official Python client (brevo-python 5.x).

Against the mock, unchanged client, only `base_url` differs:

    make run ARGS='--fixture widget-member'          # one terminal
    python examples/python/widget_member_sync.py     # another (the venv has brevo-python)
    340 pts · Silver · 160 pts to Gold · 1 reward available

The guide's tier and vouchers reads (/subscriptions/{cid}/tier and /vouchers) have
no method in the Python client, so this reads the same facts through the methods
it has: the member's balances, the program's tiers, the member's tier (account-info)
and the member's vouchers. A wrong key or an unknown program raises the client's
UnauthorizedError / NotFoundError, as it would against Brevo.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime

import httpx
from brevo import Brevo
from brevo.core.api_error import ApiError
from loyalty_widget import arguments, server_now, widget_line


def read_widget(client: Brevo, pid: str, contact_id: int, now: datetime) -> str:
    tiers = client.tier.get_loyalty_program_tier(pid)
    balances = client.balance.get_subscription_balances(pid, str(contact_id))
    info = client.program.get_parameter_subscription_info(pid, contact_id=str(contact_id), params="tier")
    vouchers = client.reward.get_voucher_for_a_contact(pid, contact_id=contact_id, limit=100)
    return widget_line(tiers.items or [], balances.balance or [], info.tier or [],
                       vouchers.contact_rewards or [], now)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments("The widget member, read with brevo-python (sync).", argv)
    client = Brevo(api_key=args.api_key, base_url=args.base_url)
    try:
        print(read_widget(client, args.program_id, args.contact_id, args.now or server_now(args.base_url)))
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
