# The two quick-start commands (see README.md).
PYTHON ?= python3
OUT ?= demo-out

.PHONY: install demo test bench golden

install:
	$(PYTHON) -m pip install -q -e '.[test]'

# The main job on built-in defaults: until `cos-xl demo` exists, the templates of a sample
# period for every region, signed with the development key.
demo: install
	$(PYTHON) -m cos_xl.cli generate --period 2020Q3 --out $(OUT)/2020Q3 --dev-key

test: install
	$(PYTHON) -m pytest -q

bench:
	$(PYTHON) bench/generate.py

golden:
	COS_XL_UPDATE_GOLDEN=1 $(PYTHON) -m pytest -q tests/test_golden.py
