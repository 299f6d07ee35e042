# logdoctor: `make demo` and `make test` are all a new machine needs (python3 and make).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow test-all sysdeps lint typecheck pytest bench samples clean venv wheel-test \
	docs docs-gen docs-screenshot

# pytest workers: one per core (pytest-xdist); JOBS=0 runs the suite in one process.
JOBS ?= auto

$(STAMP): pyproject.toml
	@./scripts/mkvenv "$(PYTHON)" "$(VENV)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# One scenario's report, then every sample checked as its own cluster (with its own deployment
# file) by `fleet`: sample_logs/ holds one bundle per scenario, never one cluster. The fleet
# exits 1 because the samples have findings (their point); only 2 (a bundle unread) fails.
DEMO := sample_logs/expressway-refresh-ucm-off
DEMO_REPORT := $(BIN)/logdoctor report $(DEMO) --config $(DEMO)/deployment.toml -o report.html
demo: $(STAMP)
	$(DEMO_REPORT)
	@rm -rf demo-configs && mkdir demo-configs && for d in sample_logs/*/; do \
	  if [ -f "$$d/deployment.toml" ]; then cp "$$d/deployment.toml" "demo-configs/$$(basename "$$d").toml"; fi; \
	done
	$(BIN)/logdoctor fleet sample_logs/* --in-process --config-dir demo-configs -o fleet-report \
	  || [ $$? -eq 1 ]

lint: $(STAMP)
	$(BIN)/ruff check logdoctor tests benchmarks scripts/gendocs.py
	$(BIN)/ruff format --check logdoctor tests benchmarks scripts/gendocs.py

typecheck: $(STAMP)
	$(BIN)/mypy

# Debian's chromium (report tests in a real browser) and lnav (lnav format tests, benchmarks):
# installed when this machine allows it (root or password-less sudo), else one line says how.
sysdeps:
	@./scripts/sysdeps

# `make test`: lint, types and the fast suite (a few minutes on 2 cores). `make test-slow`: the
# end-to-end set marked `slow` (wheels, Dask clusters, servers, browsers, every scenario's
# precision and recall). CI (.ci/run) runs both.
pytest: $(STAMP)
	$(BIN)/pytest -q -m "not slow" -n $(JOBS)

test: sysdeps lint typecheck pytest

test-slow: sysdeps $(STAMP)
	$(BIN)/pytest -q -m slow -n $(JOBS)

test-all: test test-slow

# The documentation site (mkdocs-material): `make docs` builds it, strict (a broken link or a
# page missing from the nav fails), into site/. `make docs-gen` regenerates the reference pages
# (docs/reference/: CLI, rules, event table) from the code; tests/test_docs.py fails while they
# are stale. `make docs-screenshot` redraws docs/img/report.png from the demo report.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-gen: $(STAMP)
	$(PY) scripts/gendocs.py

docs-screenshot: $(STAMP)
	$(DEMO_REPORT)
	./scripts/screenshot-report report.html docs/img/report.png

# One table: every command paired with lnav on the generated files, check/report on 1 M and
# 3 M events with peak memory (about 20 minutes on 2 cores); see benchmarks/bench_speed.py.
bench: $(STAMP)
	$(PY) benchmarks/bench_speed.py

# One folder per scenario of `logdoctor simulate --list`, seed 1, byte-identical on every run
# (tests/simulate checks it); files are not gzipped, as real nodes write them (gzip is a tested
# input form: tests/test_sources.py, tests/simulate/test_sim_engine.py).
samples: $(STAMP)
	$(BIN)/logdoctor simulate --all --out sample_logs --force

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache report.html fleet-report \
	  demo-configs site
