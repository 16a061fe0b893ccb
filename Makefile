.DEFAULT_GOAL := help
SHELL := /bin/bash

# uv if it is on PATH, else the copy pip installs for this user (`python3 -m uv`).
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PYTEST_ARGS ?= -n 2
COMPOSE ?= docker compose

.PHONY: help install assets chromium run test lint bench bench-invoicing bench-write-path torture-write-path bench-integrators bench-personal-data up down clean clean-data

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

install: ## Create .venv with the locked dependencies (installs uv if missing)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --user --quiet uv || \
		python3 -m pip install --user --quiet --break-system-packages uv
	$(UV) sync --locked
	@$(MAKE) --no-print-directory assets

assets: ## Install the dashboard's front-end libraries from npm (package-lock.json) into interfaces/web/static/vendor
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js 18+ (e.g. 'apt-get install -y nodejs npm')" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent vendor

chromium: ## Install Debian's Chromium for the browser tests when /usr/bin/chromium is missing
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else echo "the browser tests need Chromium: run 'sudo apt-get install -y chromium'" >&2; exit 1; fi; }

run: install ## Serve the API on http://127.0.0.1:8000 (embedded servers where KONTOR_*_URL are unset)
	$(UV) run kontor serve

test: install chromium ## Run the test suite (starts embedded servers unless KONTOR_*_URL are set)
	$(UV) run pytest $(PYTEST_ARGS)

lint: install ## Ruff lint + format check, mypy
	$(UV) run ruff check . && $(UV) run ruff format --check . && $(UV) run mypy

bench: install ## Place-order load over HTTP; writes bench/results/*.json
	$(UV) run python -m bench.place_orders

bench-invoicing: install ## Invoicing process manager and reconciliation; writes bench/results/invoicing.json
	$(UV) run python -m bench.invoicing

bench-write-path: install ## Appends/s: stock vs Kontor recorder vs plain INSERT; bench/results/write_path.json
	$(UV) run python -m bench.write_path

torture-write-path: install ## The write-path torture test for 5 minutes (CI runs it for 20 s)
	KONTOR_TORTURE_SECONDS=$${KONTOR_TORTURE_SECONDS:-300} $(UV) run pytest -q -s tests/integration/test_write_path_torture.py

bench-integrators: install ## Relay, audit state-as-of and rebuild figures; bench/results/integrators.json
	$(UV) run python -m bench.integrators

bench-personal-data: install ## Sealing personal data in the event mapper vs plaintext; bench/results/personal_data.json
	$(UV) run python -m bench.personal_data

up: ## Start the production-shaped stack (docker compose)
	$(COMPOSE) up -d --build

down: ## Stop the docker compose stack
	$(COMPOSE) down

clean: ## Remove caches and build artefacts
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

clean-data: ## Remove the embedded servers' data dir (.kontor)
	rm -rf .kontor
