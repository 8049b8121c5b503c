# One command each, on a fresh machine with Python 3.11: the venv is made and filled on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: worksheet test bench clean

$(VENV)/installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The PDFs need XeLaTeX with Korean support: scripts/install-tex installs it where apt-get can
# run (root, or sudo without a password) and otherwise prints the command; the rest is written.
worksheet: $(VENV)/installed
	@scripts/install-tex
	$(PY) -m derive worksheet -o output

# MathJax for the browser tests, pinned in tests/browser/package-lock.json (skipped without npm).
MATHJAX := tests/browser/node_modules/mathjax/es5/tex-svg.js
$(MATHJAX): tests/browser/package.json tests/browser/package-lock.json
	if command -v npm >/dev/null; then npm ci --prefix tests/browser --no-audit --no-fund --silent && touch $@; fi

test: $(VENV)/installed $(MATHJAX)
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest

# Performance targets, measured (not part of `make test`); PyTorch only for the comparison.
bench: $(VENV)/installed
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) output tests/browser/node_modules
