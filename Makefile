# Two commands for a fresh machine: `make run` serves the demo, `make test` runs the whole suite.
# The browser tests drive Debian's Chromium (`apt-get install chromium`); without it they are skipped.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
CHROMIUM := /usr/bin/chromium
# pytest-playwright: a screenshot and a trace of a failed browser test, next to the screenshots.
BROWSER_ARGS := --output=test-artifacts/playwright --screenshot=only-on-failure --tracing=retain-on-failure
# `loadgroup`: the browser tests (xdist_group "browser") share one worker, so one server and one Chromium.
XDIST_ARGS := -n 2 --dist loadgroup

.PHONY: run serve worker beat test test-sqlite test-postgres test-browser lint format migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

$(VENV)/.browser: requirements-browser.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-browser.txt
	touch $@

migrate: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

# Debug off, so a visitor never sees a debug page (tracebacks go to this console); DJANGO_LOCAL=1 keeps
# plain-HTTP cookies and the development keys; --insecure lets runserver serve the static files with
# debug off. tests/test_error_pages.py starts the server the same way.
RUN_ENV := DJANGO_DEBUG=0 DJANGO_LOCAL=1
run: demo
	$(RUN_ENV) $(BIN)/python manage.py runserver --insecure $(HOST)

# Production (docs/deployment.md): refuses to start without DJANGO_SECRET_KEY, HISTORY_CHAIN_KEY and
# DJANGO_ALLOWED_HOSTS, or on an unmigrated database; then collectstatic and gunicorn.
serve: $(VENV)/.runtime
	bin/serve

# Background jobs (CELERY_BROKER_URL): the workers, and one beat per deployment for the schedule.
worker: $(VENV)/.runtime
	$(BIN)/celery -A compliance worker --loglevel=INFO

beat: $(VENV)/.runtime
	$(BIN)/celery -A compliance beat --loglevel=INFO --schedule=var/celerybeat-schedule

test: $(VENV)/.dev $(VENV)/.browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	@[ -x $(CHROMIUM) ] || echo "note: $(CHROMIUM) is missing, the browser tests will be skipped (apt-get install chromium)"
	@$(BIN)/python -c "import redis; redis.Redis(socket_connect_timeout=1).ping()" 2>/dev/null || command -v redis-server >/dev/null \
		|| echo "note: no Redis on 127.0.0.1:6379, the background-job tests will be skipped (apt-get install redis-server, or set TEST_REDIS_URL)"
	$(BIN)/pytest -rsfE $(XDIST_ARGS) $(BROWSER_ARGS) $(PYTEST_ARGS)
	@if [ -n "$$DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres PG_URL="$$DATABASE_URL"; fi

test-postgres: $(VENV)/.dev $(VENV)/.browser
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -rsfE $(XDIST_ARGS) $(BROWSER_ARGS) $(PYTEST_ARGS)

# Only the browser tests, one process, skips reported (screenshots in test-artifacts/).
test-browser: $(VENV)/.dev $(VENV)/.browser
	$(BIN)/pytest -p no:xdist -m browser -rs $(BROWSER_ARGS) $(PYTEST_ARGS) tests/test_browser.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var test-artifacts
