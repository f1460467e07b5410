# The two commands a newcomer needs (see README):
#   make demo   - set up everything, then run the demo on a local cluster
#   make test   - set up everything, then run the whole test suite
#   make unit   - the pure unit tests alone, in seconds (no cluster to build)
# Every target creates what it needs itself: the virtual environment, the
# Python install, the control-plane binaries (built once from Go modules into
# ~/.cache/rollouts/bin) and the system packages the tests use.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
DEV_DIR ?= .devcluster
PYTEST_ARGS ?=

.PHONY: demo test unit venv binaries system-deps lint typecheck dev-cluster-up dev-cluster-down clean

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

binaries:
	bash hack/build-control-plane.sh

system-deps:
	bash hack/install-system-deps.sh

test: venv binaries system-deps
	$(BIN)/pytest $(PYTEST_ARGS)

# The pure tests only (tests/unit without the few that run helm/kustomize): nothing to build; two workers.
unit: venv
	$(BIN)/pytest tests/unit -q -n 2 -m "not tools" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check rollouts tests hack bench
	$(BIN)/ruff format --check rollouts tests hack bench
	$(BIN)/mypy

# The demo: a local cluster, the controller, Prometheus, a good canary and a bad one rolled back.
demo: venv binaries system-deps
	$(BIN)/rollouts demo $(DEMO_ARGS)

dev-cluster-up: venv binaries
	$(BIN)/rollouts dev-cluster up --dir $(DEV_DIR)

dev-cluster-down: venv
	$(BIN)/rollouts dev-cluster down --dir $(DEV_DIR)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
