.DEFAULT_GOAL := help
SHELL := /bin/bash

# uv if it is on PATH, else the copy pip installs for this user (`python3 -m uv`).
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PYTEST_ARGS ?= -n 2
COMPOSE ?= docker compose

.PHONY: help install run test lint bench bench-invoicing bench-write-path bench-integrators up down clean clean-data

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

install: ## Create .venv with the locked dependencies (installs uv if missing)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --user --quiet uv || \
		python3 -m pip install --user --quiet --break-system-packages uv
	$(UV) sync --locked

run: install ## Serve the API on http://127.0.0.1:8000 (embedded servers where KONTOR_*_URL are unset)
	$(UV) run kontor serve

test: install ## Run the test suite (starts embedded servers unless KONTOR_*_URL are set)
	$(UV) run pytest $(PYTEST_ARGS)

lint: install ## Ruff lint + format check, mypy
	$(UV) run ruff check . && $(UV) run ruff format --check . && $(UV) run mypy

bench: install ## Place-order load over HTTP; writes bench/results/*.json
	$(UV) run python -m bench.place_orders

bench-invoicing: install ## Invoicing process manager and reconciliation; writes bench/results/invoicing.json
	$(UV) run python -m bench.invoicing

bench-write-path: install ## Appends/s: stock vs Kontor recorder vs plain INSERT; bench/results/write_path.json
	$(UV) run python -m bench.write_path

bench-integrators: install ## Relay, audit state-as-of and rebuild figures; bench/results/integrators.json
	$(UV) run python -m bench.integrators

up: ## Start the production-shaped stack (docker compose)
	$(COMPOSE) up -d --build

down: ## Stop the docker compose stack
	$(COMPOSE) down

clean: ## Remove caches and build artefacts
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

clean-data: ## Remove the embedded servers' data dir (.kontor)
	rm -rf .kontor
