# `make run` and `make test` work on a fresh machine with nothing but Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=23"
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/hrc run

# The tests run in two processes (pytest-xdist): most of their time is spent waiting on real
# services. The whole systems (tests/conftest.py WHOLE_SYSTEMS) all go to one of them, one after
# another. PYTEST_WORKERS=0 runs everything in this process, one test at a time.
PYTEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench pipeline

lint: $(STAMP)
	$(BIN)/ruff check shared services hrc tests bench

clean:
	rm -rf $(VENV) var
