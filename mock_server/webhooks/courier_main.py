"""The delivery process: `python -m mock_server.webhooks.courier_main FD`, started by the server (`ProcessCourier`).

It reads frames (mock_server/webhooks/frames.py) from the socket `FD`, posts them with `Lanes` on its
own event loop, and writes each attempt's outcome back. It knows nothing of events, retries or
worlds: the server decides what to post and what an outcome means. It exits when the server closes
its end (the server stopped, or died), and ignores Ctrl-C, which reaches the whole terminal's process
group: the server stops first, then it.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

from mock_server.webhooks.endpoints import Endpoint
from mock_server.webhooks.frames import (
    DROP,
    ENDPOINT,
    OUTCOME,
    POST,
    READY,
    FrameReader,
    FrameWriter,
    endpoint_of,
    frame,
    outcome_payload,
)
from mock_server.webhooks.lanes import Lanes
from mock_server.webhooks.sender import Outcome

# Outcomes wait this long to go back together: a lane ends one attempt at a time, so without it every
# outcome would cost the server a wake-up and a read of its own; the journal shows an attempt 2 ms later.
OUTCOME_BATCH_SECONDS = 0.002


class _Courier:
    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop, finished: asyncio.Future[None]) -> None:
        self._sock = sock
        self._loop = loop
        self._finished = finished
        self._reader = FrameReader()
        self._endpoints: dict[int, Endpoint] = {}
        self._lanes = Lanes(self._outcome)
        self._writer = FrameWriter()
        self._lanes.start(loop)
        loop.add_reader(sock.fileno(), self._readable)
        self._writer.frames.append(frame(READY, 0, 0))
        self._flushing = True  # READY goes first, on the loop's first turn
        loop.call_soon(self._flush)

    def _readable(self) -> None:
        frames = self._reader.read(self._sock)
        if frames is None:
            self._stop()
            return
        for kind, lane, token, payload in frames:
            if kind == POST:
                self._lanes.post(lane, self._endpoints[lane], token, payload)
            elif kind == ENDPOINT:
                self._endpoints[lane] = endpoint_of(payload)
            elif kind == DROP:
                self._lanes.drop(lane)

    def _outcome(self, token: int, outcome: Outcome) -> None:
        self._writer.frames.append(frame(OUTCOME, 0, token, outcome_payload(outcome)))
        if not self._flushing:
            self._flushing = True
            self._loop.call_later(OUTCOME_BATCH_SECONDS, self._flush)  # one write for the outcomes until then

    def _flush(self) -> None:
        self._flushing = False
        if not self._writer.send(self._sock, self._loop, self._flush):
            self._stop()

    def _stop(self) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._lanes.close()
        if not self._finished.done():
            self._finished.set_result(None)


async def _serve(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    _Courier(sock, loop, finished)
    await finished
    sock.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m mock_server.webhooks.courier_main FD (started by the mock's server)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a dependency; asyncio's own loop works too
        asyncio.run(_serve(int(args[0])))
    else:
        uvloop.run(_serve(int(args[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
