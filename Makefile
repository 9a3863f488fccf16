# The project's two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
RUNTIME := $(VENV)/.runtime
LINTED := engine tests nuke_plugin install init.py menu.py $(wildcard benchmarks/*.py)

.PHONY: demo test lint typecheck bench clean browser

# the demo needs the runtime only (numpy, scipy, OpenImageIO, onnxruntime, OpenCV, Numba): no
# torch, no Qt, no linters; the test environment adds the extras on top of it
$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(RUNTIME)
	$(PY) -m hotpixel.demo --out demo_out

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# the QC page is tested in a real headless browser: Debian's chromium, installed when missing
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: lint typecheck browser
	HOTPIXEL_REQUIRE_BROWSER=1 $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/speed.py

clean:
	rm -rf $(VENV) demo_out .pytest_cache .mypy_cache .ruff_cache
