# Two commands do all the set-up on a fresh machine:
#   make run    install if needed, then serve the mock on 127.0.0.1:8080
#   make test   install if needed, then run the whole test suite
# Everything installs into ./.venv; delete it (make clean) to start over.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

# A command from the Debian package of the same name, installed when missing (as root, else with sudo):
#   @$(call debian_package,wrk)
debian_package = command -v $(1) >/dev/null || { echo "installing $(1) (Debian package)"; \
  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(1); }

.PHONY: install run test test-deps test-dates test-uvicorn-window lint conformance conformance-long bench soak fuzz clean help

help:
	@echo "make run         serve the mock (ARGS='--port 9000 --seed 7' to pass flags)"
	@echo "make test        lint and run the test suite (installs chromium and the Node example's packages if it can)"
	@echo "make test-uvicorn-window   the protocol tests on the oldest and the newest uvicorn pyproject.toml allows"
	@echo "make test-dates  the examples, clients, API and isolation tests on other dates (libfaketime)"
	@echo "make conformance BASE_URL=... API_KEY=...   check any server against the contract"
	@echo "make conformance-long   the long conformance run against a fresh mock (minutes)"
	@echo "make bench       benchmark the mock against bare Starlette (and Prism); writes BENCHMARKS.md"
	@echo "make soak        64 connections of mixed reads for 3 minutes: errors must be 0, RSS growth < 10%"
	@echo "make fuzz        long schemathesis and hypothesis runs (FUZZ_EXAMPLES=500 per operation)"
	@echo "make clean       remove the virtualenv and caches"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/brevo-loyalty-mock serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint test-deps
	$(BIN)/python -m pytest -q

# Set-up of the browser and Node tests (tests/browser, tests/examples): Debian's chromium, and
# the Node example's packages (npm ci, from examples/node/package-lock.json). Both optional:
# where one cannot be installed (no apt-get, neither root nor passwordless sudo, no npm), the
# tests that need it skip and say why. Nothing is downloaded while the tests run.
NODE_EXAMPLE := examples/node
NODE_STAMP   := $(NODE_EXAMPLE)/node_modules/.package-lock.json

test-deps: $(STAMP)
	@if ! command -v chromium >/dev/null && [ ! -x /usr/bin/chromium ]; then 	  if command -v apt-get >/dev/null; then 	    echo "installing chromium (Debian package) for the browser tests"; 	    SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); 	    { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; } 	      || echo "chromium could not be installed: the browser tests will be skipped"; 	  else echo "no apt-get: install Chromium yourself (or set CHROMIUM=path), else the browser tests skip"; fi; 	fi
	@if command -v npm >/dev/null; then 	  [ $(NODE_STAMP) -nt $(NODE_EXAMPLE)/package-lock.json ] || { 	    echo "installing the Node example's packages (npm ci in $(NODE_EXAMPLE))"; 	    npm ci --prefix $(NODE_EXAMPLE) --no-audit --no-fund --silent 	      || echo "npm ci failed in $(NODE_EXAMPLE): the Node client tests will be skipped"; }; 	else echo "no npm: the Node client tests will be skipped"; fi

# The differential protocol tests (and the fence's) on both ends of the uvicorn window that
# pyproject.toml pins (mock_server/fence.py says why it is pinned): one small virtualenv per end
# under build/uvicorn-window/, installed from the package index (only the installs use the
# network; the tests talk to 127.0.0.1). `.ci/run` runs it after `make test`.
WINDOW_DIR   := build/uvicorn-window
WINDOW_TESTS := tests/hostile/test_direct_protocol.py tests/unit/test_fence.py

test-uvicorn-window:
	@set -e; for end in oldest newest; do \
	  requirement=$$($(PYTHON) .ci/uvicorn_window.py $$end); venv=$(WINDOW_DIR)/$$end; \
	  [ -x $$venv/bin/python ] || $(PYTHON) -m venv $$venv; \
	  $$venv/bin/python -m pip install --quiet --upgrade -e . pytest "$$requirement"; \
	  echo "uvicorn window, $$end end ($$requirement): uvicorn $$($$venv/bin/python -c 'import uvicorn; print(uvicorn.__version__)')"; \
	  $$venv/bin/python -m pytest -q -p no:cacheprovider $(WINDOW_TESTS); \
	done

# The same tests on other dates (libfaketime, installed from Debian when missing): nothing may depend on the
# date it runs, the examples included. Only the wall clock is faked (tests/support/faketime says why). Not
# part of `make test`: every clock read goes through libfaketime, which makes the run several times slower.
#   make test-dates DATES='2027-01-01 00:00:05' (several: DATES='"2027-01-01" "2031-06-15 12:00"')
DATES      ?= "2027-01-01 00:00:05" "2031-06-15 12:00:00"
DATE_TESTS ?= tests/examples tests/clients tests/api tests/isolation
ON_DATE    := PYTHONPATH=$(CURDIR)/tests/support/faketime FAKETIME_DONT_FAKE_MONOTONIC=1 faketime "$$date"

test-dates: test-deps
	@$(call debian_package,faketime)
	@for date in $(DATES); do \
	  $(ON_DATE) $(BIN)/python -c 'import datetime; print("== the tests, the wall clock at", datetime.datetime.now().isoformat(" ", "seconds"))'; \
	  $(ON_DATE) $(BIN)/python -m pytest -q -p no:cacheprovider $(DATE_TESTS) || exit 1; \
	done

# Conformance of any server (docs/conformance.md): our mock, the real Brevo, another mock.
#   make conformance BASE_URL=https://api.brevo.com/v3 API_KEY=xkeysib-...   (read-only, <= 500 requests)
#   make conformance BASE_URL=http://127.0.0.1:8080/v3 API_KEY=xkeysib-loyalty-mock-local-key ARGS='--max-examples 50'
# The key travels by environment ($$BREVO_API_KEY, used when API_KEY is empty) and is never echoed.
BASE_URL ?=
API_KEY  ?=
REPORT   ?= build/conformance.md

conformance: $(STAMP)
	@[ -n "$(BASE_URL)" ] || { echo "usage: make conformance BASE_URL=http://host/v3 API_KEY=... [ARGS=...]"; exit 2; }
	@BREVO_API_KEY="$(or $(API_KEY),$$BREVO_API_KEY)" $(BIN)/python -m mock_server conformance \
	  --base-url "$(BASE_URL)" --report $(REPORT) $(ARGS)

# The long run against a fresh in-process mock; `make test` runs a bounded one (tests/conformance).
conformance-long: $(STAMP)
	$(BIN)/python -m mock_server conformance --mock --max-examples 200 --property-examples 200 \
	  --report build/conformance-long.md $(ARGS)

# The benchmark (bench/, about 8 minutes with the write figures, loopback only): wrk from Debian, installed
# here when missing (as root, else with sudo); Prism from npm when npm is present,
# optional. Not part of `make test`. `make bench ARGS=--quick` is a smoke run of a minute or two.
PRISM := bench/.prism/node_modules/.bin/prism

bench: $(STAMP)
	@$(call debian_package,wrk)
	@[ -x $(PRISM) ] || ! command -v npm >/dev/null || { \
	  echo "installing Prism 5.16.0 into bench/.prism (npm)"; \
	  npm install --prefix bench/.prism --no-audit --no-fund --silent @stoplight/prism-cli@5.16.0 \
	  || echo "Prism could not be installed: the benchmark runs without it"; }
	$(BIN)/python -m bench $(ARGS)

# The soak (bench/soak.py, docs/limits.md): the real command under 64 connections of mixed reads,
# loopback only, bounded in time (SOAK_SECONDS, default 180, plus a 15 s warm-up) and in requests.
# Load from wrk when installed, else from an asyncio client. Exit 1 on any error or RSS growth >= 10%.
SOAK_SECONDS ?= 180

soak: $(STAMP)
	$(BIN)/python -m bench.soak --seconds $(SOAK_SECONDS) --connections 64 $(ARGS)

# The long fuzz (tests/fuzz, marked slow, so not in `make test`): schemathesis in-process over the whole
# contract, writes included, with FUZZ_EXAMPLES examples per operation and a stateful walk of the links;
# hypothesis over the hostile corpus's generators, in-process and as raw bytes over a loopback socket;
# then the write state machine (tests/properties/test_write_sequences.py, 12 examples in `make test`)
# with WRITE_SEQUENCE_EXAMPLES sequences.
FUZZ_EXAMPLES ?= 500
WRITE_SEQUENCE_EXAMPLES ?= 300

fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -m slow tests/fuzz -p no:cacheprovider $(ARGS)
	WRITE_SEQUENCE_EXAMPLES=$(WRITE_SEQUENCE_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/properties/test_write_sequences.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info $(NODE_EXAMPLE)/node_modules
