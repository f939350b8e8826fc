# netsim: two commands on a fresh machine.
#   make run   creates .venv if missing, installs netsim, runs the NET scenario, prints its bands
#   make test  the same set-up, then lint and the whole test suite
#   make test-fast  lint and the tests not marked slow (no end-to-end runs: about 2 minutes)
#   (both on every core; WORKERS=0 runs them in one process, WORKERS=N on N)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DRAWS ?= 20000
OUT ?= out/net_market.nc
# the tests run spread over the machine's cores (pytest-xdist): a worker that is done takes
# a test from the others' queues, so the long end-to-end tests do not end the run alone
WORKERS ?= auto
PYTEST_PARALLEL := -n $(WORKERS) --dist worksteal

.PHONY: run test test-fast lint format bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,plot,dask,xlsx,serve,serve-test]"
	touch $(STAMP)

run: $(STAMP)
	@mkdir -p $(dir $(OUT))
	$(BIN)/netsim run configs/net_market.toml --draws $(DRAWS) --seed 1 --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check netsim tests benchmarks
	$(BIN)/ruff format --check netsim tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format netsim tests benchmarks
	$(BIN)/ruff check --fix netsim tests benchmarks

test: $(STAMP) lint chromium
	$(BIN)/python -m pytest -q -rs $(PYTEST_PARALLEL)

# the tests not marked slow: every module's own tests, without the end-to-end ones (through
# the command line, subprocesses, browsers or clusters); the slowest 30 are listed. Property
# tests that set no example count try 10 (hypothesis profile dev) where make test tries 25
test-fast: $(STAMP) lint
	HYPOTHESIS_PROFILE=dev $(BIN)/python -m pytest -q -rs $(PYTEST_PARALLEL) -m "not slow" --durations=30

# the report test renders HTML in headless Chromium: install it where we can (Debian, root)
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get install -y -qq chromium >/dev/null 2>&1 \
		    || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)); } \
		|| echo "chromium not installed: the report rendering test will be skipped"

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench,serve,serve-test]"
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
