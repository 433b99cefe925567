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

.PHONY: test test-service run smoke lab lint strip benchmark offline-cache slides reference

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

## test: unit tests, then every notebook in smoke mode through nbval (offline), on the pinned set (Python 3.11);
## then the same on the notebook-service set (Colab's versions, Python 3.13), with a fresh install of notebook 00
test: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax -q
	$(MAKE) test-service

# The notebook-service set: Colab's versions (requirements-colab.txt) on Python 3.13, in .venv-service.
SERVICE_PYTHON ?= $(shell for p in $$HOME/.pyenv/versions/3.13*/bin/python3.13 python3.13; do \
	if "$$p" -c pass >/dev/null 2>&1; then echo "$$p"; break; fi; done)
SERVICE_VENV   := .venv-service
SERVICE_STAMP  := $(SERVICE_VENV)/.installed

$(SERVICE_STAMP): requirements-colab.txt requirements-dev.txt pyproject.toml
	@test -n "$(SERVICE_PYTHON)" || { echo "test-service needs Python 3.13 (set SERVICE_PYTHON=/path/to/python3.13)"; exit 1; }
	rm -rf $(SERVICE_VENV) $(SERVICE_VENV)-fresh
	$(SERVICE_PYTHON) -m venv $(SERVICE_VENV)
	$(SERVICE_PYTHON) -m venv $(SERVICE_VENV)-fresh
	$(SERVICE_VENV)-fresh/bin/python -m pip install --quiet --upgrade pip
	$(SERVICE_VENV)-fresh/bin/python -m pip install --quiet -r requirements-colab.txt nbval==0.11.0 pytest==9.2.0 ipykernel
	$(SERVICE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SERVICE_VENV)/bin/python -m pip install --quiet -r requirements-colab.txt -r requirements-dev.txt \
		$$(grep -E '^(jupyterlab|jupyterlab-rise|papermill)==' requirements.txt) -c requirements-colab.txt
	$(SERVICE_VENV)/bin/python -m pip install --quiet -e . -c requirements-colab.txt
	touch $(SERVICE_STAMP)

# Tests of the course's tooling (book, slides, container, benchmarks, repository layout) do not depend on the
# TensorFlow / Keras versions: they run once, on the pinned set.
SERVICE_SKIP := $(addprefix --ignore=tests/,test_book.py test_slides.py test_docker.py test_benchmarks.py \
	test_repository.py test_links.py test_reference.py)

## test-service: notebook 00's first cell installs the course into a fresh Python 3.13 with Colab's versions (and
## keeps them); then the unit tests and every notebook in smoke mode on that set
test-service: $(STAMP) $(SERVICE_STAMP)
	$(BIN)/python -m tools.fresh_install --python $(SERVICE_VENV)-fresh/bin/python
	$(SERVICE_VENV)/bin/python -m pytest --nbval-lax -q -m "not real" $(SERVICE_SKIP)

## lint: ruff on helpers, tests and (through nbqa) the notebooks
lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks tools conftest.py
	$(BIN)/nbqa ruff notebooks

## run: execute every notebook in order into runs/<timestamp>/ in the active profile
run: $(LAB)
	$(BIN)/python -m helpers.runner

## smoke: the same in the tiny smoke profile with the smallest backbone (seconds per notebook; offline when
## KERAS_CACHE_SRC exists)
smoke: $(LAB)
	if [ -d "$(KERAS_CACHE_SRC)" ]; then $(BIN)/python -m helpers.hub_cache offline --keras-src $(KERAS_CACHE_SRC); fi
	COURSE_SMOKE=1 COURSE_BACKBONE=$${COURSE_BACKBONE:-mobilenet_v2_035} $(BIN)/python -m helpers.runner

## offline-cache: copy weights from KERAS_CACHE_SRC into the Keras cache and build the backbone's TF Hub twin
offline-cache: $(LAB)
	$(BIN)/python -m helpers.hub_cache offline --keras-src $(KERAS_CACHE_SRC) --backbone $(or $(COURSE_BACKBONE),mobilenet_v2_035)

## lab: open JupyterLab on the notebooks (installs only what the notebooks need; as root it passes --allow-root)
lab: $(LAB)
	$(BIN)/jupyter lab $(ALLOW_ROOT) notebooks

## strip: remove outputs from every notebook (also done by the pre-commit hook)
strip: $(STAMP)
	$(BIN)/nbstripout --keep-id notebooks/*.ipynb notebooks/solutions/*.ipynb

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
