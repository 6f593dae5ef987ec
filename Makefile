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

# network-config-analyzer, the peer tool of the connectivity differential tests, in a virtualenv
# of its own: it pins PyYAML 6.0.2, which the kubernetes client refuses; run as a subprocess.
NCA_VENV := .venv-nca
$(NCA_VENV)/bin/nca:
	$(PYTHON) -m venv $(NCA_VENV)
	$(NCA_VENV)/bin/python -m pip --disable-pip-version-check -q install 'network-config-analyzer==2.1.0'

test: $(VENV)/.installed-test $(NCA_VENV)/bin/nca
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check autodeploy_netpol tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed-test
	set -e; for script in bench/*.py; do case $$script in *_data.py) continue;; esac; echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) $(NCA_VENV) .pytest_cache .hypothesis
