"""One bounded load from wrk against a loopback URL, parsed from `wrk_report.lua`'s summary line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.procs import pinned

SCRIPT = Path(__file__).with_name("wrk_report.lua")
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
        "-s", str(SCRIPT),
        url,
    ]
    env = {**os.environ, "BENCH_PATHS": str(paths_file) if paths_file else ""}
    try:
        done = subprocess.run(pinned(command, shape.cpu), capture_output=True, text=True, env=env,
                              timeout=seconds + 30, check=False)
    except subprocess.TimeoutExpired:
        raise WrkError(f"wrk on {url} did not finish within {seconds + 30} s") from None
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER):])
            break
    else:
        raise WrkError(f"wrk on {url} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    errors = sum(data[key] for key in ("status_errors", "connect_errors", "read_errors", "write_errors",
                                       "timeouts"))
    return Load(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
    )
