# c2v: two commands on a fresh machine — `make demo` and `make test`.
.PHONY: setup setup-dev demo test check lint format typecheck test-fast bench clean sandbox-image

VENV := .venv
PY := $(VENV)/bin/python
FAST := not integration and not security and not ray and not docker

setup:
	@scripts/setup.sh

setup-dev:
	@scripts/setup.sh --dev

demo: setup
	$(VENV)/bin/c2v demo

# Every tier, Docker included: the engine is installed and started and the sandbox image
# built (or reused, when its input hash matches) first.
test: setup-dev sandbox-image
	$(PY) -m pytest -q --durations=40

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

# The Docker sandbox image, built from debootstrap + a host wheelhouse (no registry needed).
sandbox-image: setup-dev
	@scripts/docker_engine.sh
	@scripts/build_sandbox_image.sh

bench: setup
	$(PY) scripts/bench_render.py
	$(PY) scripts/bench_critic.py
	$(PY) scripts/bench_sandbox.py
	$(PY) scripts/bench_batch.py

clean:
	rm -rf CASES .mypy_cache .ruff_cache .pytest_cache
