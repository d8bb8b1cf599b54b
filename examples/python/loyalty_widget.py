"""The loyalty widget's line, from what Brevo's official clients return.

Shared by widget_member_sync.py and widget_member_async.py; no client code here.
The line is the one the "Read member data" guide renders:

    340 pts · Silver · 160 pts to Gold · 1 reward available
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

DEFAULT_BASE_URL = "http://127.0.0.1:8080/v3"  # `make run`
DEFAULT_API_KEY = "xkeysib-loyalty-mock-local-key"
WIDGET_PROGRAM_ID = "27d1dd7a-af67-4020-ba65-19d60000a26e"  # fixtures/widget-member.yaml
WIDGET_CONTACT_ID = 12345


def arguments(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"API root (default {DEFAULT_BASE_URL})")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="api-key (default: the mock's)")
    parser.add_argument("--program-id", default=WIDGET_PROGRAM_ID, help="pid (default: the widget member's)")
    parser.add_argument("--contact-id", type=int, default=WIDGET_CONTACT_ID, help="cid (default 12345)")
    parser.add_argument("--now", type=_now_option, default=None,
                        help="judge voucher expiry at this ISO instant (default: the mock's own clock, "
                        "2026-11-01T00:00:00Z, whatever today's date)")
    return parser.parse_args(argv)


def server_now(base_url: str) -> datetime:
    """The instant to judge voucher expiry at: the mock's own clock, never the date the example runs on.

    The mock's data is dated on its own clock (GET /__mock__/clock, ``now``: it starts at the world's
    fixed reference time and moves only with writes and with tests moving it), so a voucher it calls
    valid stays valid in every year. A server without that endpoint is not the mock (Brevo itself): its
    vouchers are dated on the real clock, so the real clock judges them.
    """
    root = base_url.rstrip("/").removesuffix("/v3")
    try:
        with urllib.request.urlopen(f"{root}/__mock__/clock", timeout=10) as answer:
            return _instant(json.load(answer)["now"])
    except urllib.error.HTTPError:  # answered, but no such endpoint: not the mock
        return datetime.now(UTC)  # wall: Brevo itself dates its vouchers on the real clock
    except OSError:  # no answer at all: the API reads that follow report it
        return datetime.now(UTC)  # wall: nothing to judge yet; the reads that follow fail and say why


def _now_option(text: str) -> datetime:
    try:
        return _instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r} (e.g. 2027-01-01T00:00:00Z)") from None


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return _instant(str(value))


def _points(value: float) -> str:
    return f"{value:,.0f} pts"


def widget_line(tiers: Sequence[Any], balances: Sequence[Any], member_tiers: Sequence[Any],
                vouchers: Sequence[Any], now: datetime) -> str:
    """The guide's widget line, from the SDK's typed answers.

    - `tiers`: get_loyalty_program_tier(pid).items (every tier, its group and threshold)
    - `balances`: get_subscription_balances(pid, cid).balance
    - `member_tiers`: get_parameter_subscription_info(pid, contact_id=cid, params="tier").tier
    - `vouchers`: get_voucher_for_a_contact(pid, contact_id=cid).contact_rewards
    - `now`: the instant voucher expiry is judged at (`server_now`: the mock's clock)
    """
    group_id = member_tiers[0].group_id if member_tiers else (tiers[0].group_id if tiers else None)
    ladder = sorted((tier for tier in tiers if tier.group_id == group_id),
                    key=lambda tier: tier.access_conditions[0].minimum_value)
    # The balance the tier thresholds count is the one the widget shows.
    definition_id = ladder[0].access_conditions[0].balance_definition_id if ladder else None
    value = next((item.value for item in balances if item.balance_definition_id == definition_id),
                 balances[0].value if balances and definition_id is None else 0)

    current_id = member_tiers[0].tier_id if member_tiers else None
    position = next((i for i, tier in enumerate(ladder) if tier.tier_id == current_id), -1)
    parts = [_points(value), ladder[position].name if position >= 0 else "No tier yet"]
    if position + 1 < len(ladder):
        upcoming = ladder[position + 1]
        parts.append(f"{_points(max(0, upcoming.access_conditions[0].minimum_value - value))} to {upcoming.name}")
    elif position >= 0:
        parts.append("top tier")

    def usable(voucher: Any) -> bool:
        expires = _when(voucher.expiration_date)
        return voucher.consumed_at is None and (expires is None or expires > now)

    count = sum(1 for voucher in vouchers if usable(voucher))
    parts.append(f"{count} reward{'' if count == 1 else 's'} available")
    return " · ".join(parts)
