"""One bounded load from wrk against a loopback URL, parsed from its Lua script's summary line.

GETs go through `wrk_report.lua`; POSTs of JSON bodies through `wrk_post.lua`,
which also checks every answer (and can post an exact number of bodies).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.procs import pinned

SCRIPT = Path(__file__).with_name("wrk_report.lua")
POST_SCRIPT = Path(__file__).with_name("wrk_post.lua")
MARKER = "BENCH_JSON "
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class WrkError(RuntimeError):
    """wrk is missing, failed, or the server answered errors."""


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers plus socket errors and timeouts
    unexpected: int = 0  # POSTs only: answers that were not a 200 holding the expected text
    first_unexpected: str = ""
    posted: int = 0  # POSTs only: bodies sent
    answered: int = 0  # POSTs only: answers to them received

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class LoadShape:
    """How hard and how long wrk pushes: bounded in time, on loopback only."""

    seconds: float
    connections: int
    threads: int = 1
    cpu: int | None = None  # the core wrk is pinned to, away from the server's


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkError("wrk is not installed (make bench installs it with apt-get)")
    return found


def run_wrk(url: str, api_key: str, shape: LoadShape, paths_file: Path | None = None,
            headers: tuple[tuple[str, str], ...] = ()) -> Load:
    """Load `url` (or the paths in `paths_file`, round-robin, on the same host) for `shape.seconds`."""
    env = {"BENCH_PATHS": str(paths_file) if paths_file else ""}
    return _load(_run(url, api_key, shape, SCRIPT, env, headers))


def run_wrk_post(url: str, api_key: str, shape: LoadShape, bodies_file: Path, expect: str = "") -> Load:
    """POST the bodies of `bodies_file` (one a line, round-robin) to `url` for `shape.seconds`.

    An answer other than a 200 holding `expect` (when given) counts in `unexpected`.
    """
    env = {"BENCH_BODIES": str(bodies_file), "BENCH_EXPECT": expect}
    data = _run(url, api_key, shape, POST_SCRIPT, env, ())
    return _load(data, unexpected=data["unexpected"], first_unexpected=data["first_unexpected"],
                 posted=data["posted"], answered=data["answered"])


def _run(url: str, api_key: str, shape: LoadShape, script: Path, env: dict[str, str],
         headers: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    host = urlsplit(url).hostname or ""
    if host not in {h.strip("[]") for h in LOOPBACK_HOSTS}:
        raise WrkError(f"refusing to load {url}: the benchmark targets loopback only")
    seconds = max(1, round(shape.seconds))
    command = [
        wrk_binary(),
        f"-t{shape.threads}",
        f"-c{shape.connections}",
        f"-d{seconds}s",
        "--timeout", "5s",
        "-H", f"api-key: {api_key}",
        *(argument for name, value in headers for argument in ("-H", f"{name}: {value}")),
        "-s", str(script),
        url,
    ]
    try:
        done = subprocess.run(pinned(command, shape.cpu), capture_output=True, text=True,
                              env={**os.environ, **env}, timeout=seconds + 30, check=False)
    except subprocess.TimeoutExpired:
        raise WrkError(f"wrk on {url} did not finish within {seconds + 30} s") from None
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            return dict(json.loads(line[len(MARKER):]))
    raise WrkError(f"wrk on {url} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


def _load(data: dict[str, Any], **extra: Any) -> Load:
    errors = sum(data[key] for key in ("status_errors", "connect_errors", "read_errors", "write_errors",
                                       "timeouts"))
    return Load(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
        **extra,
    )
