# ragft: the two commands are `make run` and `make test`; both set up what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.setup-done
RAGFT  := $(BIN)/ragft
# Streamlit flags for `make run`, e.g. make run UI_FLAGS="--server.headless true --server.port 8555"
UI_FLAGS ?=
CHROMIUM := /usr/bin/chromium
# Models installed on request, e.g. `make setup MODELS=qwen2.5-1.5b` (1.0 GB from the package index;
# installing twice is a no-op); `make run PROFILE=small` then opens every route on it.
MODELS ?=
PROFILE ?=

.PHONY: setup models run test test-fast browser bench clean

# Idempotent: re-installs only when pyproject.toml changed since the last successful setup.
setup: $(STAMP) models

models: $(STAMP)
	@for m in $(MODELS); do $(RAGFT) models install $$m || exit 1; done

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(STAMP)

# Ingest the bundled sample corpus, then open the browser app on it (the tiny profile unless PROFILE=small).
run: setup
	$(RAGFT) sample --edition v1 --ingest
	$(RAGFT) $(if $(PROFILE),--profile $(PROFILE)) ui $(UI_FLAGS)

test: setup browser
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

test-fast: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow"

# The browser tests drive Debian's chromium through Playwright (never a downloaded browser build).
# Installed with apt-get only when missing, as root or through sudo; otherwise those tests skip.
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
	  || echo "note: apt-get could not install chromium; the browser tests will skip"; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get update -q \
	  && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
	  || echo "note: apt-get could not install chromium; the browser tests will skip"; \
	else echo "note: $(CHROMIUM) is missing and apt-get needs root; the browser tests will skip (apt-get install chromium)"; fi

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
