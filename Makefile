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

.PHONY: run test check bench clean lock

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

run: $(STAMP)  ## list the pattern templates, build and simulate one, simulate the bundled example
	$(BIN)/scalesim templates list
	mkdir -p .cache
	$(BIN)/scalesim new circuit-breaker -o .cache/circuit-breaker.yaml --force
	$(BIN)/scalesim simulate .cache/circuit-breaker.yaml
	$(BIN)/scalesim simulate examples/shop.yaml

check: $(STAMP)  ## style and types
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

$(COMPOSE_SCHEMA): | $(STAMP)
	mkdir -p .cache/wheels
	$(BIN)/python -m pip download --quiet --no-deps --dest .cache/wheels docker-compose==1.29.2
	$(BIN)/python -c "import zipfile, glob; w = glob.glob('.cache/wheels/docker_compose-*.whl')[0]; open('$@', 'wb').write(zipfile.ZipFile(w).read('compose/config/compose_spec.json'))"

test: check $(COMPOSE_SCHEMA)  ## the whole suite, in parallel
	$(BIN)/pytest -n auto -q

bench: $(STAMP)  ## speed against SimPy on the reference models; parallel replications
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/parallel.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
