# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The kernel is compiled with mypyc (see setup.py): rebuild when its sources change.
COMPILED := $(shell sed -n 's/^ *"\(src\/.*\.py\)",$$/\1/p' setup.py)

.PHONY: run test check bench clean

# The compose-spec JSON schema, for validating generated compose files in tests: the last
# Python release of docker-compose ships it. Fetched from PyPI into .cache, never committed.
COMPOSE_SCHEMA := .cache/compose_spec.json

$(STAMP): pyproject.toml setup.py $(COMPILED)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

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

bench: $(STAMP)  ## speed against SimPy on the reference models
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
