"""Find and load the contract file."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

CONTRACT_NAME = "loyalty.openapi.yaml"

try:  # libyaml's loader is several times faster than the pure-Python one
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


class ContractError(RuntimeError):
    """The contract file is missing or uses something the compiler does not support."""


def default_contract_path() -> Path:
    """The packaged contract of an installed mock, else the repository's `contracts/`."""
    packaged = resources.files("mock_server") / "_data" / CONTRACT_NAME
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "contracts" / CONTRACT_NAME
    if checkout.is_file():
        return checkout
    raise ContractError(f"cannot find {CONTRACT_NAME}: neither packaged nor in a checkout's contracts/")


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_Loader)
    if not isinstance(document, dict) or "paths" not in document:
        raise ContractError(f"{path}: not an OpenAPI document (no 'paths')")
    return document


def load_contract(path: Path | None = None) -> dict[str, Any]:
    """The contract as a dict (cached per file version; treat it as read-only)."""
    path = (path or default_contract_path()).resolve()
    try:
        return _load(path, path.stat().st_mtime_ns)
    except OSError as error:
        raise ContractError(f"{path}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise ContractError(f"{path}: invalid YAML: {error}") from None
    except UnicodeDecodeError:
        raise ContractError(f"{path}: is not UTF-8 text") from None


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref``s (``#/components/...``) until a concrete node."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            raise ContractError(f"unsupported or circular $ref {ref!r}")
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise ContractError(f"$ref {ref!r} points nowhere")
            target = target[part]
        node = target
    return node
