# The two commands of the README are `make demo` and `make test`; both start with `make install`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := audit,cli,sql,interop,postgres,dev
PYTEST := $(BIN)/python -m pytest
SAMPLE_PYTEST := cd sample_project && ../$(BIN)/python -m pytest -c pytest.ini

.PHONY: install lint test test-core test-postgres test-sample demo screenshots lock clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements-dev.lock sample_project/requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements-dev.lock -e ".[$(EXTRAS)]" -r sample_project/requirements.txt
	@touch $(STAMP)

lint: install
	$(BIN)/ruff check perftoolkit tests sample_project loadtests benchmarks
	$(BIN)/ruff format --check perftoolkit tests sample_project loadtests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint test-core test-postgres test-sample

# perftoolkit's own suite on SQLite (slow tests included: they start real processes).
test-core: install
	$(PYTEST) tests -q

# The tests marked `postgres`, against the server at 127.0.0.1:5432.
test-postgres: install
	PERFTOOLKIT_TEST_DATABASE=postgres $(PYTEST) tests -q -m postgres

# The sample project's own suite: each variant on SQLite, then each on PostgreSQL.
test-sample: install
	$(SAMPLE_PYTEST) -q
	SAMPLE_VARIANT=after $(SAMPLE_PYTEST) -q
	PERFTOOLKIT_TEST_DATABASE=postgres $(SAMPLE_PYTEST) -q -m postgres
	PERFTOOLKIT_TEST_DATABASE=postgres SAMPLE_VARIANT=after $(SAMPLE_PYTEST) -q -m postgres

demo: install
	$(BIN)/python sample_project/demo.py

# Refresh the README's report images under docs/ (headless Chromium; not part of the tests).
screenshots: install
	$(BIN)/python docs/screenshots.py

# Re-resolve every dependency to its newest allowed release and write the lock.
lock:
	rm -rf /tmp/perftoolkit-lock && $(PYTHON) -m venv /tmp/perftoolkit-lock
	/tmp/perftoolkit-lock/bin/pip install --quiet -e ".[$(EXTRAS)]" -r sample_project/requirements.txt
	/tmp/perftoolkit-lock/bin/pip freeze --exclude-editable | grep -v '^perftoolkit' > requirements-dev.lock

clean:
	rm -rf $(VENV) reports/*/ .mypy_cache .ruff_cache
