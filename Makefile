# One command each, on a fresh machine with Python 3.11: the venv is made and filled on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: worksheet test clean

$(VENV)/installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

worksheet: $(VENV)/installed
	$(PY) -m derive worksheet -o output

test: $(VENV)/installed
	$(PY) -m pytest

clean:
	rm -rf $(VENV) output
