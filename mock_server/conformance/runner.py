"""Run the contract's schemathesis checks, and the semantic properties, against any URL.

The contract is loaded from our file (never from the target), the target is
only a base URL and a key. The schemathesis phases and the properties send
reads only (the contract's GET operations: generated writes would change the
target's data at random); writes are sent by the write sequences alone, where
writing is allowed (step 4). One run:

1. discovers ids from the target (`discovery`), so generated requests reach real records;
2. runs the schemathesis engine (examples, coverage, fuzzing and stateful phases,
   every built-in check) with those ids mixed into generation;
3. runs the semantic properties over HTTP (`properties`);
4. runs the stateful write sequences (`writes`) where writing is allowed: on our mock, or in the
   sandbox program named by ``--allow-writes --program PID``; elsewhere the run stays read-only;
5. returns a `Report`.

Every request of the run goes through one `RequestBudget` (counted always,
bounded and paced when the target has a quota), see `budget`.
"""

from __future__ import annotations

import copy
import difflib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from mock_server.conformance.budget import BudgetExhausted, RequestBudget, budget_schemathesis, budgeted_session
from mock_server.conformance.discovery import Ids, TargetRefused, discover
from mock_server.conformance.properties import run_properties
from mock_server.conformance.report import Finding, Report, redact_key
from mock_server.conformance.writes import MOCK, SANDBOX, WriteScope, run_writes
from mock_server.contract.loader import load_contract
from mock_server.contract.operations import HTTP_METHODS, CompiledContract, compile_contract

PHASES = ("examples", "coverage", "fuzzing", "stateful")
# schemathesis' default statuses for a schema-valid request (config/_checks.py).
POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# How often a generated id is drawn from the target's real ids rather than
# generated: high, so most cases reach real records; not 1, so unknown ids
# (the 404 path) are still sent.
ID_PROBABILITY = 0.8

ANSWER_CHARS = 300  # how much of a failing answer's body the report quotes

Progress = Callable[[str], None]


@dataclass
class RunOptions:
    base_url: str
    api_key: str
    max_examples: int = 10
    seed: int | None = 1
    operations: tuple[str, ...] = ()  # operationIds of reads; empty: every read
    phases: tuple[str, ...] = PHASES
    stateful_max_steps: int = 6
    known_ids: dict[str, list[str]] = field(default_factory=dict)
    budget: RequestBudget = field(default_factory=RequestBudget)
    properties: bool = True
    property_names: tuple[str, ...] = ()  # only these properties; empty: all of them
    property_examples: int = 10
    seeded: bool | None = None  # None: detect (the target answers /__mock__/ as our mock)
    contract_path: Path | None = None
    request_timeout: float = 10.0
    shrink: bool = True  # minimise failing cases (off under a request budget: it re-sends them)
    max_time: int | None = None  # seconds for the schemathesis phases
    # Run the write sequences where allowed (our mock, or a sandbox program). None: on our mock unless the
    # budget is read-only (the CLI decides: on, unless --read-only or --no-writes).
    writes: bool | None = None
    allow_writes: bool = False  # with write_program: write into that program of a server that is not our mock
    write_program: str | None = None
    write_names: tuple[str, ...] = ()  # only these write sequences; empty: all of them

    @property
    def read_only(self) -> bool:
        return self.budget.read_only


def operation_labels(document: dict[str, Any]) -> dict[str, str]:
    """operationId -> schemathesis label ("GET /loyalty/config/programs"), in contract order."""
    labels = {}
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            spec = item.get(method)
            if isinstance(spec, dict) and "operationId" in spec:
                labels[spec["operationId"]] = f"{method.upper()} {path}"
    return labels


def check_id_names(contract: CompiledContract, known: Mapping[str, Any]) -> None:
    """`--id NAME=VALUE` names a contract parameter (ids are mixed into generation by parameter name): a name
    that is none, such as a typo, would be ignored in silence."""
    names = sorted({name for operation in contract.operations.values()
                    for name in (*(param.name for param in operation.path_params), *operation.query_params)})
    for name in known:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"--id {name}=...: no parameter of the contract is named {name!r}{hint} "
                             f"(names: {', '.join(names)})")


def selected_operations(document: dict[str, Any], operations: tuple[str, ...] = ()) -> dict[str, str]:
    """operationId -> label of what a run covers: the operations named, else every read (GET) of the contract.

    A write is never selected, so never sent: naming one is an error rather than a silent skip.
    """
    labels = operation_labels(document)
    unknown = sorted(set(operations) - set(labels))
    if unknown:
        raise ValueError(f"unknown operation(s) {', '.join(unknown)}; the contract has {', '.join(labels)}")
    reads = {op: label for op, label in labels.items() if label.startswith("GET ")}
    writes = [op for op in operations if op not in reads]
    if writes:
        raise ValueError(f"{', '.join(writes)}: conformance runs send reads only, and these are writes")
    return {op: label for op, label in reads.items() if not operations or op in operations}


def linked_operations(document: dict[str, Any], selected: set[str]) -> bool:
    """Whether some link of the contract joins two selected operations (stateful runs need one)."""
    for item in (document.get("paths") or {}).values():
        for method in HTTP_METHODS:
            spec = item.get(method)
            if not isinstance(spec, dict) or spec.get("operationId") not in selected:
                continue
            for response in (spec.get("responses") or {}).values():
                for link in (response.get("links") or {}).values() if isinstance(response, dict) else ():
                    if link.get("operationId") in selected:
                        return True
    return False


def run_conformance(options: RunOptions, progress: Progress | None = None) -> Report:
    say = progress or (lambda message: None)
    started = time.monotonic()
    document = copy.deepcopy(load_contract(options.contract_path))
    selected = selected_operations(document, options.operations)
    contract = compile_contract(document)  # once: the ids' names here, the write sequences' bodies below
    check_id_names(contract, options.known_ids)

    report = Report(target=options.base_url, seed=options.seed, max_examples=options.max_examples)
    if any(phase in PHASES for phase in options.phases):
        for operation_id, label in selected.items():
            report.operation(operation_id, label)
    session = budgeted_session(options.budget)
    session.headers["api-key"] = options.api_key

    try:
        say(f"discovering ids on {options.base_url}")
        ids = discover(session, options.base_url, api_key=options.api_key, known=_known_ids(options),
                       timeout=options.request_timeout)
    except TargetRefused as error:
        report.errors.append(str(error))
        return _finish(report, options, started)
    except requests.RequestException as error:
        report.errors.append(f"cannot reach {options.base_url}: {error}")
        return _finish(report, options, started)
    except BudgetExhausted:
        return _finish(report, options, started)  # reported as the reason the run stopped early
    report.notes.extend(ids.notes)
    if options.seeded is not None:
        ids.seeded = options.seeded
    if ids.focus_program:
        report.notes.append(f"ids from the target: program {ids.focus_program}, "
                            + ", ".join(f"{len(v)} {k}" for k, v in sorted(ids.values.items())))
    if options.read_only:
        report.notes.append("read-only target: GET only; the unsupported-method check (which sends writes) is off")

    if "stateful" in options.phases and not linked_operations(document, set(selected)):
        # The same budget object: replace() copies the reference, so every request is still counted.
        options = replace(options, phases=tuple(phase for phase in options.phases if phase != "stateful"))
        report.notes.append("no stateful run: no link of the contract joins two of the selected operations")
    if any(phase in PHASES for phase in options.phases):
        say("running the schemathesis checks")
        _run_schemathesis(document, selected, ids, options, report, say)
    if options.properties and not options.budget.stopped:
        say("checking the semantic properties")
        run_properties(session, options.base_url, ids, report, examples=options.property_examples,
                       seed=options.seed, shrink=options.shrink and options.budget.max_requests is None,
                       only=options.property_names)
    scope = write_scope(options, ids, report)
    if scope is not None and options.budget.stopped:
        report.notes.append("write sequences not run: the request budget was spent first")
    elif scope is not None:
        say("running the write sequences")
        run_writes(session, options.base_url, ids, report, budget=options.budget, contract=contract,
                   scope=scope, seed=options.seed, only=options.write_names)
    return _finish(report, options, started)


def _known_ids(options: RunOptions) -> dict[str, list[str]]:
    """The user's ids; a sandbox program comes first among the programs, so that it is the focus program."""
    known = {name: list(values) for name, values in options.known_ids.items()}
    if options.allow_writes and options.write_program:
        known["pid"] = [options.write_program, *[pid for pid in known.get("pid", []) if pid != options.write_program]]
    return known


def write_scope(options: RunOptions, ids: Ids, report: Report) -> WriteScope | None:
    """Where the write sequences may write, or None (noted in the report) when the run stays read-only."""
    if options.writes is False or (options.writes is None and options.read_only and not options.allow_writes):
        report.notes.append("write sequences off (--no-writes, or a read-only run)")
        return None
    if options.allow_writes and options.write_program:
        report.notes.append(f"writes: only into the sandbox program {options.write_program} (--allow-writes "
                            "--program); no program is created or deleted")
        return WriteScope(SANDBOX, options.write_program)
    if ids.seeded:
        report.notes.append("writes: the target is our mock, so the write sequences run (POST /__mock__/reset "
                            "restores its seeded world)")
        return WriteScope(MOCK)
    report.notes.append("read-only: the target is not our mock; --allow-writes --program PID runs the write "
                        "sequences in a sandbox program")
    return None


def _finish(report: Report, options: RunOptions, started: float) -> Report:
    report.requests_sent = options.budget.sent
    report.duration_seconds = time.monotonic() - started
    if options.budget.stopped:
        report.stopped_early = options.budget.stopped
    if options.budget.rate_limited or options.budget.waited_seconds:
        report.notes.append(options.budget.summary())
    return report


def _not_found_overrides(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Let valid-looking ids that name nothing answer the documented status, where it is not 404.

    schemathesis accepts a 404 for a schema-valid request (the id may not
    exist); operations that document no 404 answer an unknown id with their
    documented 400 or 422 instead (contracts/README.md), which is not a
    rejection of valid data.
    """
    overrides = []
    for item in (document.get("paths") or {}).values():
        for method in HTTP_METHODS:
            spec = item.get(method)
            if not isinstance(spec, dict) or "operationId" not in spec:
                continue
            statuses = {str(code) for code in spec.get("responses", {})}
            if "404" in statuses:
                continue
            not_found = next((code for code in ("400", "422") if code in statuses), None)
            if not_found is None:
                continue
            overrides.append({
                "include-operation-id": spec["operationId"],
                "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_EXPECTED, not_found]}},
            })
    return overrides


def schemathesis_config(options: RunOptions, ids: Ids, document: dict[str, Any]) -> dict[str, Any]:
    """The run's configuration, as a schemathesis.toml would hold it."""
    enabled = set(options.phases)
    coverage: dict[str, Any] = {"enabled": "coverage" in enabled}
    if options.read_only:
        coverage["unexpected-methods"] = []  # they would be writes on the real API
    config: dict[str, Any] = {
        "color": False,
        "cache": {"enabled": False},  # nothing written to the user's directory
        "base-url": options.base_url.rstrip("/"),
        "auth": {"openapi": {"api-key": {"api_key": options.api_key}}},
        "request-timeout": options.request_timeout,
        # We redact the key ourselves (report.redact_key): the curls must stay runnable.
        "output": {"sanitization": {"enabled": False}},
        # No undeclared query parameters as "invalid" input: Brevo tolerates them, and so does the
        # contract (contracts/README.md); the client check reports them instead.
        "generation": {"max-examples": options.max_examples, "mode": "all", "database": "none",
                       "allow-extra-parameters": False},
        "phases": {
            "examples": {"enabled": "examples" in enabled},
            "coverage": coverage,
            "fuzzing": {"enabled": "fuzzing" in enabled},
            "stateful": {"enabled": "stateful" in enabled, "max-steps": max(2, options.stateful_max_steps)},
        },
        "checks": {
            "enabled": True,
            "unsupported_method": {"enabled": not options.read_only},
        },
        "warnings": False,
    }
    if options.seed is not None:
        config["seed"] = options.seed
    if options.max_time is not None:
        config["max-time"] = options.max_time
    if not options.shrink or options.budget.max_requests is not None:
        # Shrinking a failure re-sends it many times: not with a quota.
        config["generation"]["no-shrink"] = True
    operations = _not_found_overrides(document)
    if operations:
        config["operations"] = operations
    values = {name: found for name, found in ids.values.items() if found}
    if values:
        config["dictionaries"] = {name: {"values": found} for name, found in values.items()}
        config["parameters"] = {name: {"dictionary": name, "probability": ID_PROBABILITY} for name in values}
    return config


def build_schema(document: dict[str, Any], options: RunOptions, ids: Ids) -> Any:
    """The contract as a schemathesis schema, configured for this run (also for `as_state_machine()`)."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    config = SchemathesisConfig.from_dict(schemathesis_config(options, ids, document))
    schema = schemathesis.openapi.from_dict(document, config=config)
    # Reads only (see the module docstring), by exclusion: schemathesis ORs include filters with the one its
    # configuration adds (which lets every operation through), while any exclusion holds; and an excluded
    # operation's method is never sent by the coverage phase as an "unexpected" one either.
    selected = selected_operations(document, options.operations)
    return schema.exclude(operation_id=[op for op in operation_labels(document) if op not in selected])


def _run_schemathesis(
    document: dict[str, Any], selected: dict[str, str], ids: Ids, options: RunOptions, report: Report,
    say: Progress,
) -> None:
    from schemathesis.engine import events, from_schema

    schema = build_schema(document, options, ids)
    by_label = {label: operation_id for operation_id, label in selected.items()}

    with budget_schemathesis(options.budget):
        stream = from_schema(schema).execute()
        for event in stream:
            if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
                _collect(event, by_label, options, report)
            elif isinstance(event, events.NonFatalError):
                _collect_error(event, by_label, options, report)
            elif isinstance(event, events.FatalError):
                report.errors.append(f"schemathesis failed: {event.exception!r}")
            elif isinstance(event, events.PhaseFinished):
                say(f"  {event.phase.name.value} phase: {event.status.value}")
            if options.budget.stopped:
                stream.stop()


def _collect(event: Any, by_label: dict[str, str], options: RunOptions, report: Report) -> None:
    recorder = event.recorder
    phase = getattr(event, "phase", None)
    phase_name = phase.value if phase is not None else "fuzzing"
    for case_id, node in recorder.cases.items():
        interaction = recorder.interactions.get(case_id)
        operation_id = by_label.get(node.value.operation.label)
        if operation_id and interaction is not None and interaction.response is not None:
            report.operations[operation_id].tested = True
    for case_id, checks in recorder.checks.items():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            operation_id = by_label.get(failure.operation or "")
            if operation_id is None:  # a failure on an operation outside the selection
                continue
            report.operations[operation_id].add(Finding(
                check=check.name,
                title=failure.title,
                message=failure.message + _answer(recorder, failure.case_id or case_id),
                curl=redact_key(info.code_sample, options.api_key),
                phase=phase_name,
            ))


def _answer(recorder: Any, case_id: str) -> str:
    """The status and start of the body the failing request got (schemathesis messages often omit them)."""
    interaction = recorder.interactions.get(case_id)
    response = getattr(interaction, "response", None)
    if response is None:
        return ""
    body = response.content[:ANSWER_CHARS].decode("utf-8", "replace") if response.content else ""
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    return f"\n\nGot {response.status_code} ({content_type or 'no content-type'}): {body}"


def _collect_error(event: Any, by_label: dict[str, str], options: RunOptions, report: Report) -> None:
    error = event.value
    if isinstance(error, BudgetExhausted) or any(isinstance(e, BudgetExhausted) for e in _causes(error)):
        return  # reported once, as the reason the run stopped early
    text = f"{event.info.title}: {event.info.message}".strip() if hasattr(event.info, "message") else str(error)
    operation_id = by_label.get(event.label)
    if operation_id is not None:
        report.operations[operation_id].errors.append(redact_key(text, options.api_key))
    else:
        report.errors.append(redact_key(f"{event.label}: {text}", options.api_key))


def _causes(error: BaseException) -> list[BaseException]:
    found = []
    current: BaseException | None = error
    while current is not None and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found
