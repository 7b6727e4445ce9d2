# Bookshelf. `make run` and `make test` are the two commands that matter (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
# --no-compile: Python compiles what it imports on first use; compiling every installed
# module up front made a fresh install about 40% slower (make check-install).
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
	--no-compile
# The system Chromium when there is one (Debian's package); Playwright's own elsewhere.
SYSTEM_CHROMIUM := $(or $(CHROMIUM_PATH),$(shell command -v chromium || command -v chromium-browser))
NGINX := $(shell command -v nginx || ls /usr/sbin/nginx 2>/dev/null)
APT_GET := $(shell command -v apt-get)
# make e2e K=expr: only the tests pytest's -k selects. HEADED=1: show the browser.
# UNIT_WORKERS, E2E_WORKERS: processes for the unit and browser tests (pytest-xdist; 0 = one).
UNIT_WORKERS ?= 2
E2E_WORKERS ?= 2
# The slowest tests of each run, so the next slow one is seen.
DURATIONS ?= 15

.PHONY: help run test check-install unit e2e e2e-deps lint typecheck format browser lock migrate seed serve-https bench bench-deps clean

help:
	@echo "make run     venv, pinned deps, migrate, demo data, app on http://127.0.0.1:$(PORT)"
	@echo "make test    ruff, mypy, check-install, unit tests, Playwright e2e (non-zero on any failure)"
	@echo "make check-install  make run in a fresh venv from requirements/base.txt alone; prod.txt imports"
	@echo "make unit    unit tests only;  make e2e   browser tests only"
	@echo "make e2e K=expr   only the tests -k selects;  HEADED=1  watch the browser"
	@echo "make format  apply ruff's formatting and safe fixes"
	@echo "make typecheck  mypy with django-stubs on apps/ and project/"
	@echo "make lock    recompile requirements/*.txt from the .in files"
	@echo "make serve-https  gunicorn over TLS on https://127.0.0.1:8443, HTTP :8080 redirects"
	@echo "make bench   BENCH_BOOKS=100000 books on PostgreSQL, gunicorn + wrk: docs/bench/latest.*"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base-installed: requirements/base.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements/base.txt
	@touch $@

$(VENV)/.dev-installed: requirements/dev.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements/dev.txt
	@touch $@ $(VENV)/.base-installed

migrate: $(VENV)/.base-installed
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) seed_demo

# Links in mails point at the served address unless BOOKSHELF_SITE_URL says otherwise.
run: seed
	BOOKSHELF_SITE_URL="$${BOOKSHELF_SITE_URL:-http://127.0.0.1:$(PORT)}" \
	  $(MANAGE) runserver 127.0.0.1:$(PORT)

# Production settings over real TLS: https://127.0.0.1:8443 (self-signed), HTTP :8080 redirects.
serve-https: $(VENV)/.dev-installed
	$(BIN)/python -m project.serve_https

# The browser and nginx first: a machine that lacks them stops at once, not after the unit tests.
test: e2e-deps lint typecheck check-install unit e2e

# `make run` as a newcomer meets it: a fresh venv with requirements/base.txt only, a scratch
# database, the demo, / and /books/ served; then every module imported with prod.txt alone.
check-install:
	@SECONDS=0; $(PYTHON) .ci/fresh_install.py; status=$$?; \
	echo "make check-install: $$SECONDS s wall time"; exit $$status

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: $(VENV)/.dev-installed
	@SECONDS=0; \
	$(BIN)/pytest --ds=project.settings.test apps -n $(UNIT_WORKERS) -rs --durations=$(DURATIONS); \
	status=$$?; echo "make unit: $$SECONDS s wall time"; exit $$status

# A failed test's trace, screenshot and console log land in e2e/artifacts/ (pyproject.toml).
e2e: e2e-deps
	@headed=""; \
	if [ -n "$(HEADED)" ]; then \
	  if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname)" = Darwin ]; then headed="--headed"; \
	  else echo "HEADED=1: this machine has no display (\$$DISPLAY is not set); running headless."; fi; \
	fi; \
	workers="-n $(E2E_WORKERS) --dist loadgroup"; \
	if [ -n "$$headed" ] || [ "$(E2E_WORKERS)" = 0 ]; then workers="-n 0"; fi; \
	SECONDS=0; \
	$(BIN)/pytest --ds=project.settings.test e2e $$workers $$headed --durations=$(DURATIONS) \
	  $(if $(K),-k '$(K)'); \
	status=$$?; echo "make e2e: $$SECONDS s wall time"; exit $$status

# What the browser tests need besides Python: Chromium, and nginx for e2e/test_nginx.py.
# Missing ones are installed where that works: Debian's packages through apt-get, as root or
# through sudo without a password (Playwright cannot download its browser on machines without
# internet access); elsewhere Playwright's own Chromium. Otherwise make stops at once and
# says the one command to run.
PLAYWRIGHT_HAS_CHROMIUM := $(BIN)/python -c "import os, sys; \
	from playwright.sync_api import sync_playwright; p = sync_playwright().start(); \
	found = os.path.exists(p.chromium.executable_path); p.stop(); sys.exit(not found)"

e2e-deps: $(VENV)/.dev-installed
	@packages=""; \
	if [ -n "$(SYSTEM_CHROMIUM)" ]; then echo "Browser: $(SYSTEM_CHROMIUM)"; \
	elif $(PLAYWRIGHT_HAS_CHROMIUM) 2>/dev/null; then echo "Browser: Playwright's Chromium"; \
	elif [ -n "$(APT_GET)" ]; then packages=" chromium"; \
	elif ! $(BIN)/playwright install chromium; then \
	  echo "make: no browser for the e2e tests. Run:  $(BIN)/playwright install chromium" >&2; \
	  exit 1; \
	fi; \
	if [ -n "$(NGINX)" ]; then echo "nginx: $(NGINX)"; \
	elif [ -n "$(APT_GET)" ]; then packages="$$packages nginx"; \
	elif command -v brew >/dev/null; then brew install nginx || exit 1; \
	else echo "make: e2e/test_nginx.py needs nginx: install it with this system's package manager" >&2; \
	  exit 1; \
	fi; \
	[ -z "$$packages" ] && exit 0; \
	if [ "$$(id -u)" -eq 0 ]; then as_root=""; \
	elif sudo -n true 2>/dev/null; then as_root="sudo"; \
	else echo "make: the e2e tests need$$packages. Run:  sudo apt-get install -y$$packages" >&2; \
	  exit 1; \
	fi; \
	echo "Installing Debian's$$packages (apt-get)"; \
	$$as_root $(APT_GET) update -qq \
	  && $$as_root env DEBIAN_FRONTEND=noninteractive \
	     $(APT_GET) install -y -qq --no-install-recommends $$packages \
	  || { echo "make: could not install$$packages. Run:  sudo apt-get install -y$$packages" >&2; \
	       exit 1; }

browser: e2e-deps

# The benchmark (project/bench.py): wrk from Debian's packages, installed like the browser.
bench: bench-deps
	$(BIN)/python -m project.bench

bench-deps: $(VENV)/.dev-installed
	@command -v wrk >/dev/null && exit 0; \
	if [ -z "$(APT_GET)" ]; then echo "make bench needs wrk: install it with this system's package manager" >&2; exit 1; fi; \
	if [ "$$(id -u)" -eq 0 ]; then as_root=""; \
	elif sudo -n true 2>/dev/null; then as_root="sudo"; \
	else echo "make bench needs wrk. Run:  sudo apt-get install -y wrk" >&2; exit 1; fi; \
	echo "Installing Debian's wrk (apt-get)"; \
	$$as_root $(APT_GET) update -qq && $$as_root env DEBIAN_FRONTEND=noninteractive \
	  $(APT_GET) install -y -qq --no-install-recommends wrk

lock: $(VENV)/.dev-installed
	cd requirements && for name in base prod dev; do \
		../$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
			--output-file $$name.txt $$name.in || exit 1; \
	done

clean:
	rm -rf $(VENV) staticfiles .tls .pytest_cache .ruff_cache
