# Set-up and the two README commands. Everything installs into .venv with plain pip; torch is pinned
# through constraints.txt (2.13.0, a local CPU wheel on our machines).
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGIN_DIRS := $(sort $(wildcard plugins/mm4m-modality-*))
PLUGIN_SOURCES := $(shell find plugins -path '*/src/*' -type f -not -path '*/__pycache__/*' 2>/dev/null)

.PHONY: setup test test-numerics demo clean

setup: $(VENV)/.installed

# mm4m itself installs editable (edits take effect at once); plugins install as regular wheels, so the
# suite also checks what users get from `pip install mm4m-modality-*` (manifests shipped as package data).
$(VENV)/.installed: pyproject.toml constraints.txt $(PLUGIN_SOURCES) $(wildcard plugins/*/pyproject.toml)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,triton]'
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt --force-reinstall --no-deps $(PLUGIN_DIRS)
	touch $@

# The float32 fixture tests, which test-numerics reruns under other CPU kernels (docs/numerics.md).
NUMERIC_TESTS := tests/core/model/test_golden_forward.py tests/core/model/test_vit.py \
	tests/core/tokenizers/neural/test_fixture_vqvae.py tests/core/tokenizers/neural/test_fixture_divae.py \
	tests/core/tokenizers/neural/test_schedulers.py tests/core/tokenizers/serializers/test_goldens.py \
	tests/core/generation/test_golden_generation.py tests/testing/test_numerics.py

test: setup
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-numerics

test-numerics: setup
	$(PY) -m mm4m.testing.kernel_matrix -- -W error::mm4m.testing.numerics.NearTieWarning $(NUMERIC_TESTS)

demo: setup
	$(VENV)/bin/mm4m demo

clean:
	rm -rf $(VENV) build *.egg-info
