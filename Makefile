# make run: the live demo (embedded default, or the real stack with DATABASE_URL / REDIS_URL).
# make test: the whole suite, lint included. Both set everything up on a fresh machine.
# make mutation: mutation testing of the pure cores (MUTATE=risk/core/stops.py for one file).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The web process ticks the simulated feed unless told otherwise (MARKET_FEED= make run, with make feed elsewhere).
MARKET_FEED ?= simulated
STAMP := $(VENV)/.stamp-requirements

.PHONY: run test venv static chromium lint worker feed bench mutation

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Front-end libraries: npm installs the versions package-lock.json pins (checking their hashes), and the
# files the pages load are copied into static/vendor/ (not committed; served by the app, never a CDN).
# Runs again only when the lock changes. Needs Node and npm (Debian's nodejs and npm are installed if missing).
VENDOR := static/vendor
VENDOR_FILES := $(VENDOR)/lightweight-charts.standalone.production.js $(VENDOR)/lightweight-charts.LICENSE

$(VENDOR_FILES) &: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		echo "installing Debian nodejs and npm for the dashboard's front-end libraries"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; fi; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js $(VENDOR)/
	cp node_modules/lightweight-charts/LICENSE $(VENDOR)/lightweight-charts.LICENSE
	touch $(VENDOR_FILES)

static: $(VENDOR_FILES)

# Browser tests drive Debian's Chromium; test tools never download a browser of their own.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

run: venv static
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v0
	@echo "QuantumLeap on http://127.0.0.1:$(PORT)/  (API docs: /api/docs/, admin: /admin/)"
	MARKET_FEED=$(MARKET_FEED) exec $(VENV)/bin/daphne -b 127.0.0.1 -p $(PORT) quantumleap.asgi:application

# The real stack's separate processes (set DATABASE_URL and REDIS_URL first).
worker: venv
	$(VENV)/bin/celery -A quantumleap worker -l info

feed: venv
	$(PY) manage.py market_feed

# bandit (offline): no high-severity finding in the apps (a justified exception carries `# nosec` and why).
BANDIT_PATHS := accounts backtests trading risk strategies quantumleap tools
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/bandit -q -r $(BANDIT_PATHS) -lll

test: venv static chromium lint
	$(PY) -m pytest

bench: venv
	$(PY) bench/run.py

# Mutants of every module under [tool.mutmut] source_paths, each against the core tests, from a fresh
# mutants/ (mutmut keeps results across runs and would not see edited tests); then the score per file,
# failing below MUTATION_THRESHOLD. mutmut's own progress goes to mutants/mutmut.log.
MUTATION_THRESHOLD ?= 95
# Reported but not failing the run (files, or folders ending in /): none; every core file is held to the
# threshold, and CI mutates all three cores.
MUTATION_NOT_ENFORCED ?=
# MUTATE: files or folders to run (the others' mutants are made but not run), e.g. risk/core/stops.py or
# "trading/core risk/core"; each becomes a mutmut name pattern (risk.core.stops.*, trading.core.*).
MUTATE ?=
mutate_patterns = $(foreach path,$(MUTATE),"$(subst /,.,$(patsubst %.py,%,$(patsubst %/,%,$(path)))).*")
mutation: venv
	rm -rf mutants && mkdir mutants
	@start=$$(date +%s); \
	if ! $(VENV)/bin/mutmut run $(mutate_patterns) > mutants/mutmut.log 2>&1; then \
		tail -n 40 mutants/mutmut.log; echo "mutmut run failed"; exit 1; fi; \
	echo "mutmut run: $$(( $$(date +%s) - start )) s"
	$(PY) tools/mutation_report.py --threshold $(MUTATION_THRESHOLD) $(foreach path,$(MUTATE),--only $(path)) \
		$(foreach path,$(MUTATION_NOT_ENFORCED),--not-enforced $(path))
