"""The first record of a state file: what its changes were made on, checked at every start.

A change is replayed through the same backend calls, on the same seeded world: with another
seed, contact count, fixture set, contract, clock mode or version of the mock the same calls
could give other ids, or be refused, so the mock refuses to start and names the difference.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from mock_server import __version__
from mock_server.contract.loader import default_contract_path
from mock_server.durable.logfile import StateError
from mock_server.settings import Settings

FORMAT = 1  # of the records; a reader refuses a format it does not know


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def header_of(settings: Settings) -> dict[str, Any]:
    return {
        "k": "header",
        "format": FORMAT,
        "mock": __version__,
        "seed": settings.seed,
        "contacts": settings.contacts,
        "fixtures": [[path.name, _digest(path)] for path in settings.fixtures],
        "contract": _digest(settings.contract_path or default_contract_path()),
        "clock": settings.clock,
    }


_FLAGS = {"seed": "--seed", "contacts": "--contacts", "clock": "--clock"}


def check_header(path: str, written: dict[str, Any], now: dict[str, Any]) -> None:
    """Raise `StateError` naming every difference between the log's header and this start's."""
    if written.get("k") != "header":
        raise StateError(f"state file {path} does not start with a header record")
    if written.get("format") != FORMAT:
        raise StateError(f"state file {path} has record format {written.get('format')!r}; this mock reads "
                         f"format {FORMAT}: use the version of the mock that wrote it, or another --state file")
    differences = []
    for name, flag in _FLAGS.items():
        if written.get(name) != now[name]:
            differences.append(f"{flag} {written.get(name)} (now {now[name]})")
    if written.get("fixtures") != now["fixtures"]:
        differences.append(f"fixtures {_fixtures(written.get('fixtures'))} (now {_fixtures(now['fixtures'])})")
    if written.get("contract") != now["contract"]:
        differences.append("another contract file (its SHA-256 differs)")
    if written.get("mock") != now["mock"]:
        differences.append(f"brevo-loyalty-mock {written.get('mock')} (now {now['mock']}), whose rules may differ")
    if differences:
        raise StateError(f"state file {path} was written with " + "; ".join(differences)
                         + ". Its changes replay only on the same world: start with those settings, "
                         "or use another --state file")


def _fixtures(fixtures: Any) -> str:
    if not fixtures:
        return "none"
    return ", ".join(f"{name} (sha256 {digest[:12]})" for name, digest in fixtures)
