# The two front-door commands: `make run` and `make test`. Both install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run demo-keys test test-postgres bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: install  ## the service on SQLite with the demo network: http://127.0.0.1:$(PORT)/docs (make run PORT=8080; CARAVAN_HOST=0.0.0.0 to listen beyond this machine)
	$(BIN)/caravan serve --demo --port $(PORT)

demo-keys: install  ## fresh demo keys; the earlier demo keys are revoked
	$(BIN)/caravan seed-demo --fresh-keys

test: install  ## the whole suite (SQLite; CARAVAN_TEST_DATABASE_URL=postgresql://… for PostgreSQL)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var *.egg-info
