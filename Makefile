# Two commands for a new user:  make run   (set up, then start the app)
#                               make test  (set up, then run every test)
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup run test test-fast screenshots lint clean-venv system-deps llama-wheel

setup: $(STAMP)

# The first setup compiles llama-cpp-python (about 10 minutes on 2 cores); pip caches the
# built wheel, so later setups take about a minute.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip wheel setuptools
	# CPU-only torch first, so nothing pulls the multi-GB CUDA build.
	$(PY) -m pip install torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(MAKE) llama-wheel
	$(PY) -m pip install --find-links $(LLAMA_WHEELS) 'llama-cpp-python==$(LLAMA_VERSION)'
	$(PY) -m pip install --find-links $(LLAMA_WHEELS) -e '.[dev]'
	# The int8 embedder, made once into ~/.cache/gptbuilder for every data folder (about 20 s),
	# so that the app's first start does not wait for it.
	$(PY) -m gptbuilder.backends.onnx_export
	touch $(STAMP)

# llama.cpp's default build tunes itself to the CPU that compiles it (AVX-512, AMX...). Such a
# wheel crashed in its first batch on a machine whose CPU reports AMX that the system does not
# enable, and pip's cache would hand it to any later setup. So the wheel is built once for any
# x86-64 CPU with AVX2 (laptops of the last ten years) and kept in $(LLAMA_WHEELS).
LLAMA_VERSION := 0.3.36
LLAMA_WHEELS  ?= $(HOME)/.cache/gptbuilder/wheels/llama-cpp-python-$(LLAMA_VERSION)-avx2
LLAMA_CMAKE   := $(if $(filter x86_64 amd64,$(shell uname -m)),-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)
llama-wheel:
	@if ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "llama-cpp-python $(LLAMA_VERSION): using the wheel in $(LLAMA_WHEELS)"; \
	else \
	  echo "Compiling llama-cpp-python $(LLAMA_VERSION) (about 10 minutes on 2 cores, once)"; \
	  mkdir -p $(LLAMA_WHEELS) && \
	  CMAKE_ARGS="$(LLAMA_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	    $(PY) -m pip wheel --no-deps --no-cache-dir 'llama-cpp-python==$(LLAMA_VERSION)' \
	    -w $(LLAMA_WHEELS); \
	fi

run: setup
	$(PY) app.py

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The tests that need no real model, browser or server process (under 2 minutes).
test-fast: setup
	$(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

# Refresh the README's screenshots (the browser tests write them to a temporary folder).
screenshots: setup
	GPTB_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -m browser $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check gptbuilder tests bench app.py
	$(PY) -m ruff format --check gptbuilder tests bench app.py
	$(PY) -m mypy

clean-venv:
	rm -rf $(VENV)

# Optional system packages (Debian/Ubuntu, as root): OCR for scanned PDFs, Chromium for browser tests.
SYSTEM_PACKAGES := tesseract-ocr chromium chromium-driver fonts-noto-color-emoji
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi
