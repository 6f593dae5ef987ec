# Two set-up commands for a fresh machine (see README):
#   make demo   - creates .venv, installs the tool, runs the pipeline step on the bundled example
#   make test   - creates .venv with the test extras, runs the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Installing is keyed on pyproject.toml so repeated runs are fast.
$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test,helm]'
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	@bash examples/demo.sh $(abspath $(BIN))/autodeploy-netpol

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check autodeploy_netpol tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed-test
	set -e; for script in bench/*.py; do case $$script in *_data.py) continue;; esac; echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
