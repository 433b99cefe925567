# The course's commands. `make test` is the test command CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The course keeps its weight caches inside the project (git-ignored) unless you point elsewhere.
export KERAS_HOME ?= $(CURDIR)/data/keras
export TFHUB_CACHE_DIR ?= $(CURDIR)/data/tfhub
# Another Keras cache to fill ours from, for offline machines (used by offline-cache and smoke when it exists).
KERAS_CACHE_SRC ?= ../shared/weights/keras

.PHONY: test run smoke lab lint strip benchmark offline-cache slides reference

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## test: unit tests, then every notebook in smoke mode through nbval (offline)
test: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax -q

## lint: ruff on helpers, tests and (through nbqa) the notebooks
lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks conftest.py
	$(BIN)/nbqa ruff notebooks

## run: execute every notebook in order into runs/<timestamp>/ in the active profile
run: $(STAMP)
	$(BIN)/python -m helpers.runner

## smoke: the same in the tiny smoke profile with the smallest backbone (seconds per notebook; offline when
## KERAS_CACHE_SRC exists)
smoke: $(STAMP)
	if [ -d "$(KERAS_CACHE_SRC)" ]; then $(BIN)/python -m helpers.hub_cache offline --keras-src $(KERAS_CACHE_SRC); fi
	COURSE_SMOKE=1 COURSE_BACKBONE=$${COURSE_BACKBONE:-mobilenet_v2_035} $(BIN)/python -m helpers.runner

## offline-cache: copy weights from KERAS_CACHE_SRC into the Keras cache and build the backbone's TF Hub twin
offline-cache: $(STAMP)
	$(BIN)/python -m helpers.hub_cache offline --keras-src $(KERAS_CACHE_SRC) --backbone $(or $(COURSE_BACKBONE),mobilenet_v2_035)

## lab: open JupyterLab on the notebooks
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

## strip: remove outputs from every notebook (also done by the pre-commit hook)
strip: $(STAMP)
	$(BIN)/nbstripout notebooks/*.ipynb notebooks/solutions/*.ipynb

## reference: every lesson for real, offline (../shared data and weights), published to results/ and the README
reference: $(STAMP)
	$(BIN)/python -m helpers.hub_cache offline --keras-src $(KERAS_CACHE_SRC) --backbone mobilenet_v2_035
	$(BIN)/python -m helpers.reference

## book: the course book, a static site of a run's executed notebooks, in RUN_DIR/book (default: the newest run)
.PHONY: book book-serve
RUN_DIR ?=
BOOK_PORT ?= 8000
book: $(STAMP)
	$(BIN)/python -m helpers.book build $(RUN_DIR)

## book-serve: serve that book on http://127.0.0.1:$(BOOK_PORT)/ (built first if missing)
book-serve: $(STAMP)
	$(BIN)/python -m helpers.book serve $(RUN_DIR) --port $(BOOK_PORT)

## slides: every notebook as reveal.js slides (one slide per ## section) in runs/<timestamp>/slides/
slides: $(STAMP)
	$(BIN)/python -m helpers.slides

## benchmark: every performance figure against its target (benchmarks/run_all.py), written to
## benchmarks/last_results.csv; BENCH_ARGS passes options, e.g. BENCH_ARGS="--suite-times runs/<t>/seconds.csv"
BENCH_ARGS ?=
benchmark: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)
