"""`make bench`: the mock under load from wrk, as ratios against a bare Starlette baseline.

    python -m bench [--rounds 9] [--duration 1] [--quick]

Modules, one idea each:

- `baseline_app`  the bare Starlette app every figure is divided by
- `procs`         launch a server in its own process group, time its first answer, stop it
- `wrk`           one bounded load from wrk, parsed from its Lua summary
- `scenarios`     the requests measured, resolved against the seeded world
- `runner`        the rounds, interleaved mock/baseline, medians
- `figures`       rounds, medians and ratios, as plain data
- `report`        the targets, the console table and BENCHMARKS.md
"""
