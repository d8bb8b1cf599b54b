"""One frozen settings object for a mock server, built from flags or the environment.

Every command-line flag of `serve` has an environment variable (``BREVO_MOCK_*``)
so that the mock can be configured in CI without a wrapper script, and so that
worker processes (``--workers``) rebuild the identical settings from their
environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_address, ip_network
from pathlib import Path

from mock_server.backend.clock import CLOCK_MODES
from mock_server.fixtures import fixture_file
from mock_server.keynames import PER_KEY_ORGANISATION

DEFAULT_API_KEY = "xkeysib-loyalty-mock-local-key"
DEFAULT_ORGANISATION = "default"
DEFAULT_SEED = 1
DEFAULT_CONTACTS = 1000
DEFAULT_RATE_LIMIT_PER_HOUR = 600  # Brevo's smallest Loyalty plan (api-limits)
# Rate-limit windows: Brevo counts per hour; shorter ones let a test see a client back off in seconds.
RATE_WINDOWS = {"second": 1, "minute": 60, "hour": 3600}
MAX_CONTACTS = 1_000_000

ENV_PREFIX = "BREVO_MOCK_"


class SettingsError(ValueError):
    """A flag or environment value that cannot be used; the message names it."""


@dataclass(frozen=True)
class ApiKey:
    key: str
    organisation: str = DEFAULT_ORGANISATION


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` requests per key in each fixed window of one `window` (second, minute or hour)."""

    requests: int
    window: str = "hour"

    @property
    def seconds(self) -> int:
        return RATE_WINDOWS[self.window]

    def __str__(self) -> str:
        return f"{self.requests}/{self.window}"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = DEFAULT_SEED
    api_keys: tuple[ApiKey, ...] = (ApiKey(DEFAULT_API_KEY),)
    forbidden_keys: tuple[str, ...] = ()
    contacts: int = DEFAULT_CONTACTS
    fixtures: tuple[Path, ...] = ()
    access_log: bool = True
    direct_path: bool = True  # API reads answered by the HTTP protocol itself (mock_server/direct.py)
    rate_limit: RateLimit | None = None  # None: headers are sent (against 600/hour), nothing is refused
    contract_path: Path | None = None
    check_client: bool = False
    admin: bool = True
    journal_size: int = 1000
    workers: int = 1
    cors_origins: tuple[str, ...] = ("*",)
    clock: str = "fixed"  # fixed: a logical clock from the world's reference time; real: the wall clock
    read_only: bool = False  # a fixed world: writes answer 405
    admin_from: tuple[str, ...] = ()  # networks (CIDR) whose clients may use /__mock__/, beyond loopback
    allowed_hosts: tuple[str, ...] = ()  # Host names /__mock__/ answers, beyond loopback and the bound host
    log_format: str = "text"  # "text": uvicorn's access log; "json": one JSON object a line
    state: Path | None = None  # --state: the durable log of accepted changes (mock_server/durable/)
    state_truncate: bool = False  # --state-truncate: cut a corrupt state file where it is corrupt, then start
    shared_dir: Path | None = None  # set by `serve --workers N` for its workers: where they share state
    # Any api-key starting with this gets a world of its own, forked from the default organisation's
    # (docs/isolation.md); None: only the configured keys are accepted.
    world_per_key: str | None = None
    world_idle_timeout: float | None = None  # seconds a per-key world may stay unused before it is dropped
    # Webhook endpoints every organisation's events are posted to (docs/webhooks.md), and their options.
    webhooks: tuple[str, ...] = ()
    webhook_events: tuple[str, ...] = ()  # empty: every event
    webhook_headers: tuple[tuple[str, str], ...] = ()
    webhook_bearer: str | None = None
    webhook_timeout: float = 5.0  # seconds per attempt
    # Where deliveries run: "process", a delivery process of the server's own (the API's CPU is not spent
    # on them); "loop", the server's event loop (one process; docs/webhooks.md).
    webhook_delivery: str = "process"

    def __post_init__(self) -> None:
        check_keys(self.api_keys, self.forbidden_keys)
        if self.check_client and self.workers > 1:
            # Each worker process journals only the requests it serves, and the parent's exit status would
            # not see them: a CI gate that never fails. One process sees every request.
            raise SettingsError(f"--check-client cannot be combined with --workers {self.workers}: each worker "
                                "sees only its own requests; check a client with one worker")
        if self.world_idle_timeout is not None and (self.state is not None or self.shared_dir is not None
                                                    or (self.workers > 1 and not self.read_only)):
            # A dropped world would come back from the state file at the next start, or stay in the other
            # workers: its changes are in the log every process replays.
            raise SettingsError("--world-idle-timeout cannot be combined with --state or --workers N > 1: "
                                "their log keeps a dropped world's writes")
        # Settings built in code (tests, the pytest plugin) get the flags' checks and one-line errors too.
        for network in self.admin_from:
            if parse_admin_from(network) != network:
                raise SettingsError(f"admin network {network!r}: write it as {parse_admin_from(network)!r}")
        for host in self.allowed_hosts:
            if parse_allowed_host(host) != host:
                raise SettingsError(f"allowed host {host!r}: write it as {parse_allowed_host(host)!r}")
        parse_log_format(self.log_format)
        parse_webhook_delivery(self.webhook_delivery)
        check_world_per_key(self.world_per_key, self.world_idle_timeout, self.organisations)
        if self.webhooks:
            from mock_server.webhooks.config import settings_endpoints  # reads the contract: only when used
            from mock_server.webhooks.endpoints import EndpointError

            try:
                settings_endpoints(self)
            except EndpointError as error:
                raise SettingsError(str(error)) from None

    @property
    def organisations(self) -> tuple[str, ...]:
        """Every organisation a key belongs to, in first-seen order."""
        seen: dict[str, None] = {}
        for api_key in self.api_keys:
            seen.setdefault(api_key.organisation, None)
        return tuple(seen)

    @property
    def default_key(self) -> str:
        return self.api_keys[0].key


# --- parsing, shared by the CLI and the environment -------------------------

_RATE_LIMIT = re.compile(r"^\s*(\d+)\s*(?:/\s*([a-z]+))?\s*$")
_WINDOW_NAMES = {name: window for window, names in {
    "second": ("s", "sec", "second", "seconds"),
    "minute": ("m", "min", "minute", "minutes"),
    "hour": ("h", "hr", "hour", "hours"),
}.items() for name in names}


def parse_api_key(text: str) -> ApiKey:
    """``KEY`` or ``KEY=ORGANISATION``."""
    key, sep, organisation = text.partition("=")
    key, organisation = key.strip(), organisation.strip()
    if not key:
        raise SettingsError(f"api key {text!r} is empty")
    if sep and not organisation:
        raise SettingsError(f"api key {text!r}: the organisation after '=' is empty")
    return ApiKey(key, organisation or DEFAULT_ORGANISATION)


_KEY = re.compile(r"[\x21-\x7e]+")  # what an HTTP header carries as is: visible ASCII, no space
_ORGANISATION = re.compile(r"[^\x00-\x1f\x7f,]+")


def check_keys(api_keys: tuple[ApiKey, ...], forbidden_keys: tuple[str, ...]) -> None:
    """Keys a client can send, each reading one organisation; raises `SettingsError` naming the problem.

    Commas are refused in keys and organisations: ``BREVO_MOCK_API_KEYS`` (which
    also carries the keys to ``--workers`` processes) is comma-separated.
    """
    if not api_keys:
        raise SettingsError("no api key given: --api-key KEY[=ORG] (or BREVO_MOCK_API_KEYS) needs at least one")
    owners: dict[str, str] = {}
    for api_key in api_keys:
        if not _KEY.fullmatch(api_key.key) or "," in api_key.key:
            raise SettingsError(f"api key {api_key.key!r} cannot be sent as an 'api-key' header: use visible "
                                "ASCII characters, without spaces or commas")
        if not _ORGANISATION.fullmatch(api_key.organisation):
            raise SettingsError(f"organisation {api_key.organisation!r} of api key {api_key.key!r}: "
                                "no commas or control characters")
        owner = owners.setdefault(api_key.key, api_key.organisation)
        if owner != api_key.organisation:
            raise SettingsError(f"api key {api_key.key!r} is given for two organisations ({owner!r} and "
                                f"{api_key.organisation!r}); a key reads the data of one organisation")
    for key in forbidden_keys:
        if key in owners:
            raise SettingsError(f"key {key!r} is both accepted (--api-key) and forbidden (--forbidden-key)")


def parse_world_per_key(text: str) -> str:
    """A key prefix: what a client's key starts with to get a world of its own (``xkeysib-test-``)."""
    prefix = text.strip()
    if not prefix:
        raise SettingsError("--world-per-key needs a prefix such as xkeysib-test-: an empty one would accept "
                            "every key")
    if not _KEY.fullmatch(prefix) or "," in prefix:
        raise SettingsError(f"--world-per-key prefix {text!r} cannot start an 'api-key' header: use visible "
                            "ASCII characters, without spaces or commas")
    return prefix


def parse_idle_timeout(text: str) -> float | None:
    """Seconds (a positive number) after which an unused per-key world is dropped; ``never`` or ``0``: kept."""
    lowered = text.strip().lower()
    if lowered in ("never", "off", "none", "0"):
        return None
    try:
        seconds = float(lowered)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise SettingsError(f"--world-idle-timeout must be a number of seconds > 0 (or 'never'), got {text!r}")
    return seconds


def check_world_per_key(prefix: str | None, idle_timeout: float | None, organisations: tuple[str, ...]) -> None:
    """The per-key settings make sense together; raises `SettingsError` naming the problem."""
    if prefix is None:
        if idle_timeout is not None:
            raise SettingsError("--world-idle-timeout applies to per-key worlds: it needs --world-per-key PREFIX")
        return
    if parse_world_per_key(prefix) != prefix:
        raise SettingsError(f"--world-per-key prefix {prefix!r}: write it without surrounding spaces")
    if idle_timeout is not None and not idle_timeout > 0:
        raise SettingsError(f"--world-idle-timeout must be > 0 seconds, got {idle_timeout}")
    for organisation in organisations:
        if PER_KEY_ORGANISATION.fullmatch(organisation):
            raise SettingsError(f"organisation {organisation!r} is named like a per-key world (key-<16 hex "
                                "digits>): with --world-per-key, give a configured organisation another name")


def parse_rate_limit(text: str) -> RateLimit | None:
    """``N/hour``, ``N/minute`` or ``N/second`` (``N`` alone: per hour); ``off`` or ``0`` disables the limit."""
    lowered = text.strip().lower()
    if lowered in ("", "off", "none", "0"):
        return None
    match = _RATE_LIMIT.match(lowered)
    window = _WINDOW_NAMES.get(match.group(2) or "hour") if match else None
    if match is None or window is None:
        raise SettingsError(f"rate limit {text!r} is not of the form N/hour, N/minute or N/second "
                            "(e.g. 600/hour, 10/minute, 2/second)")
    requests = int(match.group(1))
    if requests == 0:
        return None
    return RateLimit(requests, window)


_ORIGIN = re.compile(r"^https?://[^/?#\s@]+$")


def parse_cors_origin(text: str) -> str:
    """``*`` (any origin) or one origin as a browser sends it: ``scheme://host[:port]``, no path."""
    origin = text.strip().rstrip("/").lower()  # browsers send scheme and host in lower case
    if origin == "*" or _ORIGIN.match(origin):
        return origin
    raise SettingsError(f"CORS origin {text!r} is neither '*' nor an origin such as http://localhost:3000 "
                        "(scheme://host[:port], no path)")


def parse_clock(text: str) -> str:
    """``fixed`` (the logical clock, the default) or ``real`` (the wall clock)."""
    mode = text.strip().lower()
    if mode not in CLOCK_MODES:
        raise SettingsError(f"clock {text!r} must be one of {', '.join(CLOCK_MODES)}")
    return mode


def parse_admin_from(text: str) -> str:
    """A network whose clients may use /__mock__/: ``10.0.0.0/8``, ``fd00::/8``, or one address."""
    try:
        return str(ip_network(text.strip(), strict=False))
    except ValueError:
        raise SettingsError(f"admin network {text!r} is not an address or a CIDR network such as 172.17.0.0/16 "
                            "or 192.168.1.7") from None


_HOST_NAME = re.compile(r"^\.?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$")


def parse_allowed_host(text: str) -> str:
    """A Host name /__mock__/ answers: ``devbox.lan``, ``.lan`` (it and its subdomains), or an address."""
    host = text.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ip_address(host))
    except ValueError:
        pass
    if _HOST_NAME.match(host):
        return host
    raise SettingsError(f"allowed host {text!r} is not a host name or address such as devbox.lan, .lan or "
                        "10.1.2.3 (no scheme, port or path)")


LOG_FORMATS = ("text", "json")
WEBHOOK_DELIVERIES = ("process", "loop")


def _choice(what: str, text: str, choices: tuple[str, ...]) -> str:
    lowered = text.strip().lower()
    if lowered not in choices:
        raise SettingsError(f"{what} {text!r} is not one of: {', '.join(choices)}")
    return lowered


def parse_log_format(text: str) -> str:
    return _choice("log format", text, LOG_FORMATS)


def parse_webhook_delivery(text: str) -> str:
    return _choice("webhook delivery", text, WEBHOOK_DELIVERIES)


def parse_int(name: str, text: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {text!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise SettingsError(f"{name} must be {bound}, got {value}")
    return value


def parse_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {text!r}")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def overrides_from_env(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """Settings fields given by ``BREVO_MOCK_*`` variables (flags override these)."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}

    def get(name: str) -> str | None:
        raw = env.get(ENV_PREFIX + name)
        return raw if raw not in (None, "") else None

    if (raw := get("HOST")) is not None:
        values["host"] = raw
    if (raw := get("PORT")) is not None:
        values["port"] = parse_int(ENV_PREFIX + "PORT", raw, 0, 65535)
    if (raw := get("SEED")) is not None:
        values["seed"] = parse_int(ENV_PREFIX + "SEED", raw, 0)
    if (raw := get("API_KEYS")) is not None:
        values["api_keys"] = tuple(parse_api_key(part) for part in _split(raw))
    if (raw := get("FORBIDDEN_KEYS")) is not None:
        values["forbidden_keys"] = tuple(_split(raw))
    if (raw := get("CONTACTS")) is not None:
        values["contacts"] = parse_int(ENV_PREFIX + "CONTACTS", raw, 1, MAX_CONTACTS)
    if (raw := get("FIXTURES")) is not None:
        values["fixtures"] = tuple(fixture_file(part) for part in _split(raw))  # as --fixture: names or paths
    if (raw := get("ACCESS_LOG")) is not None:
        values["access_log"] = parse_bool(ENV_PREFIX + "ACCESS_LOG", raw)
    if (raw := get("DIRECT_PATH")) is not None:
        values["direct_path"] = parse_bool(ENV_PREFIX + "DIRECT_PATH", raw)
    if (raw := get("RATE_LIMIT")) is not None:
        values["rate_limit"] = parse_rate_limit(raw)
    if (raw := get("CONTRACT")) is not None:
        values["contract_path"] = Path(raw)
    if (raw := get("CHECK_CLIENT")) is not None:
        values["check_client"] = parse_bool(ENV_PREFIX + "CHECK_CLIENT", raw)
    if (raw := get("ADMIN")) is not None:
        values["admin"] = parse_bool(ENV_PREFIX + "ADMIN", raw)
    if (raw := get("WORKERS")) is not None:
        values["workers"] = parse_int(ENV_PREFIX + "WORKERS", raw, 1, 64)
    if (raw := get("CLOCK")) is not None:
        values["clock"] = parse_clock(raw)
    if (raw := get("READ_ONLY")) is not None:
        values["read_only"] = parse_bool(ENV_PREFIX + "READ_ONLY", raw)
    if (raw := get("CORS_ORIGINS")) is not None:
        values["cors_origins"] = tuple(parse_cors_origin(part) for part in _split(raw))
    if (raw := get("ADMIN_FROM")) is not None:
        values["admin_from"] = tuple(dict.fromkeys(parse_admin_from(part) for part in _split(raw)))
    if (raw := get("ALLOWED_HOSTS")) is not None:
        values["allowed_hosts"] = tuple(dict.fromkeys(parse_allowed_host(part) for part in _split(raw)))
    if (raw := get("LOG_FORMAT")) is not None:
        values["log_format"] = parse_log_format(raw)
    if (raw := get("STATE")) is not None:
        values["state"] = Path(raw) if raw else None
    if (raw := get("SHARED_DIR")) is not None:
        values["shared_dir"] = Path(raw) if raw else None
    if (raw := get("STATE_TRUNCATE")) is not None:
        values["state_truncate"] = parse_bool(ENV_PREFIX + "STATE_TRUNCATE", raw)
    if (raw := get("WORLD_PER_KEY")) is not None:
        values["world_per_key"] = parse_world_per_key(raw)
    if (raw := get("WORLD_IDLE_TIMEOUT")) is not None:
        values["world_idle_timeout"] = parse_idle_timeout(raw)
    if (raw := get("WEBHOOKS")) is not None:
        values["webhooks"] = tuple(_split(raw))
    if (raw := get("WEBHOOK_EVENTS")) is not None:
        values["webhook_events"] = tuple(_split(raw))
    if (raw := get("WEBHOOK_HEADERS")) is not None:  # one 'Name: value' a line
        values["webhook_headers"] = tuple(parse_webhook_header(line) for line in raw.splitlines() if line.strip())
    if (raw := get("WEBHOOK_BEARER")) is not None:
        values["webhook_bearer"] = raw
    if (raw := get("WEBHOOK_TIMEOUT")) is not None:
        values["webhook_timeout"] = parse_timeout(ENV_PREFIX + "WEBHOOK_TIMEOUT", raw)
    if (raw := get("WEBHOOK_DELIVERY")) is not None:
        values["webhook_delivery"] = parse_webhook_delivery(raw)
    return values


def parse_webhook_header(text: str) -> tuple[str, str]:
    """``'Name: value'``, a header sent with every webhook."""
    from mock_server.webhooks.endpoints import EndpointError, parse_header

    try:
        return parse_header(text)
    except EndpointError as error:
        raise SettingsError(str(error)) from None


def parse_timeout(name: str, text: str) -> float:
    """Seconds, more than 0 and at most 60."""
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {text!r}") from None
    if not 0 < value <= 60:
        raise SettingsError(f"{name} must be more than 0 and at most 60 seconds, got {text}")
    return value


def to_env(settings: Settings) -> dict[str, str]:
    """The environment that rebuilds `settings` (used to hand them to worker processes)."""
    env = {
        "HOST": settings.host,
        "PORT": str(settings.port),
        "SEED": str(settings.seed),
        "API_KEYS": ",".join(f"{k.key}={k.organisation}" for k in settings.api_keys),
        "FORBIDDEN_KEYS": ",".join(settings.forbidden_keys),
        "CONTACTS": str(settings.contacts),
        "FIXTURES": ",".join(str(p) for p in settings.fixtures),
        "ACCESS_LOG": str(settings.access_log).lower(),
        "DIRECT_PATH": str(settings.direct_path).lower(),
        "RATE_LIMIT": str(settings.rate_limit or "off"),
        "CHECK_CLIENT": str(settings.check_client).lower(),
        "ADMIN": str(settings.admin).lower(),
        "WORKERS": str(settings.workers),
        "CORS_ORIGINS": ",".join(settings.cors_origins),
        "CLOCK": settings.clock,
        "READ_ONLY": str(settings.read_only).lower(),
        "ADMIN_FROM": ",".join(settings.admin_from),
        "ALLOWED_HOSTS": ",".join(settings.allowed_hosts),
        "LOG_FORMAT": settings.log_format,
        "WEBHOOKS": ",".join(settings.webhooks),
        "WEBHOOK_EVENTS": ",".join(settings.webhook_events),
        "WEBHOOK_HEADERS": "\n".join(f"{name}: {value}" for name, value in settings.webhook_headers),
        "WEBHOOK_TIMEOUT": str(settings.webhook_timeout),
        "WEBHOOK_DELIVERY": settings.webhook_delivery,
        "STATE": str(settings.state or ""),
        "STATE_TRUNCATE": str(settings.state_truncate).lower(),
        "SHARED_DIR": str(settings.shared_dir or ""),
    }
    if settings.webhook_bearer is not None:
        env["WEBHOOK_BEARER"] = settings.webhook_bearer
    if settings.contract_path is not None:
        env["CONTRACT"] = str(settings.contract_path)
    if settings.world_per_key is not None:
        env["WORLD_PER_KEY"] = settings.world_per_key
    if settings.world_idle_timeout is not None:
        env["WORLD_IDLE_TIMEOUT"] = repr(settings.world_idle_timeout)
    return {ENV_PREFIX + name: value for name, value in env.items()}
