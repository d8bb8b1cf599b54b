"""The `brevo-loyalty-mock` command: serve, world.

Every failure a user can cause (a bad flag, a busy port, a broken fixture)
ends in one line on stderr naming the problem, and a non-zero exit; never a
traceback.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import orjson

from mock_server import __version__
from mock_server.app import build_worlds, create_app
from mock_server.backend.clock import CLOCK_MODES
from mock_server.banner import banner
from mock_server.cli_errors import CliError
from mock_server.conformance import cli as conformance_cli
from mock_server.contract.loader import ContractError
from mock_server.durable import hold_alone
from mock_server.durable.logfile import StateError
from mock_server.fixture_format import schema_text
from mock_server.fixtures import FixtureError, fixture_file, shipped_schema
from mock_server.logs import message
from mock_server.orphans import PARENT_VARIABLE, process_alive
from mock_server.server import bind_socket, settle_collector, uvicorn_options
from mock_server.settings import (
    DEFAULT_API_KEY,
    DEFAULT_CONTACTS,
    DEFAULT_SEED,
    MAX_CONTACTS,
    RateLimit,
    Settings,
    SettingsError,
    overrides_from_env,
    parse_admin_from,
    parse_allowed_host,
    parse_api_key,
    parse_cors_origin,
    parse_idle_timeout,
    parse_int,
    parse_log_format,
    parse_rate_limit,
    parse_timeout,
    parse_webhook_delivery,
    parse_webhook_header,
    parse_world_per_key,
    to_env,
)
from mock_server.webhooks import conformance as webhook_conformance

PROG = "brevo-loyalty-mock"

SERVE_EXAMPLES = f"""examples:
  {PROG} serve
  {PROG} serve --port 0 --seed 7 --contacts 100000
  {PROG} serve --api-key my-test-key --forbidden-key no-loyalty-key
  {PROG} serve --fixture fixtures/widget-member.yaml --rate-limit 600/hour
  {PROG} serve --api-key key-a=acme --api-key key-b=globex   # two organisations
  {PROG} serve --fixture widget-member --cors-origin http://localhost:3000   # only this browser origin
  {PROG} serve --host 0.0.0.0 --admin-from 172.17.0.0/16   # in a container: its host may use /__mock__/
  {PROG} serve --rate-limit 2/second --log-format json   # a client's back-off, logged for a CI collector
  {PROG} serve --workers 4               # 4 processes sharing one state (docs/durability.md)
  {PROG} serve --state mock.state        # keep every write over restarts and crashes
  {PROG} serve --world-per-key xkeysib-test-   # each key xkeysib-test-... gets a world of its own (parallel CI)

then open http://127.0.0.1:8080/__mock__/ (the world and the request journal) or
http://127.0.0.1:8080/__mock__/widget?contactId=12345 (the guide's loyalty widget, with --fixture widget-member)

every flag has an environment variable: BREVO_MOCK_PORT, BREVO_MOCK_SEED,
BREVO_MOCK_API_KEYS (comma-separated), BREVO_MOCK_FIXTURES, BREVO_MOCK_CORS_ORIGINS, ... (see README)
"""

MAIN_EXAMPLES = f"""examples:
  {PROG} serve                                   # http://127.0.0.1:8080/v3, key xkeysib-loyalty-mock-local-key
  {PROG} serve --port 0 --fixture widget-member  # a free port; the guide's member, contact 12345
  {PROG} world --fixture widget-member           # the seeded ids as JSON, without serving
  {PROG} fixture-schema > fixture.schema.json    # the fixture format, for your editor
  {PROG} conformance --mock                      # check the contract against a fresh mock

run '{PROG} COMMAND --help' for a command's flags and examples
"""

WORLD_EXAMPLES = f"""examples:
  {PROG} world
  {PROG} world --seed 7 --contacts 50 --fixture fixtures/widget-member.yaml
"""


SCHEMA_EXAMPLES = f"""examples:
  {PROG} fixture-schema > fixture.schema.json   # then, first line of your fixture:
                                                # yaml-language-server: $schema=fixture.schema.json
  {PROG} fixture-schema --path                  # the copy installed with the mock
"""


def _int_arg(name: str, minimum: int, maximum: int | None = None) -> Any:
    def parse(text: str) -> int:
        try:
            return parse_int(name, text, minimum, maximum)
        except SettingsError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _rate_arg(text: str) -> RateLimit | None:
    try:
        return parse_rate_limit(text)
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _checked(parse: Any) -> Any:
    """An argparse `type` from a settings parser: its SettingsError becomes argparse's one-line error."""
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except SettingsError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return checked


_cors_arg = _checked(parse_cors_origin)


def _add_world_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=_int_arg("--seed", 0), help=f"world seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--contacts",
        type=_int_arg("--contacts", 1, MAX_CONTACTS),
        help=f"subscribed contacts per published program (default {DEFAULT_CONTACTS})",
    )
    parser.add_argument(
        "--fixture",
        dest="fixtures",
        action="append",
        metavar="PATH",
        help="YAML scenario layered on the seeded world (repeatable); a name such as "
        "'widget-member' picks a shipped fixture",
    )


class _ArgumentParser(argparse.ArgumentParser):
    """argparse with its errors on one line, without the usage block: every failure is one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _refuse_unknown(parser: argparse.ArgumentParser, command: str, unknown: list[str]) -> NoReturn:
    """Unknown arguments, refused by the command's own parser (its --help lists its options), a misspelt
    option named with the closest one."""
    subcommands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    own = subcommands.choices[command]
    known = [flag for action in own._actions for flag in action.option_strings if flag.startswith("--")]
    named = []
    for argument in unknown:
        flag = argument.split("=", 1)[0]
        close = difflib.get_close_matches(flag, known, n=1, cutoff=0.75) if flag.startswith("--") else []
        named.append(f"{argument} (did you mean {close[0]}?)" if close else argument)
    own.error(f"unrecognized arguments: {' '.join(named)}")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog=PROG,
        description="Offline, stateful mock of Brevo's Loyalty API, driven by its OpenAPI contract.",
        epilog=MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    serve.add_argument("--rate-limit", type=_rate_arg, metavar="N/WINDOW",
                       help="answer 429 past N requests per key in each window: N/hour, N/minute or N/second "
                       "(default off)")
    serve.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=None,
                       help="log every request (default on)")
    serve.add_argument("--no-direct-path", dest="direct_path", action="store_false", default=None,
                       help="send every request through uvicorn's ASGI path, none answered by the mock's HTTP "
                       "protocol itself: slower, for telling a fault of the fast path from one of the app "
                       "(default: plain API reads take the fast path)")
    serve.add_argument("--check-client", action="store_true", default=None,
                       help="print each request that breaks the contract as it comes, a summary at exit, "
                       "and exit 1 if there was any since start, even if /__mock__/reset cleared the journal "
                       "(the journal at /__mock__/requests is always on; one worker only)")
    serve.add_argument("--no-admin", dest="admin", action="store_false", default=None,
                       help="disable the /__mock__/ endpoints")
    serve.add_argument("--contract", type=Path, metavar="PATH", help="use another contract file")
    serve.add_argument("--cors-origin", dest="cors_origins", action="append", type=_cors_arg, metavar="ORIGIN",
                       help="browser origin allowed to call the API, such as http://localhost:3000 (repeatable; "
                       "default '*': any origin)")
    serve.add_argument("--clock", choices=CLOCK_MODES, default=None,
                       help="fixed: a logical clock that starts at the world's reference time and moves one second "
                       "per accepted write, so answers are reproducible (default); real: the wall clock. Either is "
                       "moved on by POST /__mock__/clock (advance or set), which runs what falls due meanwhile "
                       "(expiries, reminders, anniversaries); on the real clock a move adds an offset to the wall "
                       "clock, which keeps running from there")
    serve.add_argument("--admin-from", dest="admin_from", action="append", type=_checked(parse_admin_from),
                       metavar="CIDR", help="also let clients of this network use /__mock__/, such as "
                       "172.17.0.0/16 for a container's port-forward (repeatable; default loopback only)")
    serve.add_argument("--allowed-host", dest="allowed_hosts", action="append", type=_checked(parse_allowed_host),
                       metavar="NAME", help="also answer /__mock__/ under this Host name, such as devbox.lan "
                       "('.lan': it and its subdomains; repeatable; default loopback names and the bound host)")
    serve.add_argument("--log-format", type=_checked(parse_log_format), metavar="text|json",
                       help="access log lines as uvicorn writes them (text), or one JSON object a line with "
                       "time, method, path, status, latency, organisation and contract violations (default text)")
    serve.add_argument("--workers", type=_int_arg("--workers", 1, 64), metavar="N",
                       help="server processes sharing the port, each with the identical seeded world; writes, "
                       "resets, the request journal and rate-limit counts are shared through a state file (a "
                       "temporary one without --state), so any worker reads every acknowledged write; refused "
                       "with --check-client (default 1)")
    serve.add_argument("--read-only", action="store_true", default=None,
                       help="a fixed world: every write answers 405")
    serve.add_argument("--state", type=Path, metavar="PATH",
                       help="keep every accepted write in this file (made if missing) and replay it at start-up, "
                       "so that a restart, even after a crash, has every acknowledged write; the file is tied to "
                       "the seed, contacts, fixtures and clock it was written with (docs/durability.md)")
    serve.add_argument("--state-truncate", action="store_true", default=None,
                       help="start from a corrupt --state file by cutting it where it is corrupt (the changes "
                       "from there on are lost; without it such a file stops the start)")
    serve.add_argument("--world-per-key", type=_checked(parse_world_per_key), metavar="PREFIX",
                       help="also accept any api-key starting with PREFIX (such as xkeysib-test-), each with a "
                       "world of its own, made on its first request from the default organisation's seeded world, "
                       "so that parallel CI jobs never see each other's writes (docs/isolation.md)")
    serve.add_argument("--world-idle-timeout", type=_checked(parse_idle_timeout), metavar="SECONDS",
                       help="drop a per-key world unused for SECONDS; its key starts again from the seeded world "
                       "(default never)")
    serve.add_argument("--webhook", dest="webhooks", action="append", metavar="URL",
                       help="post every organisation's Loyalty events to this URL, as Brevo does "
                       "(repeatable; http://user:password@host/... for basic auth; docs/webhooks.md)")
    serve.add_argument("--webhook-events", metavar="NAME,NAME",
                       help="only these events to the --webhook URLs (default: all 24)")
    serve.add_argument("--webhook-header", dest="webhook_headers", action="append", metavar="'NAME: VALUE'",
                       type=_checked(parse_webhook_header), help="a header sent with every webhook (repeatable)")
    serve.add_argument("--webhook-bearer", metavar="TOKEN", help="send 'Authorization: Bearer TOKEN' with webhooks")
    serve.add_argument("--webhook-timeout", type=_checked(lambda text: parse_timeout("--webhook-timeout", text)),
                       metavar="SECONDS", help="time one delivery attempt may take before it counts as a timeout "
                       "and is retried (default 5)")
    serve.add_argument("--webhook-delivery", type=_checked(parse_webhook_delivery), metavar="process|loop",
                       help="where webhooks are posted from: a delivery process of the server's own (default; "
                       "the API's CPU is not spent on them) or the server's event loop (one process)")

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
    schema = commands.add_parser(
        "fixture-schema",
        help="print the JSON Schema of fixture files, for an editor",
        description="Print the JSON Schema of the fixture format (the loader's own rules), so that an editor "
        "with a YAML language server validates and completes a fixture as it is typed.",
        epilog=SCHEMA_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    schema.add_argument("--path", action="store_true", help="print the path of the schema installed with the mock")
    conformance_cli.add_commands(commands)  # conformance, proxy
    webhook_conformance.add_command(commands)  # conformance-webhooks
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    values: dict[str, Any] = overrides_from_env()
    flags = {
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "seed": args.seed,
        "contacts": args.contacts,
        "access_log": getattr(args, "access_log", None),
        "direct_path": getattr(args, "direct_path", None),
        "check_client": getattr(args, "check_client", None),
        "admin": getattr(args, "admin", None),
        "contract_path": getattr(args, "contract", None),
        "workers": getattr(args, "workers", None),
        "clock": getattr(args, "clock", None),
        "log_format": getattr(args, "log_format", None),
        "read_only": getattr(args, "read_only", None),
        "state": getattr(args, "state", None),
        "state_truncate": getattr(args, "state_truncate", None),
        "world_per_key": getattr(args, "world_per_key", None),
        "world_idle_timeout": getattr(args, "world_idle_timeout", None),
    }
    values.update({name: value for name, value in flags.items() if value is not None})
    if "rate_limit" in vars(args) and args.rate_limit is not None:
        values["rate_limit"] = args.rate_limit
    if getattr(args, "api_keys", None):
        values["api_keys"] = tuple(parse_api_key(text) for text in args.api_keys)
    if getattr(args, "forbidden_keys", None):
        values["forbidden_keys"] = tuple(args.forbidden_keys)
    if getattr(args, "cors_origins", None):
        values["cors_origins"] = tuple(dict.fromkeys(args.cors_origins))
    if getattr(args, "admin_from", None):
        values["admin_from"] = tuple(dict.fromkeys(args.admin_from))
    if getattr(args, "allowed_hosts", None):
        values["allowed_hosts"] = tuple(dict.fromkeys(args.allowed_hosts))
    if args.fixtures:
        values["fixtures"] = tuple(resolve_fixture(text) for text in args.fixtures)
    if getattr(args, "webhooks", None):
        values["webhooks"] = tuple(args.webhooks)
    if getattr(args, "webhook_events", None):
        values["webhook_events"] = tuple(part.strip() for part in args.webhook_events.split(",") if part.strip())
    if getattr(args, "webhook_headers", None):
        values["webhook_headers"] = tuple(args.webhook_headers)
    if getattr(args, "webhook_bearer", None):
        values["webhook_bearer"] = args.webhook_bearer
    if getattr(args, "webhook_timeout", None) is not None:
        values["webhook_timeout"] = args.webhook_timeout
    if getattr(args, "webhook_delivery", None) is not None:
        values["webhook_delivery"] = args.webhook_delivery
    return Settings(**values)


def resolve_fixture(text: str) -> Path:
    """A path, or the name of a fixture shipped with the mock (``widget-member``)."""
    try:
        return fixture_file(text)
    except FixtureError as error:
        raise CliError(str(error)) from None


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

    settings = settings_from_args(args)
    sock = bind_socket(settings.host, settings.port)
    settings = replace(settings, port=sock.getsockname()[1])
    shared_dir = None
    if settings.workers > 1 and (not settings.read_only or settings.state is not None):
        # The workers share their changes through one state file (a temporary one without --state).
        shared_dir = make_shared_dir()
        settings = replace(settings, state=settings.state or shared_dir / "state.log")
    try:
        worlds = build_worlds(settings, progress=_progress(sys.stderr) if settings.contacts >= 20_000 else None)
        app = create_app(settings, worlds=worlds)
        text = banner(settings, app.state.mock)
        shown = message(text) if settings.log_format == "json" else text
        if settings.workers > 1:
            print(shown, flush=True)
            app.state.mock.recorder.close()  # each worker opens the file, and seeds its own, identical world
            del app, worlds
            return _serve_workers(settings, sock, shared_dir)
    except BaseException:
        if shared_dir is not None:
            shutil.rmtree(shared_dir, ignore_errors=True)
        raise
    config = uvicorn.Config(app, **uvicorn_options(settings))
    server = uvicorn.Server(config)
    # On SIGINT or SIGTERM uvicorn stops accepting, lets in-flight requests finish, runs the lifespan
    # shutdown (which prints the client-check summary), then re-raises the signal. Handlers of ours
    # turn that into a return here: a stop on a signal is the normal end of a server, exit 0 (1 with
    # --check-client when the client broke the contract, so that CI can test the status). They are in
    # place before the banner, which tells a user (or a test) the server is there: a signal that comes
    # before uvicorn's own handlers asks the server to stop as uvicorn's would. (Python's default
    # handler raises KeyboardInterrupt wherever the main thread is, which can be a callback of the
    # collector that ignores it: the signal was lost and the server served on.)
    signals: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        signals.append(signum)
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(shown, flush=True)
        settle_collector()  # as each worker of --workers N does once its app is built (create_app_from_env)
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stopped = bool(signals)
    if not server.started and not stopped:
        raise CliError("the server did not start (see the log above)")
    return 1 if settings.check_client and app.state.mock.journal.violation_count else 0


SHARED_DIR_PREFIX = "brevo-loyalty-mock-"


def make_shared_dir() -> Path:
    """A directory of this run for the workers' shared state: in memory (/dev/shm) where there is one.

    Named with this process's pid: a run killed with SIGKILL cannot remove its directory, so each new one
    removes those whose process is gone."""
    parent = shared_dir_parent()
    for stale in parent.glob(f"{SHARED_DIR_PREFIX}*-*"):
        pid = stale.name.removeprefix(SHARED_DIR_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{SHARED_DIR_PREFIX}{os.getpid()}-", dir=parent))


def shared_dir_parent() -> Path:
    return Path("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())


def _serve_workers(settings: Settings, sock: socket.socket, shared_dir: Path | None = None) -> int:
    """`--workers N`: N uvicorn processes answering on one socket.

    The settings travel to the spawned workers by environment (`to_env`), and
    each worker builds its app with the factory `create_app_from_env`; the seed
    makes every worker's world the same, byte for byte. Changes go through the
    state file they share, in `shared_dir` (mock_server/durable/shared.py,
    docs/durability.md "Several workers").
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    held = hold_alone(str(settings.state)) if shared_dir is not None else None  # no other mock on the file
    try:
        os.environ.update(to_env(replace(settings, shared_dir=shared_dir)))
        os.environ[PARENT_VARIABLE] = str(os.getpid())  # each worker ends when this process is gone
        config = uvicorn.Config("mock_server.app:create_app_from_env", factory=True, workers=settings.workers,
                                **uvicorn_options(settings))
        try:
            supervisor = Multiprocess(config, sockets=[sock])
        except TypeError:  # older uvicorn also takes the function each worker runs
            supervisor = Multiprocess(config, target=uvicorn.Server(config).run,  # type: ignore[call-arg]
                                      sockets=[sock])
        supervisor.run()
    finally:
        if held is not None:
            held.close()
        if shared_dir is not None:
            shutil.rmtree(shared_dir, ignore_errors=True)
    return 0


def world(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    found = build_worlds(settings)
    organisation = settings.organisations[0]
    summary = found[organisation].summary(sample=args.sample)
    sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def fixture_schema(args: argparse.Namespace) -> int:
    if args.path:
        found = shipped_schema()
        if found is None:
            raise CliError("the fixture schema is not installed with this copy of the mock")
        print(found)
    else:
        sys.stdout.write(schema_text())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _refuse_unknown(parser, args.command, unknown)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "world":
            return world(args)
        if args.command == "fixture-schema":
            return fixture_schema(args)
        if args.command == "conformance-webhooks":
            return webhook_conformance.run(args)
        if args.command in ("conformance", "proxy"):
            return int(getattr(conformance_cli, args.command)(args))
        parser.error(f"unknown command {args.command}")
    except (CliError, SettingsError, FixtureError, ContractError, StateError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
