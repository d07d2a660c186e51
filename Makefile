# Two commands do all the set-up on a machine with only Python 3.11+, make and apt:
#   make run    collector + enrolled local agent + dashboard on loopback
#   make test   the whole suite (installs Debian's chromium and firefox-esr for the browser tests)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.shadowmap-installed
CHROMIUM := /usr/lib/chromium/chromium
FIREFOX := /usr/lib/firefox-esr/firefox-esr

.PHONY: openssl run test checks lint typecheck layers eslint docs docs-check bench-smoke bench fuzz venv chromium firefox postgresql pango demo system-tools lock clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-model.txt
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3-venv missing: installing it with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && \
	  $(PYTHON) -m venv $(VENV); }
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q --no-deps --require-hashes -r requirements-model.txt
	$(PIP) install -q --no-deps -e .
	@touch $@

chromium:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# WeasyPrint (the weekly report's PDF) lays text out with the system's pango.
pango:
	@ldconfig -p | grep -q libpangoft2-1.0.so.0 || { \
	  echo "installing Debian's pango for the report's PDF"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0; }

# The PostgreSQL tests start their own throwaway cluster from the server binaries
# (tests/support/pg_cluster.py); the package's own service is never relied on (RUNLEVEL=1: not started).
postgresql:
	@{ command -v pg_config >/dev/null && test -x "$$(pg_config --bindir)/initdb"; } || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql for the PostgreSQL tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq postgresql; }

# The Firefox build of the extension is run in Debian's Firefox ESR (WebDriver BiDi).
firefox:
	@test -x $(FIREFOX) || { \
	  echo "installing Debian's firefox-esr for the Firefox browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr; }

# The browser tests' page runs the real ProseMirror packages from npm (pinned by the lock).
E2E_SITE := tests/e2e/site
$(E2E_SITE)/node_modules/.package-lock.json: $(E2E_SITE)/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --prefix $(E2E_SITE) --no-audit --no-fund --loglevel=error

# axe-core for the console's accessibility scan (tests/collector/test_console_a11y.py), pinned by its lock.
AXE_DIR := tests/tooling/axe
$(AXE_DIR)/node_modules/.package-lock.json: $(AXE_DIR)/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --prefix $(AXE_DIR) --no-audit --no-fund --loglevel=error

# A real OpenID provider (oidc-provider) for the console SSO tests (tests/security/test_oidc_login.py), pinned by its lock.
OIDC_DIR := tests/tooling/oidc
$(OIDC_DIR)/node_modules/.package-lock.json: $(OIDC_DIR)/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --prefix $(OIDC_DIR) --no-audit --no-fund --loglevel=error

# openssl makes the browser tests' and the paste bench's loopback certificates.
openssl:
	@command -v openssl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl; }

# Debian tools the packaging tests build and check real packages with.
SYSTEM_TOOLS := lintian wixl msiinfo systemd-analyze dpkg-deb
system-tools:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages for:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lintian wixl msitools systemd dpkg-dev; fi

# The suite waits on processes and browsers more than it computes: four workers, each test
# file on one worker. The .deb's system-wide install and the browser tests take turns on a
# lock (tests/support/machine_lock.py).
test: checks chromium firefox postgresql pango openssl system-tools $(E2E_SITE)/node_modules/.package-lock.json $(AXE_DIR)/node_modules/.package-lock.json \
      $(OIDC_DIR)/node_modules/.package-lock.json
	$(PY) -m pytest -q -n 4 --dist loadfile --durations=20

# The checks run before the suites; each is also a target of its own.
checks: lint typecheck layers eslint docs-check bench-smoke

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# mypy and import-linter read files, so they get the installed shape of the package:
# build/stage/shadowmap/* links to the repository's folders (pyproject's package-dir). They
# run from there: import-linter puts its working folder first on the path, and the
# checkout's own shadowmap/ folder holds only the top of the package.
STAGE := build/stage
typecheck: $(STAMP)
	@$(PY) tests/tooling/stage_tree.py $(STAGE) >/dev/null
	cd $(STAGE) && $(CURDIR)/$(VENV)/bin/mypy --config-file $(CURDIR)/pyproject.toml --cache-dir $(CURDIR)/.mypy_cache -p shadowmap

layers: $(STAMP)
	@$(PY) tests/tooling/stage_tree.py $(STAGE) >/dev/null
	cd $(STAGE) && $(CURDIR)/$(VENV)/bin/lint-imports --config $(CURDIR)/pyproject.toml --no-cache

# eslint for the extension's JavaScript, pinned by tests/tooling/eslint/package-lock.json.
ESLINT_DIR := tests/tooling/eslint
$(ESLINT_DIR)/node_modules/.package-lock.json: $(ESLINT_DIR)/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --prefix $(ESLINT_DIR) --no-audit --no-fund --loglevel=error
eslint: $(ESLINT_DIR)/node_modules/.package-lock.json
	$(ESLINT_DIR)/node_modules/.bin/eslint --config $(ESLINT_DIR)/eslint.config.js --max-warnings 0 extension_bridge/extension

# docs/cli.md, routes.md, agent-settings.md and events.md are generated from the code.
docs: $(STAMP)
	$(PY) -m shadowmap.devdocs

docs-check: $(STAMP)
	$(PY) -m shadowmap.devdocs --check

# What the benchmarks need: Debian's chromium and the e2e test page's npm packages (paste_roundtrip.py).
BENCH_DEPS := $(STAMP) chromium openssl $(E2E_SITE)/node_modules/.package-lock.json

# Every bench at tiny sizes (seconds each): fails when a bench is broken, prints its figures.
bench-smoke: $(BENCH_DEPS)
	@failed=""; for b in bench/*.py; do echo "== $$b --smoke"; start=$$SECONDS; \
	  $(PY) $$b --smoke || failed="$$failed $$b"; echo "   ($$((SECONDS - start)) s)"; done; \
	if [ -n "$$failed" ]; then echo "broken benches:$$failed"; exit 1; fi

run: $(STAMP) pango
	$(PY) -m shadowmap.devrun

# A realistic week sent through the public API to the running collector: make run's (its
# var/ folder holds the enroll secret and admin password), or DEMO_URL= and DEMO_VAR= another's;
# then one device-watch pass on its database (DEMO_DB=, default collector.db in that folder).
demo: $(STAMP)
	$(PY) -m shadowmap.demo $(if $(DEMO_URL),--url $(DEMO_URL)) $(if $(DEMO_VAR),--var-dir $(DEMO_VAR)) $(if $(DEMO_DB),--db $(DEMO_DB))

# Benchmarks print figures and ratios against a reference measured in the same run.
bench: $(BENCH_DEPS)
	@set -e; for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

# Long fuzzing runs (the suite runs the same properties with fewer examples): ingest, console
# pages and webhooks (tests/collector/test_console_fuzz.py), enroll, login, account forms and
# notices (tests/security/test_enroll_console_fuzz.py), the native host, the secret formats.
fuzz: $(STAMP)
	SHADOWMAP_FUZZ_EXAMPLES=10000 $(PY) -m pytest -q -m fuzz

# Re-pin after changing dependencies in pyproject.toml.
lock:
	rm -rf /tmp/shadowmap-lock && $(PYTHON) -m venv /tmp/shadowmap-lock
	/tmp/shadowmap-lock/bin/pip install -q '.[agent,collector,mdm,test]'
	{ head -2 requirements.lock; /tmp/shadowmap-lock/bin/pip freeze --all --exclude shadowmap --exclude pip; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache
