# yiwang: `make demo` serves the platform with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := yiwang/web/static/vendor
SEED ?= 1
SIZE ?= small

.PHONY: demo test install install-test assets lint bench harden clean

demo: install
	$(BIN)/yiwang demo --seed $(SEED) --size $(SIZE)

test: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

install: $(VENV)/.installed assets
install-test: $(VENV)/.installed-test assets

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Front-end libraries come from npm at setup and are copied into the static folder (not committed, never a CDN).
assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp node_modules/htmx.org/LICENSE $(VENDOR)/htmx.LICENSE
	cp node_modules/echarts/LICENSE $(VENDOR)/echarts.LICENSE
	touch $@

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install-test
	$(BIN)/python -m bench

# The hardening suite alone at full size (docs/hardening.md): authorization matrix, leak scan, API fuzzing (stateful
# too), bad-input corpus, crash safety, sandbox escapes. `make test` runs the same suite at its fast size.
harden: install-test
	YIWANG_HARDEN_FULL=1 $(BIN)/pytest -q tests/hardening tests/sandbox/test_private_queries.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
