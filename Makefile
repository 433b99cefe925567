# The course's commands. `make test` is the test command CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test run smoke lab lint strip benchmark offline-cache

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

## smoke: the same in the tiny smoke profile (seconds per notebook)
smoke:
	COURSE_SMOKE=1 $(MAKE) run

## offline-cache: copy weights from KERAS_CACHE_SRC into the Keras cache and build the backbone's TF Hub twin
KERAS_CACHE_SRC ?= ../shared/weights/keras
offline-cache: $(STAMP)
	$(BIN)/python -m helpers.hub_cache offline --keras-src $(KERAS_CACHE_SRC) --backbone $(or $(COURSE_BACKBONE),mobilenet_v2_035)

## lab: open JupyterLab on the notebooks
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

## strip: remove outputs from every notebook (also done by the pre-commit hook)
strip: $(STAMP)
	$(BIN)/nbstripout notebooks/*.ipynb notebooks/solutions/*.ipynb

## benchmark: cached-features vs frozen-base epoch time, as a ratio
benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_cached_features.py
