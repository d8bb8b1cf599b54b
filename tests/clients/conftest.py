"""What the official-client tests share: the Node client, when it is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[2] / "examples" / "node"  # where `npm ci` installs @getbrevo/brevo


@pytest.fixture(scope="module")
def node() -> str:
    """The node executable, or a skip saying what is missing."""
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed")
    if not (NODE_DIR / "node_modules" / "@getbrevo" / "brevo").is_dir():
        pytest.skip("@getbrevo/brevo is not installed: `npm ci --prefix examples/node`")
    return found
