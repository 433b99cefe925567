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

.PHONY: test run smoke lab lint strip benchmark offline-cache slides

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

## slides: every notebook as reveal.js slides (one slide per ## section) in runs/<timestamp>/slides/
slides: $(STAMP)
	$(BIN)/python -m helpers.slides

## benchmark: cached-features vs frozen-base epoch time, as a ratio
benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_cached_features.py
