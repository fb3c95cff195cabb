# The two commands of the README: `make run` (set up + main job) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup system-deps

$(BIN)/migstat: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/migstat
	$(BIN)/migstat superset install

system-deps:
	scripts/install-system-deps

run: setup
	$(BIN)/migstat run

test: setup system-deps
	$(BIN)/pytest
