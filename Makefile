# The two quick-start commands (see README.md). Everything runs in a virtual environment
# (.venv), created on first use, so the commands work with any python3 >= 3.11, Debian's too.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
OUT ?= demo-out

.PHONY: install demo test bench golden

$(PYTHON):
	python3 -m venv $(VENV)

install: $(PYTHON)
	$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[test]'

# The main job on built-in defaults: until `cos-xl demo` exists, the workbooks of a sample
# period for every region, signed with the development key.
demo: install
	$(PYTHON) -m cos_xl.cli generate --period 2020Q3 --out $(OUT)/2020Q3 --dev-key

test: install
	$(PYTHON) -m pytest -q

bench: install
	$(PYTHON) bench/generate.py
	$(PYTHON) bench/validate.py

golden: install
	COS_XL_UPDATE_GOLDEN=1 $(PYTHON) -m pytest -q tests/test_golden.py
