# The two quick-start commands: `make run` (set up, migrate, serve on SQLite) and `make test`.
# Both install the exact versions in requirements.lock (the versions the tests passed with);
# `make lock` refreshes it to the newest versions setup.cfg's ranges allow.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: run test lint lock clean

$(STAMP): setup.cfg pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint $(LOCK) -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/healthcare serve

lint: $(STAMP)
	$(BIN)/lint-imports

# Four test processes even on two cores: the slowest tests mostly wait (servers restarting,
# leases running out), and work stealing keeps every process busy to the end (349 s against
# 444 s with -n auto on the 2-core machine).
TEST_WORKERS ?= 4

test: $(STAMP) lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lock:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra test --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) build *.egg-info
