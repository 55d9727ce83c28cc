# The two commands of the README are `make demo` and `make test`; both start with `make install`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := audit,cli,sql,interop,postgres,dev
PYTEST := $(BIN)/python -m pytest
SAMPLE_PYTEST := ../$(BIN)/python -m pytest -c pytest.ini

.PHONY: install lint test test-fast test-core test-postgres test-sample test-django42 demo screenshots lock clean

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

test: lint test-core test-postgres test-sample test-django42

# The edit loop: everything but the tests that start processes or a browser, on both cores.
test-fast: install
	$(PYTEST) tests -q -m "not slow and not browser" -n auto

# perftoolkit's own suite on SQLite (slow tests included: they start real processes), the
# doctests of perftoolkit/core, and the share of the package they run (fail_under in pyproject).
test-core: install
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest perftoolkit/core --doctest-modules -q
	$(BIN)/coverage run --append -m pytest tests -q
	$(BIN)/coverage report

# The tests marked `postgres`, against the server at 127.0.0.1:5432.
test-postgres: install
	PERFTOOLKIT_TEST_DATABASE=postgres $(PYTEST) tests -q -m postgres

# The sample project's own suite: each variant on SQLite, then each on PostgreSQL, where
# pytest-django creates test_$(SAMPLE_PG_DB)_before / _after (override SAMPLE_PG_DB to run two
# checkouts side by side).
SAMPLE_PG_URL ?= postgres://postgres@127.0.0.1:5432
SAMPLE_PG_DB ?= perftoolkit_sample
SAMPLE_ON_PG = PERFTOOLKIT_TEST_DATABASE=postgres DATABASE_URL=$(SAMPLE_PG_URL)/$(SAMPLE_PG_DB)

test-sample: install
	cd sample_project && SAMPLE_VARIANT=before DATABASE_URL= $(SAMPLE_PYTEST) -q
	cd sample_project && SAMPLE_VARIANT=after DATABASE_URL= $(SAMPLE_PYTEST) -q
	cd sample_project && SAMPLE_VARIANT=before $(SAMPLE_ON_PG)_before $(SAMPLE_PYTEST) -q -m postgres
	cd sample_project && SAMPLE_VARIANT=after $(SAMPLE_ON_PG)_after $(SAMPLE_PYTEST) -q -m postgres

# perftoolkit also supports Django 4.2 LTS: its fast suite against the newest 4.2 release, in a venv
# of its own (the sample project is Django 5.2 only).
DJ42 := .venv-django42
$(DJ42)/.installed: pyproject.toml requirements-dev.lock
	@test -x $(DJ42)/bin/python || $(PYTHON) -m venv $(DJ42)
	grep -viE '^(django|djangorestframework|django-stubs|django-stubs-ext|djangorestframework-stubs)==' \
		requirements-dev.lock > $(DJ42)/constraints.txt
	$(DJ42)/bin/python -m pip install --quiet --disable-pip-version-check -c $(DJ42)/constraints.txt \
		"django==4.2.30" "djangorestframework==3.16.1" -e ".[cli,sql,postgres]" \
		pytest pytest-django pytest-xdist hypothesis playwright
	@touch $(DJ42)/.installed

test-django42: $(DJ42)/.installed
	$(DJ42)/bin/python -m pytest tests -q -m "not slow and not browser"

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
	rm -rf $(VENV) $(DJ42) reports/*/ .mypy_cache .ruff_cache
