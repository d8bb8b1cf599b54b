"""The `conformance` and `proxy` commands of `brevo-loyalty-mock`.

`add_commands(subparsers)` registers them on the main parser; `main()` in
mock_server/cli.py dispatches to `conformance()` and `proxy()`. Nothing heavy
is imported here: schemathesis, hypothesis and httpx (the `conformance`
extra) are imported when a command runs, and their absence ends in one line
saying how to install them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from mock_server.cli_errors import CliError, seconds
from mock_server.loopback import is_loopback
from mock_server.settings import Settings
from mock_server.testing import running_mock

PROG = "brevo-loyalty-mock"
INSTALL_HINT = "pip install 'brevo-loyalty-mock[conformance]'"
# Against a server with a quota (anything not on loopback, e.g. the real Brevo):
REMOTE_MAX_REQUESTS = 500  # under the 600 requests/hour of Brevo's smallest Loyalty plan
REMOTE_RATE = "5/second"
REMOTE_RESERVE = 20  # requests of the account's window left for everything else
REMOTE_MAX_EXAMPLES = 3
LOCAL_MAX_EXAMPLES = 10

CONFORMANCE_EXAMPLES = f"""examples:
  {PROG} conformance --base-url http://127.0.0.1:8080/v3 --api-key xkeysib-loyalty-mock-local-key
  {PROG} conformance --mock --max-examples 200 --report conformance.md      # a fresh in-process mock
  {PROG} conformance --base-url http://127.0.0.1:4010/v3 --api-key any --operations getLPList getContactBalances
  BREVO_API_KEY=xkeysib-... {PROG} conformance --base-url https://api.brevo.com/v3 --report brevo.md

against anything but loopback the run is read-only (GET only), stops after {REMOTE_MAX_REQUESTS} requests,
sends at most {REMOTE_RATE}, waits when x-sib-ratelimit-remaining falls to {REMOTE_RESERVE} and retries a 429
after x-sib-ratelimit-reset seconds. exit status: 0 passed, 1 failed, 2 usage error, 3 stopped early.

write sequences (begin -> complete -> history, subscribe -> balances, ...) run on our mock (--mock, or
any target answering /__mock__/ as it does). Any other server stays read-only unless you name a sandbox
program the run may write into (never creating or deleting a program):
  BREVO_API_KEY=xkeysib-... {PROG} conformance --base-url https://api.brevo.com/v3 --allow-writes --program PID
"""

PROXY_EXAMPLES = f"""examples:
  {PROG} proxy --upstream https://api.brevo.com/v3 --port 8081
  {PROG} proxy --upstream http://127.0.0.1:8080/v3 --port 0

point the client at http://127.0.0.1:PORT/v3; it checks each request (write bodies included) and each
answer against the contract, and journals violations at /__mock__/requests. Reads are always forwarded;
writes only to a loopback upstream, or to any other (the real Brevo) with --allow-writes.
"""


def add_commands(commands: Any) -> None:
    conformance = commands.add_parser(
        "conformance",
        help="check any server (our mock, the real Brevo, another mock) against the contract",
        description="Run the contract's schemathesis checks, stateful runs over its links, and semantic "
        "properties against a server; print a report and exit 0 only when nothing failed.",
        epilog=CONFORMANCE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = conformance.add_mutually_exclusive_group(required=True)
    target.add_argument("--base-url", metavar="URL", help="the API root, ending in /v3")
    target.add_argument("--mock", action="store_true", help="check a fresh in-process mock on a free loopback port")
    conformance.add_argument("--api-key", metavar="KEY", default=os.environ.get("BREVO_API_KEY"),
                             help="key to call the target with (default $BREVO_API_KEY)")
    conformance.add_argument("--max-examples", type=_positive, metavar="N",
                             help=f"generated cases per operation and phase (default {LOCAL_MAX_EXAMPLES} on "
                             f"loopback, {REMOTE_MAX_EXAMPLES} elsewhere)")
    conformance.add_argument("--seed", type=int, default=1, help="generation seed (default 1)")
    conformance.add_argument("--operations", nargs="+", metavar="OPERATION_ID", default=(),
                             help="only these read operationIds (default: every read; writes are sent by the write "
                             "sequences alone)")
    conformance.add_argument("--phases", default="examples,coverage,fuzzing,stateful",
                             help="comma-separated schemathesis phases (default all four; '' for none)")
    conformance.add_argument("--properties", action=argparse.BooleanOptionalAction, default=True,
                             help="check the semantic properties too (default on)")
    conformance.add_argument("--property-examples", type=_positive, metavar="N",
                             help="examples per property (default: --max-examples)")
    conformance.add_argument("--id", dest="ids", action="append", default=[], metavar="NAME=VALUE",
                             help="a known id to test with, by contract parameter name (pid, bdid, blid, cid, "
                             "gid, rid, cpid, loyaltySubscriptionId); repeatable")
    conformance.add_argument("--report", type=Path, metavar="PATH",
                             help="also write the report to PATH (.json for JSON, else Markdown)")
    budget = conformance.add_argument_group("request budget (defaults differ for loopback and remote targets)")
    budget.add_argument("--max-requests", type=_positive, metavar="N",
                        help=f"stop after N requests (default: none on loopback, {REMOTE_MAX_REQUESTS} elsewhere)")
    budget.add_argument("--rate", metavar="N/UNIT",
                        help=f"at most N requests per second|minute|hour (default: none on loopback, "
                        f"{REMOTE_RATE} elsewhere)")
    budget.add_argument("--reserve", type=int, metavar="N",
                        help=f"wait for the quota window to reset when x-sib-ratelimit-remaining falls to N "
                        f"(default: off on loopback, {REMOTE_RESERVE} elsewhere)")
    budget.add_argument("--max-wait", type=float, default=3600.0, metavar="SECONDS",
                        help="longest wait for a quota window before stopping (default 3600)")
    budget.add_argument("--read-only", action=argparse.BooleanOptionalAction, default=None,
                        help="send GET and HEAD only (default: on unless the target is on loopback)")
    writes = conformance.add_argument_group("write sequences (on our mock by default; elsewhere only into a sandbox "
                                            "program)")
    writes.add_argument("--writes", action=argparse.BooleanOptionalAction, default=True,
                        help="run the stateful write sequences where writing is allowed (default on)")
    writes.add_argument("--allow-writes", action="store_true",
                        help="write into the program named by --program on a server that is not our mock")
    writes.add_argument("--program", metavar="PID",
                        help="the sandbox program --allow-writes may write into (every write names it)")
    conformance.add_argument("--timeout", type=seconds, default=10.0, metavar="SECONDS",
                             help="per-request timeout (default 10)")
    conformance.add_argument("--quiet", action="store_true", help="print only the verdict line")

    proxy = commands.add_parser(
        "proxy",
        help="forward a client to a real server, checking requests and answers against the contract",
        description="Forward /v3 requests to an upstream server, validate each request and each answer "
        "against the contract, and journal violations at /__mock__/requests.",
        epilog=PROXY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    proxy.add_argument("--upstream", required=True, metavar="URL", help="the real API root, ending in /v3")
    proxy.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    proxy.add_argument("--port", type=int, default=8081, help="port; 0 picks a free one (default 8081)")
    proxy.add_argument("--timeout", type=seconds, default=30.0, metavar="SECONDS",
                       help="upstream timeout (default 30)")
    proxy.add_argument("--contract", type=Path, metavar="PATH", help="use another contract file")
    proxy.add_argument("--allow-writes", action="store_true",
                       help="forward writes to an upstream that is not on loopback (default: answered 405 there)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _check_writable(path: Path) -> None:
    """Refuse a --report path that cannot be written before the run, not after it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        raise CliError(f"--report {str(path)!r}: cannot write there ({error.strerror or error})") from None


def _require_extra() -> None:
    missing = []
    for module in ("schemathesis", "hypothesis", "httpx"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise CliError(f"this command needs {', '.join(missing)}: {INSTALL_HINT}")


def conformance(args: argparse.Namespace) -> int:
    _require_extra()
    from hypothesis.configuration import set_hypothesis_home_dir

    # Hypothesis caches under ./.hypothesis; a command run from the user's directory must not.
    with tempfile.TemporaryDirectory(prefix="brevo-conformance-") as scratch:
        if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
            set_hypothesis_home_dir(scratch)
        try:
            if args.mock:
                with running_mock(Settings(access_log=False)) as mock:
                    # The run sends malformed requests on purpose; the in-process server's warnings about
                    # refusing them are not the user's news (the report says what failed).
                    logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
                    return _run(args, mock.base_url, args.api_key or mock.api_key)
            return _run(args, args.base_url, args.api_key)
        finally:
            set_hypothesis_home_dir(None)


def _run(args: argparse.Namespace, base_url: str, api_key: str | None) -> int:
    # Here, not at the top: these import requests, which comes with the conformance extra (see _require_extra).
    from mock_server.conformance.budget import RequestBudget, parse_rate
    from mock_server.conformance.discovery import parse_known_ids
    from mock_server.conformance.runner import PHASES, RunOptions, run_conformance

    if not api_key:
        raise CliError("no API key: pass --api-key or set BREVO_API_KEY")
    if not base_url.startswith(("http://", "https://")):
        raise CliError(f"--base-url {base_url!r} must start with http:// or https://")
    local = is_loopback(base_url)
    phases = tuple(phase.strip() for phase in args.phases.split(",") if phase.strip())
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        raise CliError(f"--phases: unknown phase(s) {', '.join(unknown)}; choose among {', '.join(PHASES)}")
    if not phases and not args.properties and not args.writes:
        raise CliError("nothing to run: no --phases, --no-properties and --no-writes; a run that tests nothing "
                       "would pass")
    if args.report is not None:
        _check_writable(args.report)
    try:
        known = parse_known_ids(args.ids)
        rate = args.rate or (None if local else REMOTE_RATE)
        min_interval = parse_rate(rate) if rate else 0.0
    except ValueError as error:
        raise CliError(str(error)) from None
    if args.allow_writes != bool(args.program):
        raise CliError("--allow-writes and --program PID go together: name the sandbox program the run may write "
                       "into")
    reserve = args.reserve if args.reserve is not None else (None if local else REMOTE_RESERVE)
    budget = RequestBudget(
        max_requests=args.max_requests or (None if local else REMOTE_MAX_REQUESTS),
        min_interval=min_interval,
        honour_remaining=reserve is not None,
        reserve=reserve or 0,
        max_wait=args.max_wait,
        read_only=args.read_only if args.read_only is not None else not local,
        # Said even with --quiet: a run that sleeps for a rate-limit window must not look hung in a CI log.
        notify=lambda message: print(message, file=sys.stderr, flush=True),
    )
    max_examples = args.max_examples or (LOCAL_MAX_EXAMPLES if local else REMOTE_MAX_EXAMPLES)
    options = RunOptions(
        base_url=base_url,
        api_key=api_key,
        max_examples=max_examples,
        seed=args.seed,
        operations=tuple(args.operations),
        phases=phases,
        known_ids=known,
        budget=budget,
        properties=args.properties,
        property_examples=args.property_examples or max_examples,
        request_timeout=args.timeout,
        # An explicit --read-only means no write at all, our mock included.
        writes=args.writes and args.read_only is not True,
        allow_writes=args.allow_writes,
        write_program=args.program,
    )
    progress = None if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    try:
        report = run_conformance(options, progress=progress)
    except ValueError as error:  # an unknown operationId, or a write
        raise CliError(str(error)) from None
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        text = report.to_json() if args.report.suffix == ".json" else report.to_markdown()
        args.report.write_text(text, encoding="utf-8")
    if args.quiet:
        print(f"conformance: {report.verdict} ({base_url})")
    else:
        print(report.to_markdown())
    return report.exit_code


def proxy(args: argparse.Namespace) -> int:
    _require_extra()
    from mock_server.conformance.proxy import serve_proxy  # imports httpx, of the conformance extra

    return serve_proxy(upstream=args.upstream, host=args.host, port=args.port, timeout=args.timeout,
                       contract_path=args.contract, allow_writes=args.allow_writes)
