# The README's two commands are `make book` and `make test`; each bootstraps .venv first.
#
# GPU users pick a CUDA build of PyTorch, for example:
#   make test TORCH="torch==2.13.0" TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX_URL ?=
PROFILE ?=
PYTEST_ARGS ?=

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_INDEX := $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL),)

.PHONY: help book test lint format sync notebooks clean

help:
	@echo "make book       execute every notebook fresh and build the book into _build/html"
	@echo "make test       run the test suite (unit tests, nbval, papermill smoke runs, book build)"
	@echo "make notebooks  re-execute the committed notebooks in place (refresh golden outputs)"
	@echo "make sync       sync each notebooks/*.py with its .ipynb twin (jupytext)"
	@echo "make lint       ruff check and format check"
	@echo "variables: TORCH='$(TORCH)' TORCH_INDEX_URL='$(TORCH_INDEX_URL)' PROFILE='$(PROFILE)' (empty: each chapter's own default)"

$(STAMP): pyproject.toml Makefile
	@echo ">> creating $(VENV) with $(TORCH)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_INDEX) "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/python book/build.py $(if $(PROFILE),--profile $(PROFILE),)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check lvae tests book notebooks/*.py
	$(BIN)/ruff format --check lvae tests book notebooks/*.py

format: $(STAMP)
	$(BIN)/ruff format lvae tests book notebooks/*.py

sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.py

notebooks: $(STAMP)
	$(BIN)/python book/build.py --update-golden

clean:
	rm -rf _build .pytest_cache
