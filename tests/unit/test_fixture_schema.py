"""The JSON Schema of fixtures that editors use says what the loader says.

Both come from `mock_server.fixture_format.SHAPES`. Here: the shipped file is
what the code builds, the shipped fixtures point at it, and for every mapping of
a document covering every kind, each way of breaking its shape (an unknown key,
a missing required key, a value of the wrong type, a value outside an enum, two
keys that exclude each other, none of two keys one of which is needed) is
refused by both or accepted by both.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mock_server.fixture_format import SHAPES, Shape, fixture_schema, schema_text
from mock_server.fixtures import FixtureError, load_fixture, shipped_fixture, shipped_schema

ROOT = Path(__file__).resolve().parents[2]
MODELINE = "# yaml-language-server: $schema="
VALIDATOR = jsonschema.Draft7Validator(fixture_schema())

SECOND_PROGRAM = {  # the kinds and alternatives the widget member does not use
    "name": "Second",
    "state": "inactive",
    "balanceDefinitions": [{"name": "Cash", "unit": "EUR", "internal": True, "expiry": None}],
    "offers": [{"name": "Fixed", "code": "WELCOME", "value": "12.50"}],
    "members": [{"contactId": 7, "subscribedAt": "2025-01-01T00:00:00Z",
                 "balances": [{"balanceDefinition": "Cash", "balance": 12.5, "transactionCount": 3}],
                 "vouchers": [{"offer": "Fixed", "code": "WELCOME", "consumedAt": None, "meta": {"a": 1}}]}],
}


def base_document() -> dict[str, Any]:
    path = shipped_fixture("widget-member")
    assert path is not None
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["programs"].append(copy.deepcopy(SECOND_PROGRAM))
    return document


def loader_accepts(document: Any, tmp_path: Path) -> bool:
    path = tmp_path / "case.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML: the editor's view of the file
    try:
        load_fixture(path)
    except FixtureError:
        return False
    return True


def _kind_of(schema: dict[str, Any]) -> str | None:
    for candidate in (schema.get("items", {}), *schema.get("anyOf", [])):
        ref = candidate.get("$ref", "")
        if ref.startswith("#/definitions/"):
            return ref.removeprefix("#/definitions/")
    return None


def mappings(node: Any, kind: str, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every mapping of the document with its kind, found through the shapes' own references."""
    yield path, kind
    for key, value in node.items():
        child = _kind_of(SHAPES[kind].properties[key])
        if child is None:
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from mappings(item, child, (*path, key, index))
        elif isinstance(value, dict):
            yield from mappings(value, child, (*path, key))


def _valid_sample(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "array" or kind == ["array", "null"]:
        return []
    return "X"


def mutations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, kind in mappings(document, "fixture"):
        shape = SHAPES[kind]

        def mutate(change: Any, label: str, path: tuple[Any, ...] = path,
                   kind: str = kind) -> tuple[str, dict[str, Any]]:
            changed = copy.deepcopy(document)
            node = changed
            for step in path:
                node = node[step]
            change(node)
            return f"{kind} at {list(path)}: {label}", changed

        yield mutate(lambda node: node.update(colour="blue"), "unknown key")
        for key in shape.required:
            yield mutate(lambda node, key=key: node.pop(key), f"without {key}")
        for key, schema in shape.properties.items():
            wrong = [1] if schema.get("type") == ["object", "null"] else {"x": 1}
            yield mutate(lambda node, key=key, wrong=wrong: node.__setitem__(key, wrong), f"{key} of a wrong type")
            if "enum" in schema:
                yield mutate(lambda node, key=key: node.__setitem__(key, "bogus"), f"{key} outside its enum")
        for first, second, _ in shape.exclusive:
            def both(node: dict[str, Any], first: str = first, second: str = second, shape: Shape = shape) -> None:
                for key in (first, second):
                    node.setdefault(key, _valid_sample(shape.properties[key]))
            yield mutate(both, f"{first} and {second}")
        if shape.needs_one_of is not None:
            keys = shape.needs_one_of[0]
            yield mutate(lambda node, keys=keys: [node.pop(key, None) for key in keys], f"none of {keys}")


def alternatives(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Valid variants: every option of the enums whose choice no other rule of the loader depends on."""
    for path, kind in mappings(document, "fixture"):
        if kind not in ("program", "offer", "balanceDefinition", "expiry"):
            continue
        for key, schema in SHAPES[kind].properties.items():
            for option in schema.get("enum", []):
                changed = copy.deepcopy(document)
                node = changed
                for step in path:
                    node = node[step]
                node[key] = option
                yield f"{kind} at {list(path)}: {key} {option}", changed


def test_the_shipped_schema_is_the_one_the_loader_rules_build() -> None:
    shipped = shipped_schema()
    assert shipped is not None and shipped == ROOT / "fixtures" / "fixture.schema.json"
    assert shipped.read_text(encoding="utf-8") == schema_text(), \
        "regenerate it: brevo-loyalty-mock fixture-schema > fixtures/fixture.schema.json"
    jsonschema.Draft7Validator.check_schema(fixture_schema())


def test_every_shipped_fixture_points_editors_at_the_schema_and_keeps_to_it() -> None:
    fixtures = sorted((ROOT / "fixtures").glob("*.y*ml"))
    assert fixtures
    for path in fixtures:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(MODELINE), f"{path.name}: first line must be the yaml-language-server modeline"
        assert (path.parent / first.removeprefix(MODELINE)).resolve() == shipped_schema()
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        assert VALIDATOR.is_valid(json.loads(json.dumps(document, default=str)))
        load_fixture(path)


def test_the_schema_and_the_loader_agree_on_every_broken_shape(tmp_path: Path) -> None:
    document = base_document()
    assert loader_accepts(document, tmp_path) and VALIDATOR.is_valid(document)
    cases = list(mutations(document))
    assert len(cases) > 150  # every kind of mapping is reached
    valid = list(alternatives(document))
    assert len(valid) > 30
    cases += valid
    assert {kind for _, kind in mappings(document, "fixture")} == set(SHAPES)
    disagreements = []
    for label, changed in cases:
        by_loader, by_schema = loader_accepts(changed, tmp_path), VALIDATOR.is_valid(changed)
        if by_loader != by_schema:
            disagreements.append(f"{label}: loader {'accepts' if by_loader else 'refuses'}, "
                                 f"schema {'accepts' if by_schema else 'refuses'}")
    assert disagreements == []


@pytest.mark.parametrize("flags", [[], ["--path"]])
def test_the_command_prints_the_schema_or_where_it_is(flags: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "fixture-schema", *flags], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    if flags:
        assert Path(done.stdout.strip()) == shipped_schema()
    else:
        assert json.loads(done.stdout) == fixture_schema()
