# Two commands do all the set-up on a fresh machine:
#   make run    install if needed, then serve the mock on 127.0.0.1:8080
#   make test   install if needed, then run the whole test suite
# Everything installs into ./.venv; delete it (make clean) to start over.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

.PHONY: install run test lint conformance clean help

help:
	@echo "make run         serve the mock (ARGS='--port 9000 --seed 7' to pass flags)"
	@echo "make test        lint and run the test suite"
	@echo "make conformance BASE_URL=... API_KEY=...   check any server against the contract"
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

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
