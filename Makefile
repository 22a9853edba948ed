# ragft: the two commands are `make run` and `make test`; both set up what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.setup-done
RAGFT  := $(BIN)/ragft

.PHONY: setup run test test-fast bench clean

# Idempotent: re-installs only when pyproject.toml changed since the last successful setup.
setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Ingest the bundled sample corpus, then chat with it in the terminal.
run: setup
	$(RAGFT) sample --edition v1 --ingest
	$(RAGFT) chat

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

test-fast: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
