# The two commands that matter: `make play` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: play test bench check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

play: $(STAMP)
	$(BIN)/dealersim $(ARGS)

test: $(DEVSTAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/dealersim check scenarios

# every benchmarks/*.py, then one table of their BENCH lines (tools/bench_table.py; docs/PERFORMANCE.md)
bench: $(DEVSTAMP)
	$(BIN)/python tools/bench_table.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
