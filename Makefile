# The two quick-start commands (see README.md). Everything runs in a virtual environment
# (.venv), created on first use, so the commands work with any python3 >= 3.11, Debian's too.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
OUT ?= demo-out

.PHONY: install demo test bench golden

# The package is installed editable, so a change to the code needs no reinstall: only a change
# to pyproject.toml (dependencies, entry points) does. The stamp records the last install.
INSTALLED := $(VENV)/.installed

$(PYTHON):
	python3 -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

# Reinstall now, whatever the stamp says.
install: | $(PYTHON)
	$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(INSTALLED)

# The main job on built-in defaults: a whole reporting round (2020Q3, 85 regions) on synthetic
# data, signed with the development key: templates, returns, ledger, status, national report.
demo: $(INSTALLED)
	$(PYTHON) -m cos_xl.cli demo --out $(OUT)

test: $(INSTALLED)
	$(PYTHON) -m pytest -q

# Every stage at 85 regions, 2,500 and 40,000 workbooks, against naive baselines (long).
bench: $(INSTALLED)
	$(PYTHON) bench/run.py

golden: $(INSTALLED)
	COS_XL_UPDATE_GOLDEN=1 $(PYTHON) -m pytest -q tests/test_golden.py
