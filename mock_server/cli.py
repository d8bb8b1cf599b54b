"""The `brevo-loyalty-mock` command: serve, world.

Every failure a user can cause (a bad flag, a busy port, a broken fixture)
ends in one line on stderr naming the problem, and a non-zero exit; never a
traceback.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from mock_server import __version__
from mock_server.contract.loader import ContractError
from mock_server.fixtures import FixtureError
from mock_server.settings import (
    DEFAULT_API_KEY,
    DEFAULT_CONTACTS,
    DEFAULT_SEED,
    MAX_CONTACTS,
    Settings,
    SettingsError,
    overrides_from_env,
    parse_api_key,
    parse_int,
    parse_rate_limit,
)

PROG = "brevo-loyalty-mock"

SERVE_EXAMPLES = f"""examples:
  {PROG} serve
  {PROG} serve --port 0 --seed 7 --contacts 100000
  {PROG} serve --api-key my-test-key --forbidden-key no-loyalty-key
  {PROG} serve --fixture fixtures/widget-member.yaml --rate-limit 600/hour
  {PROG} serve --api-key key-a=acme --api-key key-b=globex   # two organisations

every flag has an environment variable: BREVO_MOCK_PORT, BREVO_MOCK_SEED,
BREVO_MOCK_API_KEYS (comma-separated), BREVO_MOCK_FIXTURES, ... (see README)
"""

WORLD_EXAMPLES = f"""examples:
  {PROG} world
  {PROG} world --seed 7 --contacts 50 --fixture fixtures/widget-member.yaml
"""


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _int_arg(name: str, minimum: int, maximum: int | None = None) -> Any:
    def parse(text: str) -> int:
        try:
            return parse_int(name, text, minimum, maximum)
        except SettingsError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _rate_arg(text: str) -> int | None:
    try:
        return parse_rate_limit(text)
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_world_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=_int_arg("--seed", 0), help=f"world seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--contacts",
        type=_int_arg("--contacts", 1, MAX_CONTACTS),
        help=f"subscribed contacts per program (default {DEFAULT_CONTACTS})",
    )
    parser.add_argument(
        "--fixture",
        dest="fixtures",
        action="append",
        metavar="PATH",
        help="YAML scenario layered on the seeded world (repeatable); a name such as "
        "'widget-member' picks a shipped fixture",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Offline mock of Brevo's Loyalty read API, driven by its OpenAPI contract.",
        epilog=f"run '{PROG} COMMAND --help' for a command's flags and examples",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the mock API on 127.0.0.1",
        description="Serve the mock Loyalty API under /v3 with a seeded, deterministic world.",
        epilog=SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_int_arg("--port", 0, 65535), help="port; 0 picks a free one (default 8080)")
    _add_world_flags(serve)
    serve.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        metavar="KEY[=ORG]",
        help=f"accepted key, optionally with its organisation (repeatable; default {DEFAULT_API_KEY})",
    )
    serve.add_argument(
        "--forbidden-key",
        dest="forbidden_keys",
        action="append",
        metavar="KEY",
        help="key that authenticates but has no Loyalty access: answers 403 (repeatable)",
    )
    serve.add_argument("--rate-limit", type=_rate_arg, metavar="N/hour",
                       help="answer 429 past N requests per hour per key (default off)")
    serve.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=None,
                       help="log every request (default on)")
    serve.add_argument("--check-client", action="store_true", default=None,
                       help="report every request that breaks the contract (journal + summary at exit)")
    serve.add_argument("--no-admin", dest="admin", action="store_false", default=None,
                       help="disable the /__mock__/ endpoints")
    serve.add_argument("--contract", type=Path, metavar="PATH", help="use another contract file")

    world = commands.add_parser(
        "world",
        help="print the seeded world's ids as JSON, without serving",
        description="Print the ids of the seeded world (what GET /__mock__/world answers) as JSON.",
        epilog=WORLD_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_world_flags(world)
    world.add_argument("--sample", type=_int_arg("--sample", 0, 1000), default=5,
                       help="subscribed contacts to list per program (default 5)")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    values: dict[str, Any] = overrides_from_env()
    flags = {
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "seed": args.seed,
        "contacts": args.contacts,
        "access_log": getattr(args, "access_log", None),
        "check_client": getattr(args, "check_client", None),
        "admin": getattr(args, "admin", None),
        "contract_path": getattr(args, "contract", None),
    }
    values.update({name: value for name, value in flags.items() if value is not None})
    if "rate_limit" in vars(args) and args.rate_limit is not None:
        values["rate_limit_per_hour"] = args.rate_limit
    if getattr(args, "api_keys", None):
        values["api_keys"] = tuple(parse_api_key(text) for text in args.api_keys)
    if getattr(args, "forbidden_keys", None):
        values["forbidden_keys"] = tuple(args.forbidden_keys)
    if args.fixtures:
        values["fixtures"] = tuple(resolve_fixture(text) for text in args.fixtures)
    return Settings(**values)


def resolve_fixture(text: str) -> Path:
    """A path, or the name of a fixture shipped with the mock (``widget-member``)."""
    path = Path(text)
    if path.exists() or path.suffix in (".yaml", ".yml") or os.sep in text:
        return path
    from mock_server.fixtures import shipped_fixture

    found = shipped_fixture(text)
    if found is None:
        raise CliError(f"fixture {text!r}: no such file, and no shipped fixture of that name")
    return found


def bind_socket(host: str, port: int) -> socket.socket:
    try:
        return socket.create_server((host, port), reuse_port=False)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CliError(f"port {port} on {host} is already in use (pick another with --port, or 0)") from None
        if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
            raise CliError(f"cannot bind to {host}: no such local address") from None
        if error.errno == errno.EACCES:
            raise CliError(f"not allowed to bind {host}:{port} (ports below 1024 need privileges)") from None
        raise CliError(f"cannot bind {host}:{port}: {error.strerror or error}") from None


def _progress(stream: Any) -> Any:
    """A one-line progress bar for large worlds, on a terminal only."""
    if not stream.isatty():
        return None
    state = {"last": -1}

    def report(done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent != state["last"]:
            state["last"] = percent
            bar = "#" * (percent // 4)
            stream.write(f"\rseeding world [{bar:<25}] {percent:3d}%")
            if done >= total:
                stream.write("\n")
            stream.flush()

    return report


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mock_server.app import build_worlds, create_app
    from mock_server.banner import banner

    settings = settings_from_args(args)
    sock = bind_socket(settings.host, settings.port)
    settings = replace(settings, port=sock.getsockname()[1])
    worlds = build_worlds(settings, progress=_progress(sys.stderr) if settings.contacts >= 20_000 else None)
    app = create_app(settings, worlds=worlds)
    print(banner(settings, app.state.mock), flush=True)
    config = uvicorn.Config(
        app,
        log_level="info" if settings.access_log else "warning",
        access_log=settings.access_log,
        lifespan="on",
        server_header=False,
        # Size limits for what never reaches the app (see README, "Limits").
        h11_max_incomplete_event_size=16 * 1024,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0


def world(args: argparse.Namespace) -> int:
    from mock_server.app import build_worlds

    settings = settings_from_args(args)
    found = build_worlds(settings)
    organisation = settings.organisations[0]
    summary = found[organisation].summary(sample=args.sample)
    sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "world":
            return world(args)
        parser.error(f"unknown command {args.command}")
    except (CliError, SettingsError, FixtureError, ContractError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
