# Every target sets itself up on a fresh machine: system packages when missing, a venv,
# and one pip command with torch==2.13.0 pinned (that pin takes the CPU wheel).
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.palaestra-installed
PYTEST_ARGS ?=

.PHONY: demo test test-all lint bench setup system clean

demo: setup
	$(BIN)/palaestra demo

test: setup lint
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# pyflakes and import order (pyproject.toml [tool.ruff])
lint: setup
	$(BIN)/ruff check palaestra tests benchmarks

test-all: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	for f in benchmarks/[!_]*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

setup: system $(STAMP)

system:
	@command -v chromium >/dev/null && { command -v stockfish || test -x /usr/games/stockfish; } >/dev/null || { \
	  echo "installing Debian packages: chromium stockfish"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium stockfish; }

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0" -e ".[all,dev]"
	# bfcl-eval, miniwob, stardist and imgaug pin old numpy/selenium/tensorflow-era
	# stacks: their data files (BFCL JSON + API classes, MiniWoB pages, images with
	# masks) are all we read, so they come without their dependencies
	$(BIN)/pip install -q --no-deps "bfcl-eval==2026.3.23" "miniwob==1.1.0" "stardist==0.9.2" "imgaug==0.4.0"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache
