# The two front-door commands: `make run` and `make test`. Both install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test test-postgres bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: install  ## the service on SQLite with the demo network: http://127.0.0.1:8000/docs
	$(BIN)/caravan serve --demo

test: install  ## the whole suite (SQLite; CARAVAN_TEST_DATABASE_URL=postgresql://… for PostgreSQL)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var *.egg-info
