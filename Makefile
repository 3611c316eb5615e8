# Two commands set up a fresh machine: `make demo` (the main job, offline) and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
STAMP   := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: setup system-deps demo lab test test-fast bench clean constraints

setup: $(STAMP)

# constraints.txt pins the versions tested together (the package itself keeps ranges, upper bounds where
# it uses internals); refresh it with `make constraints` after upgrading on purpose.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (tiktok-intel)" >/dev/null
	touch $(STAMP)

# Debian packages the browser tests, OCR and the scaling tests (a throwaway PostgreSQL) need; installed only where missing (needs root or sudo).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr tesseract-ocr-swe"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The main job on the offline TikTok: 14 simulated days of the schedules, then the dashboards (Ctrl-C stops).
# A second run reuses data/; `make demo REBUILD=1` builds it again.
demo: setup system-deps
	$(VENV)/bin/tiktok-intel demo $(if $(REBUILD),--rebuild) --port $(or $(PORT),8866)

# JupyterLab on the package's notebooks (pipelines/, exploratory/, dashboards/), with the workspace in data/
# (outside a checkout: `tiktok-intel notebooks copy DIR`, then `jupyter lab DIR`). As root, Jupyter wants --allow-root.
lab: setup
	TIKTOK_INTEL_WORKSPACE=$(CURDIR)/data $(VENV)/bin/jupyter lab --notebook-dir=tiktok_intel/notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# The suite, style, then every shipped notebook run by nbval (on an empty workspace of its own:
# tiktok_intel/notebooks/conftest.py).
test: setup system-deps
	$(VENV)/bin/pytest -q tests
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/pytest -q --nbval-lax -p no:cacheprovider tiktok_intel/notebooks

test-fast: setup
	$(VENV)/bin/pytest -q -x tests -m "not browser and not slow"

bench: setup
	$(PY) bench/run.py --scale $(or $(SCALE),1)

clean:
	rm -rf $(VENV) .pytest_cache

# Write constraints.txt from what is installed now (after `pip install -U ...` and a green `make test`).
constraints: setup
	{ echo "# Versions tested together: make setup and CI install with -c constraints.txt (make constraints rewrites it)."; \
	  $(PIP) freeze --exclude-editable | grep -v '^tiktok-intel' | LC_ALL=C sort -f; } > constraints.txt
