"""`MockState`: what one app's endpoints share (settings, contract, the organisations' backends, journal, limits).

Its own module so that the app, the admin endpoints, the pages and the banner can all name it while
the imports run one way: app -> admin -> pages -> state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from mock_server.auth import KeyRing
from mock_server.backend import Backends
from mock_server.contract import CompiledContract
from mock_server.durable.recorder import Recorder
from mock_server.journal import Journal
from mock_server.ratelimit import RateLimiter
from mock_server.settings import Settings
from mock_server.store.world import World

if TYPE_CHECKING:
    from mock_server.webhooks import Dispatcher


@dataclass
class MockState:
    settings: Settings
    contract: CompiledContract
    backends: Backends
    journal: Journal
    limiter: RateLimiter
    recorder: Recorder  # applies writes and resets; with --state, logs them (mock_server/durable/)
    keys: KeyRing  # the API's key ring (it knows the per-key keys seen, masked, for the admin page)
    webhooks: Dispatcher = None  # type: ignore[assignment]  # the app's webhook dispatcher, set by create_app

    def base_url(self, request: Request) -> str:
        return str(request.base_url).rstrip("/") + self.contract.base_path

    @property
    def worlds(self) -> dict[str, World]:
        """Each organisation's world as writes left it (what reads see now)."""
        return {organisation: self.backends[organisation].world for organisation in self.backends}

    def reset(self, organisation: str | None = None) -> None:
        """Back to the seeded worlds (one organisation's, or all), with an empty journal and fresh rate counts."""
        self.recorder.reset(organisation)  # the webhook dispatcher follows (Backends.on_reset)
        self.journal.clear()
        self.limiter.reset()
