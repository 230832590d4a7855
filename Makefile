# Herald: `make run` starts everything on http://127.0.0.1:8000, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= $(or $(HERALD_DATA_DIR),var)

.PHONY: install run test test-servers smoke lint format migrate bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# web, worker and beat under one supervisor (honcho); Ctrl-C stops all three.
run: install
	$(BIN)/python manage.py herald_setup
	@rm -rf $(DATA)/metrics && mkdir -p $(DATA)/metrics
	PROMETHEUS_MULTIPROC_DIR=$(abspath $(DATA))/metrics $(BIN)/honcho -f Procfile.dev start

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install lint
	$(BIN)/pytest $(PYTEST_ARGS)

# the suite against a private PostgreSQL + Redis on loopback (needs their server packages), as CI does
test-servers: install
	bin/with-pg-redis $(BIN)/pytest $(PYTEST_ARGS)

# `make run` answers /health, /sandbox/ and /api/docs, runs beat's heartbeat, stops cleanly on Ctrl-C
smoke: install
	bin/smoke-run

bench: install
	$(BIN)/python bench/telegram_fanout.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
