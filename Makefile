# Two commands for a fresh machine (Python 3.11 + pip): `make site` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: venv site test test-fast serve bench synth validate clean clean-site

venv: $(STAMP)

# The venv is rebuilt whenever the lock or the package metadata changes.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=23"
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

## Build every version of the site into _build/site/ (cached, atomic per version), each with its PDF
## (printed by Debian's Chromium, which ensure-browser.sh installs when it can).
site: $(STAMP)
	@bash scripts/ensure-browser.sh
	$(BIN)/ixathaldex build --jobs $(JOBS)

## Run the whole test suite (what CI runs).
test: $(STAMP)
	@bash scripts/ensure-browser.sh
	$(BIN)/ixathaldex -q build --jobs 2
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

## Unit tests only (no notebooks, no site build, no browser).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

serve: site
	@echo "serving _build/site on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory _build/site

bench: $(STAMP)
	$(BIN)/python -m ixathaldex.site.bench

synth: $(STAMP)
	$(BIN)/ixathaldex synth

validate: $(STAMP)
	$(BIN)/ixathaldex validate data/snapshots/*/

clean-site:
	rm -rf _build

clean: clean-site
	rm -rf $(VENV)
