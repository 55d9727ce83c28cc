# The two commands of the README are `make demo` and `make test`; both start with `make install`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := audit,cli,sql,fix,interop,postgres,fast,dev
LOCK_EXTRAS := $(EXTRAS),bench
PYTEST := $(BIN)/python -m pytest
SAMPLE_PYTEST := ../$(BIN)/python -m pytest -c pytest.ini

BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: bench install lint test test-fast test-core test-tools test-wagtail test-postgres test-mariadb test-sample test-matrix test-django60 test-django61 demo screenshots lock clean

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

test: lint test-core test-postgres test-mariadb test-sample test-matrix

# The edit loop: everything but the tests that start processes or a browser, on both cores.
test-fast: install
	$(PYTEST) tests -q -m "not slow and not browser" -n auto
	$(PYTEST) tests/toolsite -q -m "not slow and not browser" --ds=tests.toolsite.settings

# perftoolkit's own suite on SQLite (slow tests included: they start real processes), the
# doctests of perftoolkit/core, and the share of the package they run (fail_under in pyproject).
test-core: install
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest perftoolkit/core --doctest-modules -q
	$(BIN)/coverage run --append -m pytest tests -q
	$(BIN)/coverage run --append -m pytest tests/toolsite -q --ds=tests.toolsite.settings
	$(BIN)/coverage run --append -m pytest tests/wagtailsite -q --ds=tests.wagtailsite.settings
	$(BIN)/coverage report

# Projects with settings of their own, part of test-core: django-debug-toolbar with perftoolkit's
# panel and django-silk (tests/toolsite), and a Wagtail site for the route keyer (tests/wagtailsite,
# kept out of test-fast: it migrates Wagtail).
test-tools: install
	$(PYTEST) tests/toolsite -q --ds=tests.toolsite.settings

test-wagtail: install
	$(PYTEST) tests/wagtailsite -q --ds=tests.wagtailsite.settings

# The tests marked `postgres`, against the server at 127.0.0.1:5432.
test-postgres: install
	PERFTOOLKIT_TEST_DATABASE=postgres $(PYTEST) tests -q -m postgres

# The tests marked `mariadb`, against the server at 127.0.0.1:3306 (root, no password), where
# pytest-django creates test_$PERFTOOLKIT_MYSQL_DBNAME (default test_perftoolkit).
test-mariadb: install
	PERFTOOLKIT_TEST_DATABASE=mariadb $(PYTEST) tests -q -m mariadb

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

# The Django matrix beside the main pair (.venv: Python 3.11, Django 5.2 LTS): each release in a
# venv of its own, on the Python it is tested with. Each runs the fast suite; 6.1 also runs the
# sample project's suite, whose exact findings must equal 5.2's. A Python that is not installed
# skips its release with a message, unless PERFTOOLKIT_REQUIRE_MATRIX=1 (CI) makes that an error.
DJANGO60 := 6.0.10
DJANGO61 := 6.1.3
MATRIX_DRF := 3.18.3
find_python = $(firstword $(foreach p,$(sort $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(1).*/bin/python$(1))) $(shell command -v python$(1) 2>/dev/null),$(shell "$(p)" -c "print('$(p)')" 2>/dev/null)))
PYTHON312 ?= $(call find_python,3.12)
PYTHON313 ?= $(call find_python,3.13)
MATRIX_PIP = -m pip install --quiet --disable-pip-version-check

# $(1) venv, $(2) python, $(3) Django version
define matrix_venv
	@if [ -z "$(2)" ]; then echo "no Python for $(1)"; exit 1; fi
	@test -x $(1)/bin/python || $(2) -m venv $(1)
	grep -viE '^(django|djangorestframework|django-stubs|django-stubs-ext|djangorestframework-stubs)==' \
		requirements-dev.lock > $(1)/constraints.txt
	$(1)/bin/python $(MATRIX_PIP) -c $(1)/constraints.txt "django==$(3)" \
		"djangorestframework==$(MATRIX_DRF)" -e ".[cli,sql,fix,fast,interop,postgres]" -r sample_project/requirements.txt \
		pytest pytest-django pytest-xdist hypothesis django-taggit
	@touch $(1)/.installed
endef

# $(1) the Python that must exist, $(2) release name
define matrix_skip
	@if [ "$${PERFTOOLKIT_REQUIRE_MATRIX:-0}" != 0 ]; then \
		echo "Python $(1) is not installed, so Django $(2) cannot be tested (PERFTOOLKIT_REQUIRE_MATRIX=1 forbids skipping)"; exit 1; \
	else echo "skipped: Django $(2) needs Python $(1), which is not installed (pyenv install $(1))"; fi
endef

.venv-django60/.installed: pyproject.toml requirements-dev.lock sample_project/requirements.txt
	$(call matrix_venv,.venv-django60,$(PYTHON312),$(DJANGO60))

.venv-django61/.installed: pyproject.toml requirements-dev.lock sample_project/requirements.txt
	$(call matrix_venv,.venv-django61,$(PYTHON313),$(DJANGO61))

ifeq ($(PYTHON312),)
test-django60:
	$(call matrix_skip,3.12,$(DJANGO60))
else
test-django60: .venv-django60/.installed
	.venv-django60/bin/python -m pytest tests -q -m "not slow and not browser" -n 2
endif

ifeq ($(PYTHON313),)
test-django61:
	$(call matrix_skip,3.13,$(DJANGO61))
else
test-django61: .venv-django61/.installed
	.venv-django61/bin/python -m pytest tests -q -m "not slow and not browser" -n 2
	cd sample_project && SAMPLE_VARIANT=before DATABASE_URL= ../.venv-django61/bin/python -m pytest -c pytest.ini -q
	cd sample_project && SAMPLE_VARIANT=after DATABASE_URL= ../.venv-django61/bin/python -m pytest -c pytest.ini -q
endif

test-matrix: test-django60 test-django61

demo: install
	$(BIN)/python sample_project/demo.py

# The three benchmarks with short defaults (a few minutes): the overhead of perftoolkit and its
# peers (5 interleaved rounds), the report build on 10k and 100k requests (BENCH_SIZES="10000
# 100000 1000000" adds the million: about 3 more minutes and 6.5 GB of disk), the fingerprint.
BENCH_SIZES ?= 10000 100000

$(BENCH_STAMP): $(STAMP) pyproject.toml requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements-dev.lock -e ".[$(EXTRAS),bench]"
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/overhead.py --paired --rounds 25 --target 0.2
	$(BIN)/python benchmarks/report_build.py --sizes $(BENCH_SIZES)
	$(BIN)/python benchmarks/fingerprint.py

# Refresh the README's report images under docs/ (headless Chromium; not part of the tests).
screenshots: install
	$(BIN)/python docs/screenshots.py

# Re-resolve every dependency to its newest allowed release and write the lock.
lock:
	rm -rf /tmp/perftoolkit-lock && $(PYTHON) -m venv /tmp/perftoolkit-lock
	/tmp/perftoolkit-lock/bin/pip install --quiet -e ".[$(LOCK_EXTRAS)]" -r sample_project/requirements.txt
	/tmp/perftoolkit-lock/bin/pip freeze --exclude-editable | grep -v '^perftoolkit' > requirements-dev.lock

clean:
	rm -rf $(VENV) .venv-django60 .venv-django61 reports/*/ .mypy_cache .ruff_cache .coverage
