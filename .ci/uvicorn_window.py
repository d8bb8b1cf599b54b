"""Print the uvicorn requirement of one end of the window pyproject.toml allows: `oldest` or `newest`.

pyproject.toml holds the pin (``uvicorn>=LOW,<HIGH``), the one place the window is
written; `make test-uvicorn-window` installs each end in a virtualenv of its own:
``uvicorn==LOW`` for the oldest, the pin itself for the newest (pip picks the newest
release it allows). Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
PIN = re.compile(r"uvicorn\s*>=\s*([0-9][0-9.]*)\s*,\s*<\s*([0-9][0-9.]*)")


def requirement(end: str) -> str:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    for dependency in dependencies:
        if match := PIN.fullmatch(dependency.replace(" ", "")):
            low, high = match.groups()
            return f"uvicorn=={low}" if end == "oldest" else f"uvicorn>={low},<{high}"
    raise SystemExit("pyproject.toml pins uvicorn without a window of the form 'uvicorn>=LOW,<HIGH'")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("oldest", "newest"):
        raise SystemExit("usage: uvicorn_window.py oldest|newest")
    print(requirement(sys.argv[1]))
