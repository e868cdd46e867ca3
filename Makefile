# The two commands of the README:
#   make run    set up (first time) and start the daemon on the shipped default model
#   make test   set up (first time, with test extras) and run the whole test suite
# torch 2.13.0 is installed first, on its own, so pip never fetches a CUDA build.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
ARGS   ?=

.PHONY: run test lint setup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check "torch==2.13.0"
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]"
	$(BIN)/python -c "from bridge.model import kernels; kernels.prepare(background=False)"
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/continuo run $(ARGS)

test: setup
	$(BIN)/ruff check bridge tests
	$(BIN)/continuo osc-doc --check
	$(BIN)/python -m pytest -q $(ARGS)

lint: setup
	$(BIN)/ruff check bridge tests
