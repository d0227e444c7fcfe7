# stackq: `make run` serves the app on embedded defaults, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INI ?= development.ini
PORT ?= 6543
# The test runs' databases on the machine's Redis (127.0.0.1:6379), when it answers.
REDIS_DB_SQLITE ?= 13
REDIS_DB_POSTGRESQL ?= 12
POSTGRES_UP := $(shell $(PYTHON) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null && echo yes)

.PHONY: install run demo emulator screenshots test test-sqlite test-postgresql lint bench clean

$(BIN)/pserve: setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools<80.9" wheel
	$(BIN)/python -m pip install --quiet -e ".[testing]"
	touch $@

install: $(BIN)/pserve

run: install
	$(BIN)/initialize_db $(INI)
	$(BIN)/python -m stackq.server.run $(INI) http_port=$(PORT)

# No internet? Serve stackq against the bundled Stack Exchange API emulator.
demo: install
	$(BIN)/python -m stackq.testing.emulator --port 8765 & \
	trap "kill $$!" EXIT; sleep 1; \
	STACKQ_API_URLS=http://127.0.0.1:8765/2.3 $(MAKE) run

emulator: install
	$(BIN)/python -m stackq.testing.emulator --port 8765

# docs/screenshots/*.png: the demo on free ports of its own, photographed in headless Chromium
# (needs Debian's chromium and chromium-driver).
screenshots: install
	$(BIN)/python docs/screenshots.py

lint: install
	$(BIN)/ruff check stackq tests benchmarks docs

# The two runs at once (most of a test is waiting on servers it started), each in a Redis
# database of its own; each run's output is printed whole when it ends.
test: lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgresql

test-sqlite: install
	STACKQ_TEST_DB=sqlite STACKQ_TEST_REDIS_DB=$(REDIS_DB_SQLITE) $(BIN)/pytest -q $(PYTEST_ARGS)

test-postgresql: install
ifeq ($(POSTGRES_UP),yes)
	STACKQ_TEST_DB=postgresql STACKQ_TEST_REDIS_DB=$(REDIS_DB_POSTGRESQL) $(BIN)/pytest -q $(PYTEST_ARGS)
else
	@echo "PostgreSQL does not answer on 127.0.0.1:5432: the PostgreSQL run is left out"
endif

bench: install
	$(BIN)/python benchmarks/pages.py

clean:
	rm -rf $(VENV) var build dist *.egg-info
