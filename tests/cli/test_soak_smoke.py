"""`make soak`'s tooling on a short run: the real command, every lane, zero errors, a report (no wrk needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.proc import ROOT, environment


def test_a_short_soak_passes_and_reports_errors_and_rss(tmp_path: Path) -> None:
    report_file = tmp_path / "soak.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--seconds", "2", "--warmup", "1", "--connections", "8",
         "--contacts", "50", "--engine", "python", "--json", str(report_file)],
        cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "soak: PASS" in result.stdout
    report = json.loads(report_file.read_text())
    assert report["passed"] and report["errors"] == 0 and report["exit_status"] == 0
    assert {lane["lane"]["status"] for lane in report["lanes"]} >= {200, 404, 422}
    assert all(lane["answered"] > 0 for lane in report["lanes"])
    assert report["rss_start_kib"] > 0 and report["rss_end_kib"] > 0
