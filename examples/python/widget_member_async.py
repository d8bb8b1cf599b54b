"""Read the loyalty widget's member with Brevo's official async Python client (brevo-python 5.x).

The same reads as widget_member_sync.py, made in parallel as the guide advises:

    make run ARGS='--fixture widget-member'          # one terminal
    python examples/python/widget_member_async.py    # another
    340 pts · Silver · 160 pts to Gold · 1 reward available
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime

import httpx
from brevo import AsyncBrevo
from brevo.core.api_error import ApiError
from loyalty_widget import arguments, server_now, widget_line


async def read_widget(client: AsyncBrevo, pid: str, contact_id: int, now: datetime) -> str:
    tiers, balances, info, vouchers = await asyncio.gather(
        client.tier.get_loyalty_program_tier(pid),
        client.balance.get_subscription_balances(pid, str(contact_id)),
        client.program.get_parameter_subscription_info(pid, contact_id=str(contact_id), params="tier"),
        client.reward.get_voucher_for_a_contact(pid, contact_id=contact_id, limit=100),
    )
    return widget_line(tiers.items or [], balances.balance or [], info.tier or [],
                       vouchers.contact_rewards or [], now)


async def run(argv: Sequence[str] | None = None) -> int:
    args = arguments("The widget member, read with brevo-python (async).", argv)
    client = AsyncBrevo(api_key=args.api_key, base_url=args.base_url)
    try:
        now = args.now or await asyncio.to_thread(server_now, args.base_url)
        print(await read_widget(client, args.program_id, args.contact_id, now))
    except ApiError as error:
        print(f"{type(error).__name__}: HTTP {error.status_code} {error.body}", file=sys.stderr)
        return 1
    except httpx.TransportError as error:  # no answer at all: nothing listens at the base URL
        print(f"cannot reach {args.base_url}: {error}; is the mock running (make run)? or pass --base-url",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run()))
