"""`make bench`'s per-key stage (bench/perkey.py) on a few keys: what it sends, reads and reports.

Nothing here is judged on speed: the figures come from `make bench`. This checks that the
stage really makes one world per key on a real `serve --world-per-key` process, reads the
process's memory, and that the report judges the issue's targets from what was measured.
"""

from __future__ import annotations

from bench.figures import Run
from bench.perkey import PerKey, measure_per_key, percentile
from bench.procs import ServerSet
from bench.report_perkey import per_key_section, per_key_targets


def test_the_stage_makes_a_world_per_key_and_measures_each_first_answer(tmp_path) -> None:
    with ServerSet(tmp_path) as servers:
        figures = measure_per_key(servers, keys=12, contacts=50, rounds=2)  # raises unless 12 + 2 worlds are listed
        assert not servers.servers  # every round's mock was stopped
    assert len(figures.first_ms) == len(figures.write_ms) == 12 and len(figures.round_p99_ms) == 2
    assert figures.first_p99_ms in figures.round_p99_ms
    assert all(ms > 0 for ms in figures.first_ms)
    assert 0 < figures.rss_before_mb <= figures.hwm_after_mb


def test_the_targets_are_judged_on_the_figures_scaled_to_a_thousand_keys() -> None:
    run = Run(command="", started_at="", machine={}, settings={})
    run.per_key = PerKey(keys=500, contacts=1000, rss_before_mb=50, rss_after_mb=210, hwm_before_mb=50,
                         hwm_after_mb=210, first_ms=[1.0] * 98 + [6.0, 7.0], write_ms=[1.0], seconds=1.0)
    memory, first = per_key_targets(run)
    assert memory.measured.startswith("320 MiB") and memory.met is False  # 160 MiB for 500 keys: 320 for 1,000
    assert first.met is False and "p99 6.00 ms" in first.measured
    assert "| 500 |" in "\n".join(per_key_section(run))
    run.per_key = None
    assert [target.met for target in per_key_targets(run)] == [None, None] and per_key_section(run) == []


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
