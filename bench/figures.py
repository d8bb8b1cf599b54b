"""What a benchmark run measured, as plain data: rounds of loads, medians, ratios, targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING, Any

from bench.scenarios import Scenario
from bench.write_scenarios import Write
from bench.wrk import Load

if TYPE_CHECKING:
    from bench.perkey import PerKey


@dataclass
class Series:
    """The rounds of one request against one server."""

    loads: list[Load] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return median(load.rps for load in self.loads) if self.loads else 0.0

    @property
    def p50_ms(self) -> float:
        return median(load.p50_ms for load in self.loads) if self.loads else 0.0

    @property
    def p99_ms(self) -> float:
        return median(load.p99_ms for load in self.loads) if self.loads else 0.0

    @property
    def errors(self) -> int:
        return sum(load.errors for load in self.loads)

    @property
    def unexpected(self) -> int:
        return sum(load.unexpected for load in self.loads)

    @property
    def first_unexpected(self) -> str:
        return next((load.first_unexpected for load in self.loads if load.first_unexpected), "")


@dataclass(eq=False)
class Row:
    """One request on one world, the mock against the baseline answering the same bytes, same run.

    For a write, `scenario` is a `Write` and `body` the mock's answer to one of
    its POSTs. For the reads after writes, `mock` is the written world and
    `baseline` a fresh one, and `reference_bytes` the fresh world's answer size.
    """

    scenario: Scenario | Write
    contacts: int
    body: bytes  # what the mock answered (the median size, for a round-robin): the baseline answers it
    mock: Series = field(default_factory=Series)
    baseline: Series = field(default_factory=Series)
    reference_bytes: int | None = None

    @property
    def key(self) -> str:
        return self.scenario.key

    @property
    def title(self) -> str:
        return self.scenario.title

    @property
    def name(self) -> str:
        """Unique within a run: the baseline's route."""
        return f"{self.scenario.key}-{self.contacts}"

    @property
    def body_bytes(self) -> int:
        return len(self.body)

    # Ratios are medians of per-round ratios: the mock and the baseline of one round run back to
    # back, so a slow spell of the machine weighs on both sides of the same ratio.

    @property
    def rps_ratio(self) -> float:
        return paired(self.mock.loads, self.baseline.loads, "rps")

    @property
    def p50_ratio(self) -> float:
        return paired(self.mock.loads, self.baseline.loads, "p50_ms")

    @property
    def p99_ratio(self) -> float:
        return paired(self.mock.loads, self.baseline.loads, "p99_ms")


@dataclass
class Startup:
    """Launches of one world: seconds from exec to the first 200, and the peak RSS."""

    contacts: int
    seconds: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    transactions: int | None = None

    @property
    def median_seconds(self) -> float:
        return median(self.seconds) if self.seconds else 0.0

    @property
    def max_rss_mb(self) -> float:
        return max(self.peak_rss_mb, default=0.0)


@dataclass
class Resets:
    """`POST /__mock__/reset` of the default world, timed by the client on loopback (HTTP included)."""

    writes_per_round: int
    ms: list[float] = field(default_factory=list)  # one per round, each after `writes_per_round` writes
    after_seeded_ms: float | None = None  # the one reset of the world that took the seeded writes
    seeded_writes: int = 0
    first_write_ms: list[float] = field(default_factory=list)  # one write right after each round's reset
    first_write_after_seeded_ms: float | None = None

    @property
    def median_ms(self) -> float:
        return median(self.ms) if self.ms else float("nan")


@dataclass
class Target:
    name: str
    goal: str  # e.g. ">= 0.75x"
    measured: str
    met: bool | None  # None: not measured (e.g. Prism unavailable)


@dataclass
class WebhookRounds:
    """How the webhook rows' write rounds ended: deliveries still queued when the load stopped, and the seconds
    until they were done (counted in the round's time: a write's deliveries are part of its cost)."""

    delivery: str  # serve --webhook-delivery
    backlogs: list[int] = field(default_factory=list)
    drains: list[float] = field(default_factory=list)


@dataclass
class Run:
    """Everything one `make bench` measured."""

    command: str
    started_at: str
    machine: dict[str, str]
    settings: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    scaling: list[tuple[Row, Row]] = field(default_factory=list)  # (small world, big world)
    startups: list[Startup] = field(default_factory=list)
    prism: Row | None = None  # the program read, the mock against Prism, rounds interleaved
    prism_note: str = ""
    workers: Row | None = None  # the program read: mock = `serve --workers N`, baseline = one process
    workers_count: int = 1
    workers_write: Row | None = None  # the transaction begin: mock = `serve --workers N`, baseline = one process
    conformance_seconds: float | None = None
    conformance_note: str = ""
    write: Row | None = None  # the transaction begin against the baseline POST
    write_ceiling: Series | None = None  # the same write's rounds on bench.write_ceiling (its domain step done once)
    write_note: str = ""
    prism_write: Row | None = None  # the same POST, the mock against Prism
    after_writes: list[Row] = field(default_factory=list)  # mock: the written world, baseline: a fresh one
    seeded_writes: int = 0
    after_writes_rss_mb: tuple[float, float] | None = None  # peak RSS: (written, fresh)
    resets: Resets | None = None
    webhooks: list[Row] = field(default_factory=list)  # mock: one webhook endpoint, baseline: none
    webhooks_note: str = ""
    webhook_rounds: WebhookRounds | None = None
    per_key: PerKey | None = None  # serve --world-per-key: extra worlds' memory, a new world's first answer
    notes: list[str] = field(default_factory=list)

    def row(self, key: str) -> Row:
        return next(row for row in self.rows if row.key == key)


def ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("nan")


def paired(loads: list[Load], references: list[Load], figure: str) -> float:
    """The median over rounds of `figure` in `loads` divided by the same round's in `references`."""
    ratios = [ratio(getattr(load, figure), getattr(reference, figure))
              for load, reference in zip(loads, references, strict=True)]
    return median(ratios) if ratios else float("nan")
