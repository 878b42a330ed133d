# The two commands: `make app` (set up, then serve the app on http://localhost:8501) and
# `make test` (set up, then run the whole test suite). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: app test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,fast]'
	@touch $(STAMP)

# Each command first compiles the replication engine with mypyc (sim/engine_build.py), unless it is
# built for the modules as they are; should that fail, the same code runs as Python.
app: $(STAMP)
	$(BIN)/python -m sim.engine_build
	$(BIN)/streamlit run streamlit_app.py --server.port 8501 --server.headless true --browser.gatherUsageStats false

test: $(STAMP)
	$(BIN)/python -m sim.engine_build
	bash scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m sim.engine_build
	$(BIN)/python -m sim bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-artifacts
