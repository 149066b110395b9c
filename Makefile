# The README's two commands are `make book` and `make test`; each bootstraps .venv first.
#
# tools/install_torch.py picks the PyTorch build: PyPI's CUDA build where an NVIDIA GPU is
# present, the CPU build elsewhere. TORCH and TORCH_INDEX_URL override it, for example:
#   make test TORCH="torch==2.13.0" TORCH_INDEX_URL=https://download.pytorch.org/whl/cu130
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= python3
VENV ?= .venv
TORCH ?=
TORCH_INDEX_URL ?=
PROFILE ?=
# A book build loads the committed records and stops at a missing one with the command that
# makes it; TRAIN=1 trains what is missing instead (the smoke profile always trains).
TRAIN ?=
PYTEST_ARGS ?=
# A plain `make test` skips the tests marked slow (papermill smoke runs of every chapter,
# a full book build); CI (which sets CI=true) and FULL=1 run them too.
FULL ?= $(CI)
SLOW := $(if $(filter true 1 yes,$(FULL)),,-m "not slow")

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The slow tests include a sweep on a real two-node Ray cluster, so a run that includes
# them installs Ray (lvae[ray], about 80 MB) into .venv first; a plain `make test` does not.
RAY_STAMP := $(VENV)/.ray-installed

.PHONY: help book test bench lint format sync notebooks clean

help:
	@echo "make book       execute every notebook fresh and build the book into _build/html;"
	@echo "                it loads the committed records and stops at a missing one with the"
	@echo "                command that makes it (TRAIN=1: train it instead)"
	@echo "make test       unit tests and nbval on the committed notebooks (FULL=1 or CI=true:"
	@echo "                also papermill smoke runs of every chapter, a full book build and a"
	@echo "                sweep on a local Ray cluster, for which it installs Ray first)"
	@echo "make bench      the stacked engine's speed against a one-model loop (a report)"
	@echo "make notebooks  re-execute the committed notebooks in place (refresh golden outputs)"
	@echo "make sync       sync each notebooks/*.py with its .ipynb twin (jupytext)"
	@echo "make lint       ruff check and format check"
	@echo "variables: TORCH='$(TORCH)' TORCH_INDEX_URL='$(TORCH_INDEX_URL)' (empty: chosen for this machine)"
	@echo "           PROFILE='$(PROFILE)' (empty: each chapter's own default)"
	@echo "           TRAIN='$(TRAIN)' (1: make book trains missing records; PROFILE=smoke always does)"

$(STAMP): pyproject.toml constraints.txt tools/install_torch.py Makefile
	@echo ">> creating $(VENV)"
	$(PYTHON) -m venv $(VENV)
	TORCH='$(TORCH)' TORCH_INDEX_URL='$(TORCH_INDEX_URL)' $(BIN)/python tools/install_torch.py
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/python book/build.py $(if $(PROFILE),--profile $(PROFILE),) \
		$(if $(filter 1 true yes,$(TRAIN))$(filter smoke,$(PROFILE)),--train,)

$(RAY_STAMP): $(STAMP)
	$(BIN)/python tools/install_torch.py --lvae-only --extras ray
	touch $(RAY_STAMP)

test: $(STAMP) $(if $(SLOW),,$(RAY_STAMP))
	$(BIN)/python -m pytest $(SLOW) $(PYTEST_ARGS)

# Speed depends on the machine, so it is measured and reported (CI prints it), not tested.
bench: $(STAMP)
	$(BIN)/python -m lvae bench --quick --device cpu

lint: $(STAMP)
	$(BIN)/ruff check lvae tests book tools notebooks/*.py
	$(BIN)/ruff format --check lvae tests book tools notebooks/*.py

format: $(STAMP)
	$(BIN)/ruff format lvae tests book tools notebooks/*.py

sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.py

notebooks: $(STAMP)
	$(BIN)/python book/build.py --update-golden

clean:
	rm -rf _build .pytest_cache
