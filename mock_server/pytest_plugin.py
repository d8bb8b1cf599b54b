"""pytest plugin: a running Brevo Loyalty mock for your tests, and a check of your client against the contract.

Installed with the package (entry point ``pytest11``), it offers:

- the ``brevo_mock`` fixture: a mock on a free loopback port, started once per
  session and handed to each test with an empty request journal. It has
  ``.base_url`` (ending in /v3: what a Brevo client takes), ``.api_key``,
  ``.world`` (the seeded ids), ``.requests`` (what the test's client sent,
  with each request's contract violations), ``.violations``, ``.reset()``,
  ``.load_fixture(path)`` (undone after the test) and ``.clock`` (``now()``,
  ``advance(days=30)``, ``set(datetime)``: the organisation's time, which
  starts again at the reference time in each test; see docs/time.md), ``.webhooks`` (the Loyalty
  webhooks the mock delivered to the plugin's own receiver during the test) and
  ``.wait_for_event(name, timeout=5, **match)`` (docs/webhooks.md);
- the ``brevo_contract`` marker, and the ``--brevo-check-client`` option (or
  ``brevo_check_client = true`` in the ini file) for every test: a test whose
  client broke the contract while it ran fails, listing each bad request.

Settings come from the ini file: ``brevo_mock_seed``, ``brevo_mock_contacts``,
``brevo_mock_fixtures`` (one path per line), ``brevo_mock_api_key``, ``brevo_mock_webhooks`` (default true).

With ``--brevo-mock-url URL`` (or ``brevo_mock_url``), ``brevo_mock`` is a mock already
running there, started with ``serve --world-per-key PREFIX``: each pytest-xdist worker
uses the key ``brevo_mock_key_prefix`` + its worker id (``xkeysib-test-gw0`` ...), so
each has a world of its own, reset before each test (docs/isolation.md).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from mock_server.fixtures import fixture_file
from mock_server.remote import DEFAULT_KEY_PREFIX, RemoteMock, RemoteMockError, worker_key
from mock_server.settings import DEFAULT_CONTACTS, ApiKey, Settings

if TYPE_CHECKING:
    from mock_server.testing import RunningMock

MARKER = "brevo_contract"
FIXTURE = "brevo_mock"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("brevo-loyalty-mock")
    group.addoption("--brevo-check-client", action="store_true", default=False,
                    help="fail every test using brevo_mock whose client broke the Brevo Loyalty contract")
    parser.addini("brevo_check_client", "like --brevo-check-client", type="bool", default=False)
    parser.addini("brevo_mock_seed", "seed of the brevo_mock world (default 1)", default="1")
    # The default of `serve` too: the same seed gives the same world in tests and on the command line.
    parser.addini("brevo_mock_contacts",
                  f"subscribed contacts per program in the brevo_mock world (default {DEFAULT_CONTACTS})",
                  default=str(DEFAULT_CONTACTS))
    parser.addini("brevo_mock_fixtures", "fixture files layered on the brevo_mock world", type="linelist",
                  default=[])
    parser.addini("brevo_mock_api_key", "the key brevo_mock accepts (default: the mock's own)", default="")
    group.addoption("--brevo-mock-url", default=None, metavar="URL",
                    help="use the mock running at URL (started with --world-per-key), each xdist worker with a key "
                    "and a world of its own, instead of starting one")
    parser.addini("brevo_mock_url", "like --brevo-mock-url", default="")
    parser.addini("brevo_mock_key_prefix", f"with --brevo-mock-url: the start of each worker's key, the server's "
                  f"--world-per-key prefix or longer (default {DEFAULT_KEY_PREFIX})", default=DEFAULT_KEY_PREFIX)
    parser.addini("brevo_mock_webhooks", "receive the mock's webhooks in-process (brevo_mock.webhooks, "
                  "brevo_mock.wait_for_event; default true)", type="bool", default=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: fail the test if its client broke the Brevo Loyalty contract (needs {FIXTURE})")


@pytest.fixture(scope="session")
def brevo_mock_server(pytestconfig: pytest.Config) -> Iterator[RunningMock | RemoteMock]:
    """The session's mock; tests should use `brevo_mock`, which isolates them from each other."""
    url = pytestconfig.getoption("--brevo-mock-url") or pytestconfig.getini("brevo_mock_url")
    if url:
        try:
            remote = RemoteMock.connect(url, worker_key(pytestconfig.getini("brevo_mock_key_prefix")))
        except RemoteMockError as error:
            failure = str(error)
        else:
            failure = None
        if failure is not None:  # failed outside the except: its message once, not chained to the error's
            pytest.fail(failure, pytrace=False)
        yield remote
        return
    # Here, not at the top: pytest loads this plugin in every session of an environment that has the mock
    # installed, and uvicorn and the app (about 0.1 s) are only needed once a test asks for the fixture.
    from mock_server.testing import running_mock

    # Relative paths, here and in `load_fixture`, are read from the root directory, wherever pytest runs from.
    root = pytestconfig.rootpath
    fixtures = tuple(fixture_file(line, base=root) for line in pytestconfig.getini("brevo_mock_fixtures"))
    values: dict[str, Any] = {
        "access_log": False,
        "seed": int(pytestconfig.getini("brevo_mock_seed")),
        "contacts": int(pytestconfig.getini("brevo_mock_contacts")),
        "fixtures": fixtures,
    }
    key = pytestconfig.getini("brevo_mock_api_key")
    if key:
        values["api_keys"] = (ApiKey(key),)
    # The receiver is stopped after the mock (the ExitStack is entered first, so it exits last): the mock's
    # last deliveries still find it.
    with ExitStack() as stack, running_mock(Settings(**values)) as mock:
        mock.fixture_root = root
        if pytestconfig.getini("brevo_mock_webhooks"):
            stack.callback(mock.receive_webhooks().stop)
        yield mock


@pytest.fixture
def brevo_mock(brevo_mock_server: RunningMock | RemoteMock) -> Iterator[RunningMock | RemoteMock]:
    """A running Brevo Loyalty mock, reset to its seeded world with an empty journal; fixtures loaded by the test
    are undone after it."""
    if isinstance(brevo_mock_server, RemoteMock):  # a shared mock: this worker's world only
        brevo_mock_server.reset()
        yield brevo_mock_server
        return
    state = brevo_mock_server.state
    settings, worlds = state.settings, state.backends.worlds
    endpoints = {organisation: state.webhooks.endpoints(organisation) for organisation in settings.organisations}
    brevo_mock_server.reset()
    if brevo_mock_server.receiver is not None:
        state.webhooks.idle()  # a delivery of the previous test still under way lands before the clear
        brevo_mock_server.receiver.clear()
    yield brevo_mock_server
    for organisation, kept in endpoints.items():  # endpoints a test added through /__mock__/webhooks go
        for endpoint in state.webhooks.endpoints(organisation):
            if endpoint not in kept:
                state.webhooks.remove(organisation, endpoint.id)
    if state.settings is not settings:  # the test called load_fixture: back to the session's world
        state.settings = settings
        state.backends.replace_worlds(worlds)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    result = yield  # the test body; raises when the test itself failed
    mock = getattr(item, "funcargs", {}).get(FIXTURE)
    if mock is not None and _checks_client(item):
        broken = [entry for entry in mock.requests if entry.violations]
        if broken:
            lines = [f"the client broke the Brevo Loyalty contract in {len(broken)} request(s):"]
            lines.extend(f"  {entry.method} {entry.path}{'?' + entry.query if entry.query else ''} -> "
                         f"{entry.status}: {'; '.join(entry.violations)}" for entry in broken)
            pytest.fail("\n".join(lines), pytrace=False)
    return result


def _checks_client(item: pytest.Item) -> bool:
    config = item.config
    return (item.get_closest_marker(MARKER) is not None or config.getoption("--brevo-check-client")
            or bool(config.getini("brevo_check_client")))

