# c2v: two commands on a fresh machine — `make demo` and `make test`.
.PHONY: setup setup-dev demo test check lint format typecheck test-fast bench clean

VENV := .venv
PY := $(VENV)/bin/python
FAST := not integration and not security and not ray and not docker

setup:
	@scripts/setup.sh

setup-dev:
	@scripts/setup.sh --dev

demo: setup
	$(VENV)/bin/c2v demo

test: setup-dev
	$(PY) -m pytest -q

test-fast: setup-dev
	$(PY) -m pytest -q -m "$(FAST)"

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: setup-dev
	$(VENV)/bin/mypy

check: lint typecheck test-fast

bench: setup
	$(PY) scripts/bench_render.py
	$(PY) scripts/bench_critic.py

clean:
	rm -rf CASES .mypy_cache .ruff_cache .pytest_cache
