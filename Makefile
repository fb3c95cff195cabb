# The two commands of the README: `make run` (set up + main job) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup system-deps spark-venv constraints

# Every package of the environment at the version constraints.txt locks (transitive ones too).
$(BIN)/migstat: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -c constraints.txt
	touch $@

setup: $(BIN)/migstat
	$(BIN)/migstat superset install

system-deps:
	scripts/install-system-deps

run: setup
	$(BIN)/migstat run

test: setup system-deps spark-venv
	$(BIN)/pytest

# The Spark engine's own environment (dbt-spark session mode + PySpark; pins in
# requirements/spark.txt). `make test` installs it (the Spark comparison runs in the suite);
# `migstat spark build` and the Spark test also create it when missing.
SPARK_VENV := .venv-spark

$(SPARK_VENV)/bin/dbt: requirements/spark.txt
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet -r requirements/spark.txt
	touch $@

spark-venv: $(SPARK_VENV)/bin/dbt

# Regenerate the lock after changing pyproject.toml's dependencies: a clean install, frozen.
constraints:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[dev]'
	{ sed -n '/^#/p' constraints.txt; .venv-lock/bin/pip freeze --all --exclude-editable | grep -v '^pip=='; } > constraints.tmp
	mv constraints.tmp constraints.txt
	rm -rf .venv-lock
