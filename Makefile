# logdoctor: `make demo` and `make test` are all a new machine needs (python3 and make).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench samples clean venv wheel-test

$(STAMP): pyproject.toml
	@./scripts/mkvenv "$(PYTHON)" "$(VENV)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/logdoctor stats sample_logs
	$(BIN)/logdoctor report sample_logs -o report.html

lint: $(STAMP)
	$(BIN)/ruff check logdoctor tests benchmarks
	$(BIN)/ruff format --check logdoctor tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/report.py

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache report.html
