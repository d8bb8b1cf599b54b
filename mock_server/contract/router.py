"""Match a request path to its operations with a tree of path segments.

Literal segments are dictionary look-ups; a template segment (``{pid}``)
matches any one segment. A literal wins over a template at the same depth,
with backtracking, so ``/rewards/attribute`` and ``/rewards/{rid}`` coexist.
The cost of a match depends on the depth of the path, not on the number of
operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mock_server.contract.operations import Operation


@dataclass(slots=True)
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    template: _Node | None = None
    methods: dict[str, Operation] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    methods: dict[str, Operation]  # every method the path supports
    values: list[str]  # the template segments' raw values, in path order


class Router:
    def __init__(self) -> None:
        self._root = _Node()

    def add(self, template: str, operation: Operation) -> None:
        node = self._root
        for segment in template.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                node.template = node.template or _Node()
                node = node.template
            else:
                node = node.literals.setdefault(segment, _Node())
        node.methods[operation.method] = operation

    def match(self, segments: list[str]) -> RouteMatch | None:
        values: list[str] = []
        node = self._walk(self._root, segments, 0, values)
        return RouteMatch(node.methods, values) if node is not None else None

    def _walk(self, node: _Node, segments: list[str], index: int, values: list[str]) -> _Node | None:
        if index == len(segments):
            return node if node.methods else None
        segment = segments[index]
        child = node.literals.get(segment)
        if child is not None:
            found = self._walk(child, segments, index + 1, values)
            if found is not None:
                return found
        if node.template is not None:
            values.append(segment)
            found = self._walk(node.template, segments, index + 1, values)
            if found is not None:
                return found
            values.pop()
        return None
