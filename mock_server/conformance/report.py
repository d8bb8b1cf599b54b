"""What a conformance run found: per operation and per property, with a curl that reproduces it.

One `Report` collects the schemathesis findings (runner), the semantic
properties (properties) and run-level problems. It renders as Markdown (also
what the command prints) or JSON, and decides the exit status:

    0  every selected operation was tested and nothing failed
    1  a check or a property failed, or the run hit an error
    3  nothing failed, but the run stopped early (request budget, rate-limit window)
       so some operations were not tested
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

EXIT_PASSED, EXIT_FAILED, EXIT_INCOMPLETE = 0, 1, 3
KEY_VARIABLE = "BREVO_API_KEY"
MAX_FINDINGS_PER_OPERATION = 8  # distinct findings shown per operation; the rest are counted
MAX_MESSAGE_CHARS = 1500
MAX_WRITES_LISTED = 200  # writes listed one by one in the Markdown report (the JSON report has all)


@dataclass
class Finding:
    check: str  # schemathesis check name (`response_schema_conformance`), or property name
    title: str
    message: str
    curl: str  # a command that reproduces the request (several lines for a stateful sequence)
    phase: str  # examples, coverage, fuzzing, stateful, properties


@dataclass
class OperationResult:
    operation_id: str
    label: str  # "GET /loyalty/config/programs"
    tested: bool = False
    findings: list[Finding] = field(default_factory=list)
    hidden_findings: int = 0  # distinct findings past MAX_FINDINGS_PER_OPERATION
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.findings:
            return "failed"
        if self.errors:
            return "error"
        return "passed" if self.tested else "not tested"

    @property
    def failing_checks(self) -> list[str]:
        return sorted({finding.check for finding in self.findings})

    def add(self, finding: Finding) -> None:
        """Keep one finding per (check, title, first message line): the same bug found twice is one bug."""
        key = (finding.check, finding.title, finding.message.split("\n", 1)[0])
        if any((f.check, f.title, f.message.split("\n", 1)[0]) == key for f in self.findings):
            return
        if len(self.findings) >= MAX_FINDINGS_PER_OPERATION:
            self.hidden_findings += 1
            return
        self.findings.append(finding)


@dataclass
class PropertyResult:
    name: str
    description: str
    scope: str  # "any server" or "seeded mock"
    status: str = "passed"  # passed, failed, skipped
    message: str = ""
    curls: list[str] = field(default_factory=list)


@dataclass
class Report:
    target: str
    seed: int | None = None
    max_examples: int | None = None
    operations: dict[str, OperationResult] = field(default_factory=dict)
    properties: list[PropertyResult] = field(default_factory=list)
    writes: list[PropertyResult] = field(default_factory=list)  # the write sequences (scope: where they wrote)
    written: list[str] = field(default_factory=list)  # "METHOD path -> status" of every write the run sent
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests_sent: int | None = None
    duration_seconds: float = 0.0
    stopped_early: str | None = None  # why the run did not test everything

    def operation(self, operation_id: str, label: str) -> OperationResult:
        found = self.operations.get(operation_id)
        if found is None:
            found = self.operations[operation_id] = OperationResult(operation_id, label)
        return found

    @property
    def failed_operations(self) -> list[OperationResult]:
        return [result for result in self.operations.values() if result.status in ("failed", "error")]

    @property
    def failed_properties(self) -> list[PropertyResult]:
        return [result for result in self.properties if result.status == "failed"]

    @property
    def failed_writes(self) -> list[PropertyResult]:
        return [result for result in self.writes if result.status == "failed"]

    @property
    def untested_operations(self) -> list[OperationResult]:
        return [result for result in self.operations.values() if result.status == "not tested"]

    @property
    def exit_code(self) -> int:
        if self.errors or self.failed_operations or self.failed_properties or self.failed_writes:
            return EXIT_FAILED
        if self.stopped_early or self.untested_operations:
            return EXIT_INCOMPLETE
        return EXIT_PASSED

    @property
    def verdict(self) -> str:
        return {EXIT_PASSED: "PASSED", EXIT_FAILED: "FAILED", EXIT_INCOMPLETE: "INCOMPLETE"}[self.exit_code]

    def findings(self, check: str | None = None) -> list[Finding]:
        """Every finding, or those of one check (used by tests and scripts)."""
        found = [finding for result in self.operations.values() for finding in result.findings]
        return [finding for finding in found if check is None or finding.check == check]

    # -- rendering --------------------------------------------------------

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["verdict"] = self.verdict
        data["exit_code"] = self.exit_code
        data["operations"] = [
            {**asdict(result), "status": result.status} for result in self.operations.values()
        ]
        return json.dumps(data, indent=2)

    def to_markdown(self) -> str:
        lines = [
            "# Conformance report",
            "",
            f"- target: {self.target}",
            f"- result: **{self.verdict}**" + self._counts(),
        ]
        if self.seed is not None or self.max_examples is not None:
            lines.append(f"- seed {self.seed}, max examples {self.max_examples}")
        if self.requests_sent is not None:
            lines.append(f"- {self.requests_sent} request(s) in {self.duration_seconds:.1f} s")
        else:
            lines.append(f"- {self.duration_seconds:.1f} s")
        if self.stopped_early:
            lines.append(f"- stopped early: {self.stopped_early}")
        lines.extend(f"- note: {note}" for note in self.notes)
        lines.append(f"- the curl commands read the API key from ${KEY_VARIABLE}")
        if self.errors:
            lines += ["", "## Run errors", ""]
            lines.extend(f"- {_one_line(error)}" for error in self.errors)

        lines += ["", "## Operations", "", "| operation | result | failing checks |", "| --- | --- | --- |"]
        for result in self.operations.values():
            checks = ", ".join(result.failing_checks) or ("; ".join(result.errors)[:80] if result.errors else "")
            lines.append(f"| `{result.operation_id}` {result.label} | {result.status} | {checks} |")
        for result in self.failed_operations:
            lines += ["", f"### {result.operation_id}: {result.status}", ""]
            lines.extend(f"- error: {_one_line(error)}" for error in result.errors)
            for finding in result.findings:
                lines += _finding_lines(finding)
            if result.hidden_findings:
                lines.append(f"- ... and {result.hidden_findings} more distinct finding(s)")

        if self.properties:
            lines += ["", "## Properties", "", "| property | holds on | result |", "| --- | --- | --- |"]
            for prop in self.properties:
                shown = prop.status if prop.status != "skipped" else f"skipped ({prop.message})"
                lines.append(f"| `{prop.name}`: {prop.description} | {prop.scope} | {shown} |")
            for prop in self.failed_properties:
                lines += ["", f"### property {prop.name}: failed", "", "```", _clip(prop.message), "```"]
                if prop.curls:
                    lines += ["", "Reproduce (the requests of the failing example):", "", "```console"]
                    lines.extend(prop.curls)
                    lines.append("```")
        lines += self._write_lines()
        return "\n".join(lines) + "\n"

    def _write_lines(self) -> list[str]:
        lines: list[str] = []
        if self.writes:
            lines += ["", "## Write sequences", "", "| sequence | wrote in | result |", "| --- | --- | --- |"]
            for result in self.writes:
                shown = result.status if result.status != "skipped" else f"skipped ({_one_line(result.message)})"
                lines.append(f"| `{result.name}`: {result.description} | {result.scope} | {shown} |")
            for result in self.failed_writes:
                lines += ["", f"### write sequence {result.name}: failed", "", "```", _clip(result.message), "```"]
                if result.curls:
                    lines += ["", "Reproduce (the requests of the sequence, in order):", "", "```console"]
                    lines.extend(result.curls)
                    lines.append("```")
        if self.written:
            lines += ["", f"### What was written ({len(self.written)} write(s))", ""]
            lines.extend(f"- `{line}`" for line in self.written[:MAX_WRITES_LISTED])
            if len(self.written) > MAX_WRITES_LISTED:
                lines.append(f"- ... and {len(self.written) - MAX_WRITES_LISTED} more")
        return lines

    def _counts(self) -> str:
        total = len(self.operations)
        failed = len(self.failed_operations)
        parts = [f"{total - failed - len(self.untested_operations)}/{total} operations passed"]
        if failed:
            parts.append(f"{failed} failed")
        if self.untested_operations:
            parts.append(f"{len(self.untested_operations)} not tested")
        if self.properties:
            held = sum(1 for prop in self.properties if prop.status == "passed")
            parts.append(f"{held}/{len(self.properties)} properties held")
        if self.writes:
            held = sum(1 for result in self.writes if result.status == "passed")
            parts.append(f"{held}/{len(self.writes)} write sequences passed")
        return " (" + ", ".join(parts) + ")"


def _finding_lines(finding: Finding) -> list[str]:
    return [
        f"- **{finding.check}** ({finding.phase}): {finding.title}",
        "",
        "  ```",
        *("  " + line for line in _clip(finding.message).splitlines()),
        "  ```",
        "",
        "  ```console",
        *("  " + line for line in finding.curl.splitlines()),
        "  ```",
    ]


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "\n…"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def redact_key(command: str, api_key: str | None) -> str:
    """Make a curl read the key from $BREVO_API_KEY, so that reports never hold a real key.

    Only the key under test is replaced: a wrong key that a check sent on
    purpose (to prove auth is enforced) stays, since it is what reproduces.
    """
    if not api_key:
        return command
    quoted = re.escape(api_key)
    command = re.sub(rf"'api-key: {quoted}'", f'"api-key: ${KEY_VARIABLE}"', command)
    return command.replace(api_key, f"${KEY_VARIABLE}")
