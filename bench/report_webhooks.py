"""The webhook side of the report: its target and its section of BENCHMARKS.md."""

from __future__ import annotations

from bench.figures import Run, Target, WebhookRounds

WEBHOOK_FLOOR = 0.90  # API throughput with one webhook endpoint, against none


def webhook_targets(run: Run) -> list[Target]:
    if not run.webhooks:
        return [Target("API throughput with one webhook endpoint vs none", f">= {WEBHOOK_FLOOR:.2f}x",
                       f"not measured: {run.webhooks_note}", None)]
    return [Target(f"{row.title} with one webhook endpoint vs none (throughput)", f">= {WEBHOOK_FLOOR:.2f}x",
                   f"{row.rps_ratio:.2f}x", row.rps_ratio >= WEBHOOK_FLOOR) for row in run.webhooks]


def webhook_section(run: Run) -> list[str]:
    if not run.webhooks:
        return ["## Webhooks", "", f"Not measured: {run.webhooks_note}.", ""]
    return [
        "## Webhooks",
        "",
        "Two mocks of the default world, one with `--webhook` pointing at a loopback receiver that answers 200",
        "at once (pinned with wrk), one without; rounds interleaved. Each write emits `balance_value_updated`.",
        "Both mocks start unpinned; their server process (the API) is pinned to the server's core after the",
        "warm-up, once the webhook mock's delivery process runs (`--webhook-delivery process`, the default),",
        "which the scheduler places. A write round of the webhook mock lasts until its deliveries are done",
        "(counted in its time); the reads are loaded once the previous writes' deliveries are done.",
        "",
        *([webhook_rounds_text(run.webhook_rounds), ""] if run.webhook_rounds else []),
        "| request | with webhook req/s | without req/s | ratio | with p50 ms | without p50 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(f"| {row.title} | {row.mock.rps:,.0f} | {row.baseline.rps:,.0f} | **{row.rps_ratio:.2f}x** | "
          f"{row.mock.p50_ms:.2f} | {row.baseline.p50_ms:.2f} |" for row in run.webhooks),
        "",
    ]


def webhook_rounds_text(rounds: WebhookRounds) -> str:
    return (f"- Deliveries `{rounds.delivery}`: left queued when each write round's load stopped: "
            f"{', '.join(f'{left:,}' for left in rounds.backlogs)}; done "
            f"{', '.join(f'{seconds:.2f}' for seconds in rounds.drains)} s later.")
