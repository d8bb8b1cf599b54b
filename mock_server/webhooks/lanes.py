"""Delivery lanes on one event loop: each endpoint's posts in order, one attempt at a time.

A lane is one endpoint's queue on its own kept-alive connection (`AsyncSender`): the next attempt is
started by the callback that ends the previous one, inside the same turn of the loop, so posts keep
their order and a receiver that hangs keeps only its own lane waiting (at most the endpoint's
timeout). Every attempt's outcome goes to `on_outcome(token, outcome)`, on the loop.

The same class delivers in two places (docs/webhooks.md): on the server's own loop
(`--webhook-delivery loop`), or in the delivery process (`courier_main`), fed by `ProcessCourier`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from collections.abc import Callable, Hashable

from mock_server.webhooks.asyncsender import AsyncSender
from mock_server.webhooks.endpoints import Endpoint
from mock_server.webhooks.sender import RETRY, Outcome

logger = logging.getLogger("brevo_loyalty_mock")

OnOutcome = Callable[[int, Outcome], None]


class _Lane:
    __slots__ = ("busy", "done", "posts", "sender", "token")

    def __init__(self, endpoint: Endpoint) -> None:
        self.posts: deque[tuple[int, bytes]] = deque()  # (token, body), oldest first
        self.sender = AsyncSender(endpoint)
        self.token = 0  # the attempt under way
        self.busy = False
        self.done: Callable[[Outcome], None] = _nothing


def _nothing(outcome: Outcome) -> None:
    return None


class Lanes:
    """Posts, per lane key, delivered in order on the loop given to `start` (they wait for it until then)."""

    def __init__(self, on_outcome: OnOutcome) -> None:
        self._on_outcome = on_outcome
        self._lanes: dict[Hashable, _Lane] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on `loop` from now on (called on it), beginning with what waited."""
        self._loop = loop
        self._closed = False
        for lane in list(self._lanes.values()):
            if lane.posts and not lane.busy:
                self._advance(lane)

    def post(self, key: Hashable, endpoint: Endpoint, token: int, body: bytes) -> None:
        """Queue `body` on the lane `key` (made for `endpoint` on first use); its outcome comes back with `token`."""
        lane = self._lanes.get(key)
        if lane is None or (lane.sender.endpoint is not endpoint and lane.sender.endpoint != endpoint):
            if lane is not None:  # the lane's endpoint changed under the same key: start afresh
                self.drop(key)
            lane = self._lanes[key] = _Lane(endpoint)
            lane.done = functools.partial(self._attempted, lane)
        lane.posts.append((token, body))
        if not lane.busy and self._loop is not None and not self._closed:
            self._advance(lane)

    def drop(self, key: Hashable) -> None:
        """Forget the lane's queued posts and close its connection (an attempt under way is abandoned)."""
        lane = self._lanes.pop(key, None)
        if lane is not None:
            lane.posts.clear()
            lane.sender.stop()
            lane.busy = False

    def close(self) -> None:
        """Stop (the server stops): attempts under way are abandoned, queued posts forgotten, connections closed."""
        self._closed = True
        for key in list(self._lanes):
            self.drop(key)

    def _advance(self, lane: _Lane) -> None:
        """Start the lane's next attempt, if any."""
        lane.busy = True
        while lane.posts and not self._closed:
            token, body = lane.posts.popleft()
            lane.token = token
            try:
                lane.sender.send(body, lane.done)  # `_attempted` is called when it ends, never from inside
                return
            except Exception as error:  # a bug here must not stop the lane
                logger.exception("webhook delivery failed")
                lane.sender.stop()  # no callback may come for this post
                self._report(token, Outcome(RETRY, None, f"delivery failed: {type(error).__name__}", 0.0))
        lane.busy = False

    def _attempted(self, lane: _Lane, outcome: Outcome) -> None:
        """An attempt ended (inside the loop's turn that read its answer): report it, and the lane goes on."""
        self._report(lane.token, outcome)
        self._advance(lane)

    def _report(self, token: int, outcome: Outcome) -> None:
        try:
            self._on_outcome(token, outcome)
        except Exception:  # a bug there must not stop the lane
            logger.exception("webhook delivery failed")


__all__ = ["Lanes", "OnOutcome"]
