# Convex score matching: the two commands are `make book` and `make test`.
SHELL := /bin/bash
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXECUTE ?= 0
STUDENT ?= 0
PORT ?= 8888
LAB_ARGS ?=

# Deterministic numerics everywhere: one thread for BLAS/OpenMP/torch, fixed hash seed, headless matplotlib.
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export JUPYTER_PLATFORM_DIRS := 1

NOTEBOOKS := $(shell find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null | sort)
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-current-env --nbval-cell-timeout=600

.PHONY: help venv book pdf test test-lib test-notebooks test-pdf test-launch test-browser lab execute clean benchmarks

help:
	@echo "make book        build the HTML book into _build/html (EXECUTE=1 re-runs every notebook;"
	@echo "                 STUDENT=1 builds an edition without solutions into _build/student/_build/html)"
	@echo "make pdf         the whole book as one PDF (XeLaTeX): _build/convex-score-matching.pdf, also in _build/html"
	@echo "make test        library tests, nbval on every notebook, a warnings-as-errors build, browser checks"
	@echo "make lab         open the notebooks in JupyterLab (PORT=$(PORT); extra options in LAB_ARGS)"
	@echo "make test-lib / test-notebooks / test-pdf / test-launch / test-browser   the parts of make test"
	@echo "make execute     re-execute notebooks in place and store outputs (NB=path to pick one)"
	@echo "make benchmarks  run the performance benchmarks (not part of make test)"

# (Re)create .venv when it is missing or older than requirements.txt / pyproject.toml.
$(STAMP): requirements.txt pyproject.toml
	set -e
	if [ ! -x $(BIN)/python ]; then $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	if $(BIN)/python -m pip list 2>/dev/null | grep -iE '^(nvidia|triton|cuda)' ; then \
	  echo "error: CUDA packages were installed; install torch's CPU build (see README)"; exit 1; fi
	$(BIN)/python tools/kernelspec.py > /dev/null
	touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	set -e
	$(BIN)/python tools/build_book.py $(if $(filter 1,$(EXECUTE)),--execute,) $(if $(filter 1,$(STUDENT)),--student,)

# Library tests, strict nbval on every notebook, a warnings-as-errors build, then the built pages in a headless
# browser (they skip without Chromium, except when CI=true: see tests/browser/conftest.py).
test: $(STAMP)
	set -e
	$(MAKE) --no-print-directory test-lib
	$(MAKE) --no-print-directory test-notebooks
	$(MAKE) --no-print-directory book
	$(MAKE) --no-print-directory test-pdf
	$(MAKE) --no-print-directory test-launch
	$(MAKE) --no-print-directory test-browser

pdf: $(STAMP)
	$(BIN)/python tools/build_book.py --builder pdflatex

# Builds the PDF and checks pages, chapters and references; skips without TeX unless CI=true (tools/check_pdf.py).
test-pdf: $(STAMP)
	$(BIN)/python tools/check_pdf.py

# Fresh Binder and Colab environments run a lab and an assignment; skips unless CI=true or LAUNCH_TEST=1.
test-launch: $(STAMP)
	$(BIN)/python tools/launch_env_test.py

test-lib: $(STAMP)
	set -e
	$(BIN)/ruff check lib tests
	$(BIN)/python -m pytest -q tests --ignore=tests/browser

test-browser: $(STAMP)
	$(BIN)/python -m pytest -q tests/browser

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest -q $(NBVAL) $(NOTEBOOKS)

lab: $(STAMP)
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) $(if $(filter 0,$(shell id -u)),--allow-root,) \
	  $(LAB_ARGS) notebooks

execute: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py $(if $(NB),$(NB),$(NOTEBOOKS))

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Student and autograder versions of the course assignments (notebooks/assignments/) into _build/assignments/.
assignments: $(STAMP)
	$(BIN)/python tools/assignments.py generate

clean:
	rm -rf _build
