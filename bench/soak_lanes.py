"""Lanes of the soak: connections that all expect one status, and what each lane's load gave."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lane:
    name: str  # "ok", "not-found", "invalid"
    status: int  # the status every answer of the lane must have
    paths: tuple[str, ...]
    connections: int


@dataclass
class LaneResult:
    lane: Lane
    answered: int
    mismatches: int  # answers with another status than the lane's
    socket_errors: int  # connect, read and write errors
    timeouts: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    first_mismatch: str = ""
    engine: str = ""

    @property
    def errors(self) -> int:
        return self.mismatches + self.socket_errors + self.timeouts

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def split_connections(total: int, weights: dict[str, int]) -> dict[str, int]:
    """`total` connections over lanes in proportion to `weights`, every lane at least one."""
    names = list(weights)
    share = {name: max(1, total * weights[name] // sum(weights.values())) for name in names}
    share[names[0]] += total - sum(share.values())
    return share
