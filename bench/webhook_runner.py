"""The webhook figures: API throughput with one webhook endpoint configured, against none.

Two mocks of the default world run side by side, one with `--webhook URL` (a receiver answering
200 at once on loopback, `bench.webhook_receiver`, pinned with wrk) and one without; the program
read and the transaction begin (`autoComplete`: one `balance_value_updated` a write) are loaded on
both, rounds interleaved. Row `mock` = with the endpoint, `baseline` = without: the ratio is what
configuring a webhook costs the API.

The mock posts its webhooks from a delivery process of its own (`--webhook-delivery process`, the
default), started on its first delivery. Both mocks start unpinned and their server process (the API)
is pinned to the server's core after the warm-up, once the delivery process runs: that process stays
where the scheduler puts it, as on a machine where nothing is pinned. `--webhook-delivery loop` runs the
deliveries on the API's own core (`python -m bench --webhooks-only --webhook-delivery loop`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import orjson

from bench.figures import Row, WebhookRounds
from bench.launch import HEADERS, LOAD_CPU, SERVER_CPU, log, with_seconds
from bench.procs import Server, ServerSet, free_port, pin_thread
from bench.scenarios import Scenario
from bench.write_runner import WritePlan, load_write
from bench.wrk import Load, LoadShape, run_wrk
from mock_server.settings import DEFAULT_API_KEY


def launch_receiver(servers: ServerSet) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "bench.webhook_receiver", "--port", str(port)]
    return servers.launch("webhook-receiver", command, port, "/", {}, timeout=60, cpu=LOAD_CPU)


def measure_webhooks(servers: ServerSet, plan: WritePlan, program: Row, write: Row,
                     delivery: str = "process") -> tuple[list[Row], WebhookRounds]:
    """[program read, transaction begin]: with one webhook endpoint (mock) against none (baseline).

    A write round of the webhook mock lasts until the deliveries its writes caused are done: a mock that
    left them queued when the load stopped would otherwise look as fast as one without a webhook.
    """
    from bench.launch import launch_mock

    receiver = launch_receiver(servers)
    hooked = launch_mock(servers, "mock-webhook", plan.contacts, pin=False,
                         extra=("--webhook", f"{receiver.root}/hooks", "--webhook-delivery", delivery))
    plain = launch_mock(servers, "mock-no-webhook", plan.contacts, pin=False)
    rows = [Row(program.scenario, program.contacts, program.body), Row(write.scenario, write.contacts, write.body)]
    rounds = WebhookRounds(delivery)
    try:
        log(f"loading the program read and the transaction begin x (webhook, none) x {plan.rounds} round(s); "
            f"deliveries: {delivery}")
        for server in (hooked, plain):
            _load(server, rows[0], with_seconds(plan.shape, plan.warmup))
            load_write(server, rows[1], with_seconds(plan.shape, plan.warmup))
            pin_thread(server.process.pid, SERVER_CPU)  # the API; the delivery process runs by now, unpinned
        for round_number in range(plan.rounds):
            pair = [(hooked, "mock"), (plain, "baseline")]
            for server, side in pair if round_number % 2 == 0 else reversed(pair):
                _drain(hooked)  # reads emit nothing: measure them with the deliveries done
                getattr(rows[0], side).loads.append(_load(server, rows[0], plan.shape))
                load = load_write(server, rows[1], plan.shape)
                if server is hooked:
                    left, seconds = _drain(hooked)
                    rounds.backlogs.append(left)
                    rounds.drains.append(seconds)
                    load = replace(load, seconds=load.seconds + seconds)
                getattr(rows[1], side).loads.append(load)
            log(f"round {round_number + 1}/{plan.rounds}: with a webhook {rows[1].mock.loads[-1].rps:,.0f} writes/s "
                f"({rounds.backlogs[-1]:,} deliveries left at the end of the load, done {rounds.drains[-1]:.2f} s "
                f"later), without {rows[1].baseline.loads[-1].rps:,.0f}")
        _drain(hooked)
        status, body = hooked.get("/__mock__/webhooks", HEADERS)
        pending = orjson.loads(body)["pending"] if status == 200 else {}
        status, body = hooked.get("/__mock__/webhooks/deliveries", HEADERS)
        if status != 200 or b'"outcome":"delivered"' not in body:
            log(f"warning: the webhook mock journaled no delivery ({status}): {body[:200]!r}")
        log(f"webhook deliveries: {pending.get('dropped', '?')} dropped (too many waiting)")
    finally:
        for server in (plain, hooked, receiver):
            servers.stop(server)
    return rows, rounds


def _drain(server: Server, timeout: float = 60.0) -> tuple[int, float]:
    """(deliveries queued or under way when the load stopped, seconds until none is left); says so when some are
    still there after `timeout`."""
    started = time.perf_counter()
    left = queued = _queued(server)
    while queued and time.perf_counter() - started < timeout:
        time.sleep(0.005)
        queued = _queued(server)
    if queued:
        log(f"warning: the webhook deliveries did not drain within {timeout:.0f} s")
    return left, (time.perf_counter() - started) if left else 0.0


def _queued(server: Server) -> int:
    status, body = server.get("/__mock__/webhooks", HEADERS)
    return int(orjson.loads(body)["pending"]["queued"]) if status == 200 else 0


def _load(server: Server, row: Row, shape: LoadShape) -> Load:
    """The read row on `server` (as the runner loads a read)."""
    scenario = row.scenario
    assert isinstance(scenario, Scenario)
    return run_wrk(server.root + scenario.path, DEFAULT_API_KEY, shape, headers=scenario.headers)
