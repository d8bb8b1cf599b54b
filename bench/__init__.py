"""`make bench`: the mock under load from wrk, as ratios against a bare Starlette baseline.

    python -m bench [--rounds 9] [--duration 1] [--quick]

Modules, one idea each:

- `baseline_app`  the bare Starlette app every figure is divided by
- `procs`         launch a server in its own process group, time its first answer, stop it
- `wrk`           one bounded load from wrk, parsed from its Lua summary
- `scenarios`     the requests measured, resolved against the seeded world
- `launch`        the mock, the baseline and their settings, as every stage launches them
- `runner`        the rounds, interleaved mock/baseline, medians
- `write_scenarios`  the write measured (a transaction begin), resolved against the seeded world
- `write_runner`  the write rounds, the reads after writes, the resets
- `post_client`   an exact number of POSTs (wrk cannot stop at a count)
- `perkey`        `serve --world-per-key`: memory of 1,000 extra worlds, a new world's first answer
- `figures`       rounds, medians and ratios, as plain data
- `report`, `report_writes`, `report_perkey`  the targets, the console table and BENCHMARKS.md
"""
