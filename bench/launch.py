"""The servers of a run: the mock, the baseline and Prism, launched the same way by every stage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.baseline_app import baseline_path
from bench.procs import Server, ServerSet, free_port
from bench.wrk import LoadShape
from mock_server.settings import DEFAULT_API_KEY

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PRISM = ROOT / "bench" / ".prism" / "node_modules" / ".bin" / "prism"
CONTRACT = ROOT / "contracts" / "loyalty.openapi.yaml"
HEADERS = {"api-key": DEFAULT_API_KEY}
READY_PATH = "/v3/loyalty/config/programs"
SERVER_CPU, LOAD_CPU = 0, 1  # one core for the server under test, the other for wrk


def launch_mock(servers: ServerSet, name: str, contacts: int, workers: int = 1,
                extra: tuple[str, ...] = (), pin: bool = True, module: str = "mock_server") -> Server:
    """`python -m mock_server serve` (or another `module` with the same command line: bench.write_ceiling)."""
    port = free_port()
    command = [sys.executable, "-m", module, "serve", "--port", str(port), "--contacts", str(contacts),
               "--no-access-log", *extra]
    if workers > 1:
        command += ["--workers", str(workers)]  # writes taken, shared through a state file (docs/durability.md)
    return servers.launch(name, command, port, READY_PATH, HEADERS, timeout=120,
                          cpu=SERVER_CPU if workers == 1 and pin else None)


def launch_baseline(servers: ServerSet, name: str, bodies: dict[str, bytes],
                    posts: dict[str, bytes] | None = None) -> Server:
    """The bare Starlette app answering `bodies` to GETs and `posts` to POSTs, route by route."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    bodies = {**bodies, "ready": b"{}"}  # a GET route to wait for, whatever else it serves
    bodies_file, posts_file = RESULTS / f"{name}-bodies.json", RESULTS / f"{name}-posts.json"
    bodies_file.write_text(json.dumps({key: body.decode() for key, body in bodies.items()}))
    posts_file.write_text(json.dumps({key: body.decode() for key, body in (posts or {}).items()}))
    port = free_port()
    command = [sys.executable, "-m", "bench.baseline_app", "--port", str(port), "--bodies", str(bodies_file),
               "--posts", str(posts_file), "--api-key", DEFAULT_API_KEY]
    return servers.launch(name, command, port, baseline_path("ready"), HEADERS, timeout=60, cpu=SERVER_CPU)


def with_seconds(shape: LoadShape, seconds: float) -> LoadShape:
    return LoadShape(seconds, shape.connections, shape.threads, shape.cpu)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
