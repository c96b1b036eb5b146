# Two commands for a new user:  make run   (set up, then start the app)
#                               make test  (set up, then run every test)
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint clean-venv system-deps

setup: $(STAMP)

# The first setup compiles llama-cpp-python (about 10 minutes on 2 cores); pip caches the
# built wheel, so later setups take about a minute.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip wheel setuptools
	# CPU-only torch first, so nothing pulls the multi-GB CUDA build.
	$(PY) -m pip install torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

run: setup
	$(PY) app.py

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check gptbuilder tests app.py

clean-venv:
	rm -rf $(VENV)

# Optional system packages (Debian/Ubuntu, as root): OCR for scanned PDFs, Chromium for browser tests.
SYSTEM_PACKAGES := tesseract-ocr chromium chromium-driver fonts-noto-color-emoji
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi
