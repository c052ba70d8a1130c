# One-command set-up: `make chat` (serve the chat page) and `make test` (run the test suite).
# Both create .venv and install what they need on first use; later runs reuse it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt
# Re-install when the dependency list changes.
BASE_STAMP := $(VENV)/.base-installed
DEV_STAMP  := $(VENV)/.dev-installed
LLM_STAMP  := $(VENV)/.llm-installed

.PHONY: install install-dev install-llm chat index test lint eval compare calibrate bench train clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip

# torch first, from the pinned CPU wheel, so nothing later resolves a multi-GB CUDA build.
# Then the embedding model's ONNX export, once per machine (~/.cache/summit-assistant/models, or
# ASSISTANT_MODELS_DIR), so no serving process ever imports torch to make it.
$(BASE_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) torch==2.13.0
	$(PIP) -e .
	$(BIN)/python -m assistant.minilm_onnx
	touch $@

$(DEV_STAMP): $(BASE_STAMP)
	$(PIP) -e '.[dev]'
	touch $@

# llama-cpp-python compiles from source (~5 min on 2 cores, once; pip caches the wheel).
$(LLM_STAMP): $(DEV_STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP) -e '.[dev,llm]'
	touch $@

install: $(BASE_STAMP)
install-dev: $(DEV_STAMP)
install-llm: $(LLM_STAMP)

chat: install
	$(BIN)/assistant chat

index: install
	$(BIN)/assistant index

# The lint (ruff, format check, mypy) runs first: a type or format error fails `make test` before the suite.
test: install-llm lint
	$(BIN)/python -m pytest

# Lint, format check and type check (configured in pyproject.toml); `ruff format assistant tests evals` fixes the format.
lint: install-dev
	$(BIN)/ruff check assistant tests evals
	$(BIN)/ruff format --check assistant tests evals
	$(BIN)/mypy assistant

eval: install
	$(BIN)/assistant eval

compare: install
	$(BIN)/assistant eval --compare dense bm25 hybrid hybrid-rerank

calibrate: install
	$(BIN)/assistant eval --calibrate --suite main

bench: install
	$(BIN)/assistant bench

# Retrain the reader (about 70 minutes of training on 2 cores) into .data/reader; see assistant/data/reader/MODEL_CARD.md.
SQUAD ?= ../shared/data/squad
train: install
	$(BIN)/assistant train --squad2 $(SQUAD)/squad2-dev-30-articles.json --squad1 $(SQUAD)/squad1.1-train.json

clean:
	rm -rf $(VENV) .data .pytest_cache
