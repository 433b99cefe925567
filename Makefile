# The course's commands. `make test` is the test command CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two installs: the lab (what the notebooks need: make lab, make run) and, on top of it, the maintainers' tools
# (make test, lint, book, slides, benchmark, reference).
LAB    := $(VENV)/.installed-lab
STAMP  := $(VENV)/.installed
# JupyterLab refuses to start as root unless told; cloud GPU machines and containers often run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

# The course keeps its weight caches inside the project (git-ignored) unless you point elsewhere.
export KERAS_HOME ?= $(CURDIR)/data/keras
export TFHUB_CACHE_DIR ?= $(CURDIR)/data/tfhub
# Another Keras cache to fill ours from, for offline machines (used by offline-cache and smoke when it exists).
KERAS_CACHE_SRC ?= ../shared/weights/keras

.PHONY: test test-real quick test-service run smoke lab lint strip benchmark offline-cache slides reference

$(LAB): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# setuptools >= 82 first: its older copy of pkg_resources must be gone before standard-pkg-resources arrives
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=82"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(LAB)

$(STAMP): $(LAB) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

# Both cores (pytest-xdist). conftest.py's scheduler keeps a file's tests on one worker, each notebook's cells in
# order, and the notebooks that read an earlier one's files after it on the same worker; --no-loadscope-reorder
# keeps its order (the real-data suite first). --durations lists the 30 slowest tests, where a speed-up would pay.
JOBS   ?= auto
PYTEST := -m pytest --nbval-lax -q -n $(JOBS) --dist loadscope --no-loadscope-reorder --durations=30

## test: the full test command CI runs. Unit tests, every notebook in smoke mode through nbval (offline) and the
## real-data suite, on the pinned set (Python 3.11); then the notebook-service set (make test-service)
test: $(STAMP)
	$(BIN)/python $(PYTEST)
	$(MAKE) test-service

## test-real: the real-data suite with every lesson, the long 03-04 chain included (about an hour on 2 cores);
## make test runs the other lessons for real
test-real: $(STAMP)
	COURSE_REAL_ALL=1 $(BIN)/python $(PYTEST) -m real

## quick: what a maintainer runs after a change: the same without the real-data suite and the service set
quick: $(STAMP)
	$(BIN)/python $(PYTEST) -m "not real"

# The notebook-service set: Colab's versions (requirements-colab.txt) on Python 3.13, in .venv-service.
SERVICE_PYTHON ?= $(shell for p in $$HOME/.pyenv/versions/3.13*/bin/python3.13 python3.13; do \
	if "$$p" -c pass >/dev/null 2>&1; then echo "$$p"; break; fi; done)
SERVICE_VENV   := .venv-service
SERVICE_STAMP  := $(SERVICE_VENV)/.installed

$(SERVICE_STAMP): requirements-colab.txt requirements-dev.txt pyproject.toml
	@test -n "$(SERVICE_PYTHON)" || { echo "test-service needs Python 3.13 (set SERVICE_PYTHON=/path/to/python3.13)"; exit 1; }
	rm -rf $(SERVICE_VENV)
	$(SERVICE_PYTHON) -m venv $(SERVICE_VENV)
	$(SERVICE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SERVICE_VENV)/bin/python -m pip install --quiet -r requirements-colab.txt -r requirements-dev.txt \
		$$(grep -E '^(jupyterlab|jupyterlab-rise|papermill)==' requirements.txt) -c requirements-colab.txt
	$(SERVICE_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $(SERVICE_STAMP)

# The service set runs the notebooks and the tests of what runs inside them (helpers, lessons, robustness);
# the tooling's tests (book, slides, container, benchmarks, repository) do not depend on the versions.
SERVICE_TESTS := helpers tests/helpers tests/lessons tests/robustness tests/tools/test_hub_cache.py notebooks

## test-service: notebook 00's install cell installs the course into Python 3.13 with Colab's versions (and keeps
## them): the course is taken out of .venv-service for that and put back after; then the service set's tests
test-service: $(STAMP) $(SERVICE_STAMP)
	$(SERVICE_VENV)/bin/python -m pip uninstall --quiet --yes course-helpers
	$(BIN)/python -m tools.fresh_install --python $(SERVICE_VENV)/bin/python; status=$$?; \
		$(SERVICE_VENV)/bin/python -m pip install --quiet --no-deps -e . && exit $$status
	$(SERVICE_VENV)/bin/python $(PYTEST) -m "not real" $(SERVICE_TESTS)

## lint: ruff on helpers, tests and (through nbqa) the notebooks
lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks tools conftest.py
	$(BIN)/nbqa ruff notebooks --line-length 88
	$(BIN)/lint-imports

## run: execute every notebook in order into runs/<timestamp>/ in the active profile
run: $(LAB)
	$(BIN)/python -m tools.runner

## smoke: the same in the tiny smoke profile with the smallest backbone (seconds per notebook; offline when
## KERAS_CACHE_SRC exists)
smoke: $(LAB)
	if [ -d "$(KERAS_CACHE_SRC)" ]; then $(BIN)/python -m tools.hub_cache offline --keras-src $(KERAS_CACHE_SRC); fi
	COURSE_SMOKE=1 COURSE_BACKBONE=$${COURSE_BACKBONE:-mobilenet_v2_035} $(BIN)/python -m tools.runner

## offline-cache: copy weights from KERAS_CACHE_SRC into the Keras cache and build the backbone's TF Hub twin
offline-cache: $(LAB)
	$(BIN)/python -m tools.hub_cache offline --keras-src $(KERAS_CACHE_SRC) --backbone $(or $(COURSE_BACKBONE),mobilenet_v2_035)

## lab: open JupyterLab on the notebooks (installs only what the notebooks need; as root it passes --allow-root)
lab: $(LAB)
	$(BIN)/jupyter lab $(ALLOW_ROOT) notebooks

## strip: remove outputs from every notebook (also done by the pre-commit hook)
strip: $(STAMP)
	$(BIN)/nbstripout --keep-id notebooks/*.ipynb notebooks/solutions/*.ipynb

## reference: every lesson for real, offline (../shared data and weights), published to results/ and the README
reference: $(STAMP)
	$(BIN)/python -m tools.hub_cache offline --keras-src $(KERAS_CACHE_SRC) --backbone mobilenet_v2_035
	$(BIN)/python -m tools.reference

## book: the course book, a static site of a run's executed notebooks, in RUN_DIR/book (default: the newest run)
.PHONY: book book-serve
RUN_DIR ?=
BOOK_PORT ?= 8000
book: $(STAMP)
	$(BIN)/python -m tools.book build $(RUN_DIR)

## book-serve: serve that book on http://127.0.0.1:$(BOOK_PORT)/ (built first if missing)
book-serve: $(STAMP)
	$(BIN)/python -m tools.book serve $(RUN_DIR) --port $(BOOK_PORT)

## slides: a run's executed notebooks as reveal.js slides (one slide per ## section, outputs and figures on them)
## in RUN_DIR/slides/ (default: the newest run); reveal.js comes from tools/reveal/, so the decks work offline
slides: $(STAMP)
	$(BIN)/python -m tools.slides $(RUN_DIR)

## benchmark: every performance figure against its target (benchmarks/run_all.py), written to
## benchmarks/last_results.csv; BENCH_ARGS passes options, e.g. BENCH_ARGS="--suite-times runs/<t>/seconds.csv"
BENCH_ARGS ?=
benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)
