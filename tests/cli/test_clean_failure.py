"""Every failure a user can cause ends in one line on stderr naming the problem, and exit status 2.

The real command runs in a subprocess for each case (all cases at once, in a
thread pool: each is a short-lived Python process). A case passes when the
command exits 2 without serving, prints exactly one line on stderr that starts
with the program's name and contains what the case names, prints nothing on
stdout, and shows no traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli.proc import run


@dataclass(frozen=True)
class Failure:
    name: str
    args: tuple[str, ...]
    names: tuple[str, ...]  # fragments the error line must contain
    env: dict[str, str] = field(default_factory=dict)


def _write(folder: Path, name: str, content: bytes) -> str:
    path = folder / name
    path.write_bytes(content)
    return str(path)


def failures(folder: Path, busy_port: int) -> list[Failure]:
    directory = folder / "a-directory.yaml"
    directory.mkdir()
    dangling = folder / "dangling.yaml"
    dangling.symlink_to(folder / "nowhere.yaml")
    binary = _write(folder, "binary.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    bad_yaml = _write(folder, "bad.yaml", b"programs: [unclosed\n  - {name: x\n")
    wrong_shape = _write(folder, "list.yaml", b"- just\n- a list\n")
    empty = _write(folder, "empty.yaml", b"")
    duplicate_key = _write(folder, "dup.yaml", b"name: a\nname: b\n")
    not_contract = _write(folder, "contract.yaml", b"just: a mapping\n")
    binary_contract = _write(folder, "contract.bin", b"\x00\x01\x02\xff")
    serve = ("serve", "--port", "0", "--contacts", "5", "--no-access-log")
    cases = [
        # flags
        Failure("port-not-a-number", ("serve", "--port", "abc"), ("--port", "'abc'")),
        Failure("port-too-big", ("serve", "--port", "70000"), ("--port", "70000")),
        Failure("port-negative", ("serve", "--port", "-1"), ("--port",)),
        Failure("seed-not-a-number", ("serve", "--seed", "1.5"), ("--seed", "'1.5'")),
        Failure("seed-negative", ("serve", "--seed", "-1"), ("--seed",)),
        Failure("contacts-zero", ("serve", "--contacts", "0"), ("--contacts", "0")),
        Failure("contacts-too-many", ("serve", "--contacts", "100000000"), ("--contacts", "100000000")),
        Failure("rate-limit-words", ("serve", "--rate-limit", "lots"), ("rate limit", "'lots'")),
        Failure("workers-zero", ("serve", "--workers", "0"), ("--workers",)),
        Failure("state-not-a-state-file", (*serve, "--state", binary), ("state file", "corrupt at byte 0",
                                                                         "magic")),
        Failure("state-a-directory", (*serve, "--state", str(directory)), ("cannot open state file",
                                                                            "a-directory.yaml")),
        Failure("unknown-flag", ("serve", "--bogus"), ("--bogus", "(see 'brevo-loyalty-mock serve --help')")),
        Failure("misspelt-flag", ("serve", "--prot", "9000"), ("--prot (did you mean --port?) 9000",
                                                              "(see 'brevo-loyalty-mock serve --help')")),
        Failure("misspelt-flag-of-world", ("world", "--sampel=3"), ("--sampel=3 (did you mean --sample?)",
                                                                    "brevo-loyalty-mock world: error")),
        Failure("unknown-command", ("bogus",), ("'bogus'",)),
        Failure("no-command", (), ("COMMAND",)),
        Failure("flag-without-value", ("serve", "--port"), ("--port",)),
        Failure("world-sample-words", ("world", "--sample", "x"), ("--sample", "'x'")),
        Failure("conformance-timeout-zero", ("conformance", "--mock", "--timeout", "0"), ("--timeout", "above 0")),
        Failure("proxy-timeout-negative", ("proxy", "--upstream", "http://127.0.0.1:9/v3", "--timeout", "-1"),
                ("--timeout", "above 0")),
        Failure("webhooks-timeout-nan", ("conformance-webhooks", "--target", "http://127.0.0.1:9/h", "--timeout",
                                         "nan"), ("--timeout", "above 0")),
        Failure("conformance-report-unwritable",
                ("conformance", "--mock", "--report", str(folder / "bad.yaml" / "r.md")), ("--report", "cannot write")),
        Failure("conformance-id-typo", ("conformance", "--mock", "--id", "bdi=x"),
                ("--id bdi=...", "did you mean 'bdid'?")),
        Failure("conformance-nothing-to-run", ("conformance", "--mock", "--phases=", "--no-properties",
                                               "--no-writes"), ("nothing to run",)),
        # keys and organisations
        Failure("api-key-empty", (*serve, "--api-key", "=acme"), ("'=acme'", "empty")),
        Failure("organisation-empty", (*serve, "--api-key", "key="), ("'key='", "organisation")),
        Failure("api-key-with-space", (*serve, "--api-key", "my key"), ("'my key'",)),
        Failure("api-key-non-ascii", (*serve, "--api-key", "clé"), ("'clé'",)),
        Failure("api-key-two-organisations", (*serve, "--api-key", "k=acme", "--api-key", "k=globex"),
                ("'k'", "'acme'", "'globex'")),
        Failure("api-key-also-forbidden", (*serve, "--api-key", "k", "--forbidden-key", "k"), ("'k'", "forbidden")),
        # fixtures and contract
        Failure("fixture-missing", (*serve, "--fixture", str(folder / "nope.yaml")), ("nope.yaml", "cannot be read")),
        Failure("fixture-unknown-name", (*serve, "--fixture", "no-such-fixture"), ("'no-such-fixture'",)),
        Failure("fixture-directory", (*serve, "--fixture", str(directory)), ("a-directory.yaml",)),
        Failure("fixture-dangling-link", (*serve, "--fixture", str(dangling)), ("dangling.yaml",)),
        Failure("fixture-binary", (*serve, "--fixture", binary), ("binary.yaml", "UTF-8")),
        Failure("fixture-bad-yaml", (*serve, "--fixture", bad_yaml), ("bad.yaml", "YAML")),
        Failure("fixture-wrong-shape", (*serve, "--fixture", wrong_shape), ("list.yaml",)),
        Failure("fixture-empty", (*serve, "--fixture", empty), ("empty.yaml", "empty")),
        Failure("fixture-duplicate-key", (*serve, "--fixture", duplicate_key), ("dup.yaml", "duplicate")),
        Failure("world-fixture-bad-yaml", ("world", "--fixture", bad_yaml), ("bad.yaml", "YAML")),
        Failure("contract-missing", (*serve, "--contract", str(folder / "nope.yaml")), ("nope.yaml",)),
        Failure("contract-not-openapi", (*serve, "--contract", not_contract), ("contract.yaml",)),
        Failure("contract-binary", (*serve, "--contract", binary_contract), ("contract.bin",)),
        # where to listen
        Failure("port-in-use", ("serve", "--port", str(busy_port), "--contacts", "5"),
                (str(busy_port), "already in use")),
        Failure("host-not-local", ("serve", "--port", "0", "--host", "192.0.2.1"), ("192.0.2.1",)),
        Failure("host-unresolvable", ("serve", "--port", "0", "--host", "no-such-host.invalid"),
                ("no-such-host.invalid",)),
        # environment
        Failure("env-port", ("serve",), ("BREVO_MOCK_PORT", "'abc'"), {"BREVO_MOCK_PORT": "abc"}),
        Failure("env-seed", ("serve",), ("BREVO_MOCK_SEED", "-3"), {"BREVO_MOCK_SEED": "-3"}),
        Failure("env-contacts", ("serve",), ("BREVO_MOCK_CONTACTS", "'1e3'"), {"BREVO_MOCK_CONTACTS": "1e3"}),
        Failure("env-api-keys-empty-list", ("serve", "--port", "0"), ("api key",), {"BREVO_MOCK_API_KEYS": ","}),
        Failure("env-api-keys-bad-entry", ("serve", "--port", "0"), ("'b='",), {"BREVO_MOCK_API_KEYS": "a,b="}),
        Failure("env-access-log", ("serve",), ("BREVO_MOCK_ACCESS_LOG", "'maybe'"),
                {"BREVO_MOCK_ACCESS_LOG": "maybe"}),
        Failure("env-check-client", ("serve",), ("BREVO_MOCK_CHECK_CLIENT",), {"BREVO_MOCK_CHECK_CLIENT": "perhaps"}),
        Failure("env-admin", ("serve",), ("BREVO_MOCK_ADMIN", "'2'"), {"BREVO_MOCK_ADMIN": "2"}),
        Failure("env-rate-limit", ("serve",), ("rate limit", "'x/day'"), {"BREVO_MOCK_RATE_LIMIT": "x/day"}),
        Failure("env-workers", ("serve",), ("BREVO_MOCK_WORKERS", "100"), {"BREVO_MOCK_WORKERS": "100"}),
        Failure("env-state-not-a-state-file", ("serve", "--port", "0"), ("corrupt at byte 0",),
                {"BREVO_MOCK_STATE": bad_yaml}),
        Failure("env-read-only", ("serve",), ("BREVO_MOCK_READ_ONLY", "'sometimes'"),
                {"BREVO_MOCK_READ_ONLY": "sometimes"}),
        Failure("env-fixtures", ("serve", "--port", "0"), ("nope.yaml",),
                {"BREVO_MOCK_FIXTURES": str(folder / "nope.yaml")}),
        Failure("env-contract", ("serve", "--port", "0"), ("nope.yaml",),
                {"BREVO_MOCK_CONTRACT": str(folder / "nope.yaml")}),
        Failure("env-host", ("serve", "--port", "0"), ("no-such-host.invalid",),
                {"BREVO_MOCK_HOST": "no-such-host.invalid"}),
    ]
    if os.geteuid() != 0:  # root reads any file, whatever its mode
        unreadable = _write(folder, "unreadable.yaml", b"name: x\n")
        os.chmod(unreadable, 0)
        cases.append(Failure("fixture-unreadable", (*serve, "--fixture", unreadable), ("unreadable.yaml",)))
    return cases


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory, busy_port: int
             ) -> dict[str, tuple[Failure, subprocess.CompletedProcess[str]]]:
    folder = tmp_path_factory.mktemp("bad-inputs")
    cases = failures(folder, busy_port)
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = pool.map(lambda case: (case, run(case.args, env=case.env, timeout=60)), cases)
        return {case.name: (case, result) for case, result in done}


def _names() -> list[str]:
    # The case list needs files to exist only when the cases run; its names are fixed.
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return [case.name for case in failures(Path(folder), 1)]


@pytest.mark.parametrize("name", _names())
def test_one_line_naming_the_problem_and_exit_2(outcomes: dict[str, tuple[Failure, subprocess.CompletedProcess[str]]],
                                                name: str) -> None:
    case, result = outcomes[name]
    shown = f"{case.args} {case.env}: exit {result.returncode}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.returncode == 2, shown
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, shown
    lines = result.stderr.splitlines()
    assert len(lines) == 1, shown
    assert lines[0].startswith("brevo-loyalty-mock") and ": error: " in lines[0], shown
    for fragment in case.names:
        assert fragment in lines[0], f"{shown}\nmissing {fragment!r}"
    assert result.stdout == "", shown
