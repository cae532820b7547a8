# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Dev and test tools (and the build requirements) install from this lock; the package itself
# keeps ranges for users. `make lock` re-resolves it.
LOCK := requirements/dev.lock
PIP_VERSION := 26.3
# The kernel is compiled with mypyc (see setup.py): rebuild when its sources change.
COMPILED := $(shell sed -n 's/^ *"\(src\/.*\.py\)",$$/\1/p' setup.py)

.PHONY: run test check bench clean lock studio studio-test studio-skipped validate-real

# The studio's front end (frontend/, TypeScript + Vite) is built into the Python package
# (src/scalesim/studio/static), which serves it: `npm ci` from the committed lock, then a
# Vite build. Neither node_modules nor the build is committed (docs/studio.md says why).
FRONTEND := frontend
NODE_MODULES := $(FRONTEND)/node_modules/.installed
STUDIO_BUILD := src/scalesim/studio/static/index.html
FRONTEND_SOURCES := $(shell find $(FRONTEND)/src -type f 2>/dev/null) $(FRONTEND)/index.html \
	$(FRONTEND)/vite.config.ts $(FRONTEND)/tsconfig.json
NPM := $(shell command -v npm 2>/dev/null)
# Without npm, `make test` skips the front end's checks and says so; CI sets REQUIRE_NPM=1
# (.ci/run installs npm), so there a missing npm fails instead of skipping.
REQUIRE_NPM ?=
FRONTEND_CHECKS := $(if $(NPM),studio-test $(STUDIO_BUILD),studio-skipped)

# The compose-spec JSON schema, for validating generated compose files in tests: the last
# Python release of docker-compose ships it. Fetched from PyPI into .cache, never committed.
COMPOSE_SCHEMA := .cache/compose_spec.json

$(STAMP): pyproject.toml setup.py $(LOCK) $(COMPILED)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet -c $(LOCK) --build-constraint $(LOCK) -e '.[dev,parquet]'
	touch $(STAMP)

lock: $(STAMP)  ## re-resolve requirements/dev.lock from pyproject.toml (needs the network)
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra dev --extra parquet \
		--universal --python-version 3.11 -o $(LOCK)

run: $(STAMP) $(if $(NPM),$(STUDIO_BUILD))  ## list the templates, build and simulate one, simulate the example, say how to start the studio
	$(BIN)/scalesim templates list
	mkdir -p .cache
	$(BIN)/scalesim new circuit-breaker -o .cache/circuit-breaker.yaml --force
	$(BIN)/scalesim simulate .cache/circuit-breaker.yaml
	$(BIN)/scalesim simulate examples/shop.yaml
	@echo
	@echo "ScaleSim Studio, the web app: $(BIN)/scalesim studio"
	@echo "  (http://127.0.0.1:8765/ opens in your browser; --no-browser, --port N, --host ADDR, --db URL)"
	@$(if $(NPM),,echo "  Its front end is not built: install Node.js 18+ and npm, then run make studio")

$(NODE_MODULES): $(FRONTEND)/package-lock.json
	@$(if $(NPM),,echo "npm is needed to build the studio's front end: install Node.js 18+ and npm" && exit 1)
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	touch $@

$(STUDIO_BUILD): $(NODE_MODULES) $(FRONTEND_SOURCES)
	cd $(FRONTEND) && npm run build

studio: $(STUDIO_BUILD)  ## build the studio's front end into the package

studio-test: $(NODE_MODULES)  ## the front end's type check, lint (ESLint: a warning fails too) and unit tests (Vitest)
	cd $(FRONTEND) && npx tsc --noEmit && npm run lint -- --max-warnings 0 && npx vitest run

studio-skipped:
	@$(if $(REQUIRE_NPM),echo "npm not found but REQUIRE_NPM is set (CI): install Node.js 18+ and npm" && exit 1)
	@echo "npm not found: the studio's front-end checks are skipped (install Node.js 18+ and npm to run them)"

check: $(STAMP)  ## style and types
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

$(COMPOSE_SCHEMA): | $(STAMP)
	mkdir -p .cache/wheels
	$(BIN)/python -m pip download --quiet --no-deps --dest .cache/wheels docker-compose==1.29.2
	$(BIN)/python -c "import zipfile, glob; w = glob.glob('.cache/wheels/docker_compose-*.whl')[0]; open('$@', 'wb').write(zipfile.ZipFile(w).read('compose/config/compose_spec.json'))"

test: check $(COMPOSE_SCHEMA) $(FRONTEND_CHECKS)  ## the whole suite, in parallel (the front end's checks need npm)
	$(BIN)/pytest -n auto -q

bench: $(STAMP)  ## the speed table (benchmarks/results.md); profile; speed against SimPy and topology size; the studio flow; parallel replications; the estimate's speed
	$(BIN)/python benchmarks/table.py
	$(BIN)/python benchmarks/profile_kernel.py
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/studio_flow.py
	$(BIN)/python benchmarks/parallel.py
	$(BIN)/python benchmarks/estimate_speed.py

validate-real: $(STAMP)  ## the generated services against the simulator (long: ~20 min; docs/validation.md)
	$(BIN)/python benchmarks/validate_real.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache test-artifacts \
		$(FRONTEND)/node_modules src/scalesim/studio/static
