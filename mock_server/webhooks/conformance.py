"""`brevo-loyalty-mock conformance-webhooks --target URL`: check a webhook handler with Brevo-shaped events.

For every Loyalty event (or those named), hypothesis draws payloads that are valid by the contract's
schema and posts each as the mock delivers webhooks (same headers, same client). The report says,
event by event, which payloads the handler refused (4xx: Brevo would discard the event) or failed
on (5xx, a timeout, no connection), and whether it handles a redelivery of an event it accepted
(the same `event_id` posted again must get the same answer and never a 5xx: Brevo retries, so a
handler sees duplicates). Exit status: 0 when the handler took everything, 1 when it broke, 2 on a
usage error.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_server.cli_errors import CliError, seconds
from mock_server.webhooks.catalog import payload_schemas
from mock_server.webhooks.endpoints import EndpointError, make_endpoint, parse_header
from mock_server.webhooks.sender import DELIVERED, Sender

PROG = "brevo-loyalty-mock"
EXAMPLES = f"""examples:
  {PROG} conformance-webhooks --target http://127.0.0.1:9000/hooks
  {PROG} conformance-webhooks --target http://127.0.0.1:9000/hooks --events tier_association_updated --examples 50
  {PROG} conformance-webhooks --target http://user:secret@127.0.0.1:9000/hooks --header 'X-Env: test'

exit status: 0 the handler answered 2xx to every valid event and handled redeliveries, 1 it broke, 2 usage error.
"""


@dataclass
class EventReport:
    name: str
    sent: int = 0
    accepted: int = 0
    refused: dict[int, int] = field(default_factory=dict)  # 4xx (and 3xx) status -> count
    failed: dict[str, int] = field(default_factory=dict)  # "500", "timeout" ... -> count
    redelivery: str | None = None  # None: no accepted payload to redeliver; "ok" or what went wrong
    example: dict[str, Any] | None = None  # a payload the handler refused or failed on

    def broken(self, allow_refusals: bool) -> bool:
        return bool(self.failed) or (bool(self.refused) and not allow_refusals) or self.redelivery not in (None, "ok")


def add_command(commands: Any) -> None:
    parser = commands.add_parser(
        "conformance-webhooks",
        help="check your webhook handler with generated Loyalty events (and redeliveries)",
        description="Post schema-valid payloads of every Loyalty webhook event to a handler, then redeliver one "
        "it accepted, and report what it refused, what it failed on and whether redeliveries are handled.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", required=True, metavar="URL", help="the handler's URL (basic auth in it allowed)")
    parser.add_argument("--events", metavar="NAME,NAME", help="only these events (default: all 24)")
    parser.add_argument("--examples", type=int, default=5, metavar="N", help="payloads per event (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="generation seed (default 1)")
    parser.add_argument("--header", dest="headers", action="append", default=[], metavar="'NAME: VALUE'",
                        help="a header sent with every post (repeatable)")
    parser.add_argument("--bearer", metavar="TOKEN", help="send 'Authorization: Bearer TOKEN'")
    parser.add_argument("--timeout", type=seconds, default=5.0, metavar="SECONDS",
                        help="time the handler may take per post (default 5)")
    parser.add_argument("--allow-refusals", action="store_true",
                        help="report 4xx answers without failing (by default a refused valid event fails the run: "
                        "Brevo discards it)")


def run(args: argparse.Namespace) -> int:
    try:
        import hypothesis  # noqa: F401 - the `conformance` extra
    except ImportError:
        raise CliError("this command needs hypothesis: pip install 'brevo-loyalty-mock[conformance]'") from None
    schemas = payload_schemas()
    names = [part.strip() for part in (args.events or "").split(",") if part.strip()] or list(schemas)
    unknown = [name for name in names if name not in schemas]
    if unknown:
        raise CliError(f"unknown event(s) {', '.join(unknown)}; known: {', '.join(schemas)}")
    if not 1 <= args.examples <= 1000:
        raise CliError("--examples must be between 1 and 1000")
    try:
        endpoint = make_endpoint(args.target, headers=[parse_header(text) for text in args.headers],
                                 bearer=args.bearer, timeout=args.timeout)
    except EndpointError as error:
        raise CliError(str(error)) from None
    reports = check_handler(endpoint, {name: schemas[name] for name in names}, args.examples, args.seed)
    print(render_report(reports, args.target, args.allow_refusals))
    return 1 if any(report.broken(args.allow_refusals) for report in reports) else 0


def check_handler(endpoint: Any, schemas: dict[str, dict[str, Any]], examples: int, seed: int) -> list[EventReport]:
    sender = Sender(endpoint)
    try:
        return [_check_event(sender, name, schema, examples, seed) for name, schema in schemas.items()]
    finally:
        sender.close()


def _check_event(sender: Any, name: str, schema: dict[str, Any], examples: int, seed: int) -> EventReport:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from mock_server.webhooks.strategies import from_schema  # imports hypothesis: the conformance extra

    report = EventReport(name)
    accepted: list[tuple[bytes, int | None]] = []

    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(from_schema(schema))
    def post(payload: dict[str, Any]) -> None:
        body = orjson.dumps(payload)
        outcome = sender.post(body)
        report.sent += 1
        if outcome.verdict == DELIVERED:
            report.accepted += 1
            if not accepted:
                accepted.append((body, outcome.status))
            return
        if outcome.status is not None and outcome.status < 500 and outcome.status != 429:
            report.refused[outcome.status] = report.refused.get(outcome.status, 0) + 1
        else:
            key = str(outcome.status) if outcome.status is not None else str(outcome.error)
            report.failed[key] = report.failed.get(key, 0) + 1
        if report.example is None:
            report.example = payload

    post()
    if accepted:  # Brevo redelivers the same event (same event_id) after a timeout or a 429
        body, first = accepted[0]
        again = sender.post(body)
        if again.status is None:
            report.redelivery = f"redelivery got no answer ({again.error})"
        elif again.status >= 500:
            report.redelivery = f"redelivery answered {again.status} (first delivery {first})"
        elif again.status // 100 != (first or 0) // 100:
            report.redelivery = f"redelivery answered {again.status}, the first delivery {first}"
        else:
            report.redelivery = "ok"
    return report


def render_report(reports: Sequence[EventReport], target: str, allow_refusals: bool) -> str:
    lines = [f"conformance-webhooks against {target}"]
    for report in reports:
        verdict = "FAIL" if report.broken(allow_refusals) else "ok"
        parts = [f"{report.accepted}/{report.sent} accepted"]
        if report.refused:
            refused = sorted(report.refused.items())
            parts.append("refused " + ", ".join(f"{status} x{count}" for status, count in refused))
        if report.failed:
            failed = sorted(report.failed.items())
            parts.append("failed " + ", ".join(f"{what} x{count}" for what, count in failed))
        parts.append(f"redelivery {report.redelivery or 'not tried (nothing accepted)'}")
        lines.append(f"  {verdict:4} {report.name}: {'; '.join(parts)}")
        if report.example is not None and verdict == "FAIL":
            lines.append(f"       e.g. {orjson.dumps(report.example).decode()[:300]}")
    broken = [report.name for report in reports if report.broken(allow_refusals)]
    lines.append(f"{len(reports) - len(broken)}/{len(reports)} events handled" +
                 (f"; broken: {', '.join(broken)}" if broken else ""))
    return "\n".join(lines)

