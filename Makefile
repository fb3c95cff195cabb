# The two commands of the README: `make run` (set up + main job) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup system-deps spark-venv

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

# The Spark engine's own environment (dbt-spark session mode + PySpark; pins in
# requirements/spark.txt). `migstat spark build` and the Spark test create it when missing.
SPARK_VENV := .venv-spark

$(SPARK_VENV)/bin/dbt: requirements/spark.txt
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet -r requirements/spark.txt
	touch $@

spark-venv: $(SPARK_VENV)/bin/dbt
