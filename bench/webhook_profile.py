"""In-process CPU cost of webhook deliveries: what one delivered event takes from the server's process.

    python -m bench.webhook_profile [--events N] [--rounds R] [--mode queued|one|writes]
                                    [--delivery process|loop] [--pin] [--profile]

Builds the default world's app with one endpoint (`bench.webhook_receiver`, a loopback receiver in a
process of its own, so that its work is not counted), makes N writes as `make bench` does (a transaction
begun with `autoComplete`, one `balance_value_updated` each) with deliveries muted, keeping their events,
then hands those events to the dispatcher as a write does and times, on the server's event loop, the
process CPU until every one is journaled: render, request, answer, journal, the loop's callbacks.
`queued`: all N at once (a lane with a backlog, as under the benchmark's load); `one`: each after the
previous one's delivery (an idle lane woken per event). Prints the median of R rounds, µs of CPU a
delivery; with `--profile`, cProfile's table of one more round, by own time. `writes`: N writes made on
the loop as a served mock makes them (the loop turning every few, so that deliveries interleave with
them and the records are fresh), once with deliveries and once muted, alternated: the difference per
delivered event, the closest to what the benchmark's webhook row pays (and the noisiest). With
`--delivery process` (the default, as `serve`) the posts are made by the delivery process, whose CPU is
not counted: the figure is what the server's own process spends on an event.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.launch import LOAD_CPU, SERVER_CPU
from bench.procs import free_port, get, pinned
from bench.write_profile import app_and_write
from mock_server.backend.events import Event
from mock_server.settings import DEFAULT_API_KEY, DEFAULT_CONTACTS, WEBHOOK_DELIVERIES, Settings

PER_TURN = 4  # `writes` mode: writes between two turns of the loop, as requests arriving on several connections
BACKLOG = 5_000  # writes handed over at once in `queued` mode, fewer than the lane holds (MAX_BACKLOG)
HEADERS = [(b"api-key", DEFAULT_API_KEY.encode()), (b"content-type", b"application/json")]


def start_receiver(pin: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "bench.webhook_receiver", "--port", str(port)]
    process = subprocess.Popen(pinned(command, LOAD_CPU if pin else None))
    deadline = time.monotonic() + 30
    while True:
        try:
            get(port, "/", {}, timeout=1)
            return process, f"http://127.0.0.1:{port}/hooks"
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise SystemExit("the webhook receiver did not start") from None
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mode", choices=("queued", "one", "writes"), default="queued")
    parser.add_argument("--contacts", type=int, default=DEFAULT_CONTACTS)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--delivery", choices=WEBHOOK_DELIVERIES, default="process",
                        help="serve --webhook-delivery: a delivery process (whose CPU is not counted: the figure is "
                        "what the server's process spends) or the server's loop")
    parser.add_argument("--pin", action="store_true",
                        help="as `make bench` pins: this process on one core, the receiver on the other")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # the receiver is stopped on the way out
    if args.pin and SERVER_CPU in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {SERVER_CPU})
    receiver, url = start_receiver(args.pin)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:  # the server's loop: uvloop when installed
            return runner.run(_measure(args, url))
    finally:
        receiver.terminate()
        receiver.wait(10)


def _loop_factory() -> Any:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _measure(args: argparse.Namespace, url: str) -> int:
    app, _, write = app_and_write(Settings(contacts=args.contacts, access_log=False, webhooks=(url,),
                                           webhook_delivery=args.delivery))
    state = app.state.mock
    dispatcher = state.webhooks
    api: Any = app._api  # type: ignore[attr-defined]
    batches: list[tuple[str, Sequence[Event]]] = []
    capture_off = False
    state.backends.on_events(lambda organisation, batch: None if capture_off else batches.append((organisation, batch)))
    path = write.path.encode()
    with dispatcher.paused():
        for index in range(args.events):
            answer, _ = api.response("POST", path, b"", HEADERS, body=write.bodies[index % len(write.bodies)])
            if answer.status != 200:
                raise SystemExit(f"write {index} answered {answer.status}: {answer.body[:300]!r}")
    events = sum(len(batch) for _, batch in batches)
    if args.mode == "writes":  # events are made afresh: keeping them would only feed the collector
        batches.clear()
        capture_off = True
    gc.collect()  # as `serve` does (mock_server/cli.py): the world out of the collector's scans
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)

    loop = asyncio.get_running_loop()
    dispatcher.start(loop)
    journal = dispatcher.journal
    journaled = journal.record
    count: dict[str, Any] = {"delivered": 0, "start": 0, "target": -1, "done": None}

    def add(entry: Any) -> None:  # counts the attempts, wakes the round on the last it waits for
        journaled(entry)
        if entry[10] != "delivered":  # the entry's outcome
            raise SystemExit(f"a delivery was not delivered: {entry}")
        count["delivered"] += 1
        if count["delivered"] == count["target"]:
            count["done"].set_result(None)

    journal.record = add  # type: ignore[method-assign]

    async def delivered(more: int) -> None:
        """Until `more` deliveries after those counted when the last round began are journaled."""
        count["target"] = count["start"] + more
        if count["delivered"] < count["target"]:
            count["done"] = loop.create_future()
            await count["done"]

    async def deliver(group: list[tuple[str, Sequence[Event]]]) -> None:
        count["start"] = count["delivered"]
        for organisation, batch in group:
            dispatcher._on_events(organisation, batch)
        await delivered(sum(len(batch) for _, batch in group))

    written = {"index": 0, "events": 0}
    state.backends.on_events(lambda organisation, batch: written.__setitem__("events", written["events"] + len(batch)))

    async def writes() -> None:
        """Writes as a served mock receives them: the loop turns every few (hand-overs run, answers are read)."""
        count["start"], emitted = count["delivered"], written["events"]
        for _ in range(args.events):
            index = written["index"] = written["index"] + 1
            answer, _ = api.response("POST", path, b"", HEADERS, body=write.bodies[index % len(write.bodies)])
            if answer.status != 200:
                raise SystemExit(f"write {index} answered {answer.status}: {answer.body[:300]!r}")
            if index % PER_TURN == 0:
                await asyncio.sleep(0)
        if not dispatcher.muted:
            await delivered(written["events"] - emitted)

    async def one_round() -> tuple[float, float, float]:
        wall, cpu, user = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
        if args.mode == "queued":  # in slices the lane's backlog holds (MAX_BACKLOG)
            for start in range(0, len(batches), BACKLOG):
                await deliver(batches[start:start + BACKLOG])
        elif args.mode == "one":
            for item in batches:
                await deliver([item])
        else:
            await writes()
        user = resource.getrusage(resource.RUSAGE_SELF).ru_utime - user
        return user, time.process_time() - cpu - user, time.perf_counter() - wall

    if args.mode == "writes":
        return await _against_muted(args, dispatcher, one_round, written)

    await one_round()  # warm-up: the connection, the caches
    cpus, users, walls = [], [], []
    for _ in range(args.rounds):
        user, system, wall = await one_round()
        cpus.append((user + system) / events * 1e6)
        users.append(user / events * 1e6)
        walls.append(wall)
    print(f"{events:,} events ({args.mode}, {args.delivery}), {args.rounds} rounds: "
          f"{statistics.median(cpus):.1f} µs of CPU a delivery "
          f"({statistics.median(users):.1f} in user mode; rounds {', '.join(f'{value:.1f}' for value in cpus)}); "
          f"{events / statistics.median(walls):,.0f} deliveries/s")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await one_round()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    dispatcher.close()
    return 0


async def _against_muted(args: argparse.Namespace, dispatcher: Any, one_round: Any, written: dict[str, int]) -> int:
    """`writes` mode: rounds of N writes with deliveries, and N with the dispatcher muted, alternated."""
    await one_round()  # warm-up: the connection, the caches, the members
    extra = []
    for number in range(args.rounds):
        cpu = {}
        for muted in ((False, True) if number % 2 == 0 else (True, False)):
            dispatcher.mute(muted)
            before = written["events"]
            user, system, _ = await one_round()
            cpu[muted] = (user + system, written["events"] - before)
        extra.append((cpu[False][0] - cpu[True][0]) / cpu[False][1] * 1e6)
    dispatcher.mute(False)
    print(f"{args.events:,} writes a round (writes, {args.delivery}): {statistics.median(extra):.1f} µs of CPU a "
          "delivery, as the "
          f"writes' CPU with deliveries less without (rounds {', '.join(f'{value:.1f}' for value in extra)})")
    dispatcher.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
