"""The report: exit statuses, de-duplicated findings, and curls that never hold the key under test."""

from __future__ import annotations

import json

from mock_server.conformance.report import (
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_PASSED,
    Finding,
    PropertyResult,
    Report,
    redact_key,
)

KEY = "xkeysib-secret"


def finding(check: str = "status_code_conformance", message: str = "Received: 201") -> Finding:
    return Finding(check, "Undocumented status code", message, f"curl -X GET -H 'api-key: {KEY}' 'http://x/v3/a'",
                   "coverage")


def test_the_exit_status_says_passed_failed_or_incomplete() -> None:
    report = Report("http://x/v3")
    report.operation("getLPList", "GET /a").tested = True
    assert report.exit_code == EXIT_PASSED and report.verdict == "PASSED"
    report.operation("getLoyaltyProgramInfo", "GET /b")
    assert report.exit_code == EXIT_INCOMPLETE  # an operation the run never reached
    report.operations["getLoyaltyProgramInfo"].tested = True
    report.stopped_early = "request budget of 500 spent"
    assert report.exit_code == EXIT_INCOMPLETE
    report.properties.append(PropertyResult("paging", "pages", "any server", status="failed", message="x"))
    assert report.exit_code == EXIT_FAILED and report.verdict == "FAILED"


def test_the_same_finding_twice_is_one_finding() -> None:
    report = Report("http://x/v3")
    result = report.operation("getLPList", "GET /a")
    result.add(finding(message="Received: 201\n\nGot 201: first"))
    result.add(finding(message="Received: 201\n\nGot 201: second"))
    result.add(finding(check="content_type_conformance"))
    assert [f.check for f in result.findings] == ["status_code_conformance", "content_type_conformance"]
    assert result.status == "failed" and report.exit_code == EXIT_FAILED


def test_curls_read_the_key_from_the_environment() -> None:
    assert redact_key(f"curl -X GET -H 'api-key: {KEY}' 'http://x/v3/a'", KEY) == \
        'curl -X GET -H "api-key: $BREVO_API_KEY" \'http://x/v3/a\''
    # A wrong key sent on purpose (to prove auth is enforced) is what reproduces: it stays.
    assert redact_key("curl -X GET -H 'api-key: wrong' 'http://x/v3/a'", KEY) == \
        "curl -X GET -H 'api-key: wrong' 'http://x/v3/a'"


def test_markdown_and_json_carry_the_same_verdict_and_findings() -> None:
    report = Report("http://x/v3", seed=1, max_examples=5)
    result = report.operation("getLPList", "GET /loyalty/config/programs")
    result.tested = True
    result.add(Finding("status_code_conformance", "Undocumented status code", "Received: 201",
                       redact_key(finding().curl, KEY), "coverage"))
    text = report.to_markdown()
    assert "result: **FAILED** (0/1 operations passed, 1 failed)" in text
    assert "| `getLPList` GET /loyalty/config/programs | failed | status_code_conformance |" in text
    assert KEY not in text and "$BREVO_API_KEY" in text
    data = json.loads(report.to_json())
    assert data["verdict"] == "FAILED" and data["operations"][0]["status"] == "failed"
    assert data["operations"][0]["findings"][0]["check"] == "status_code_conformance"
