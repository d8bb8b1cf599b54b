"""The soak's load from wrk: one wrk process per lane, all at once, each bounded in time and count."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.soak_lanes import Lane, LaneResult

SCRIPT = Path(__file__).with_name("soak_wrk.lua")


def available() -> bool:
    return shutil.which("wrk") is not None


def run_lanes(port: int, lanes: list[Lane], api_key: str, seconds: float, max_requests: int) -> list[LaneResult]:
    """Load every lane at once for `seconds`; each wrk thread also stops after its share of `max_requests`."""
    total_connections = sum(lane.connections for lane in lanes)
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        processes = []
        for lane in lanes:
            paths = Path(folder) / f"{lane.name}.txt"
            paths.write_text("\n".join(lane.paths) + "\n")
            cap = math.ceil(max_requests * lane.connections / total_connections)
            command = ["wrk", "-t1", f"-c{lane.connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                       "--latency", "-s", str(SCRIPT), f"http://127.0.0.1:{port}", "--",
                       str(paths), str(lane.status), api_key, str(cap)]
            processes.append((lane, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                     text=True, start_new_session=True)))
        results = []
        try:
            for lane, process in processes:
                out, err = process.communicate(timeout=seconds + 60)
                results.append(_parse(lane, out, err, process.returncode))
        finally:
            for _, process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(5)
        return results


def _parse(lane: Lane, out: str, err: str, returncode: int) -> LaneResult:
    line = next((line for line in out.splitlines() if line.startswith("SOAK_JSON ")), None)
    if returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed on lane {lane.name} (exit {returncode}): {err.strip() or out[-500:]}")
    data = json.loads(line.removeprefix("SOAK_JSON "))
    seconds = data["duration_us"] / 1e6
    return LaneResult(
        lane=lane, answered=data["answered"], mismatches=data["mismatches"],
        socket_errors=data["connect_errors"] + data["read_errors"] + data["write_errors"],
        timeouts=data["timeouts"], seconds=seconds, p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000, first_mismatch=data["first_mismatch"], engine="wrk",
    )
