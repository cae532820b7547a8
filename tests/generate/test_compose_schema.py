"""Generated compose files validate against the compose-spec JSON schema.

`make test` puts the schema in .cache/ (from the last Python release of docker-compose). That
schema predates the top-level `name` (added to the compose spec in 2022), so the check runs
on the file without it; everything else is checked as is.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from scalesim.generate import GenerateOptions, Target, render
from scalesim.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / ".cache" / "compose_spec.json"


@pytest.mark.skipif(not SCHEMA.exists(), reason=f"compose-spec schema not found at {SCHEMA} "
                    "(run `make test`, which fetches it)")
@pytest.mark.parametrize("spec", ["examples/shop.yaml", "examples/contained.yaml",
                                  "examples/retry-storm.yaml", "tests/generate/small.yaml"])
def test_compose_files_validate_against_the_compose_spec(spec: str) -> None:
    schema = json.loads(SCHEMA.read_text())
    files = render(load_spec(REPO / spec), Target.COMPOSE, GenerateOptions())
    compose = [f for f in files if f.path.endswith(".yaml")]
    assert compose
    for generated in compose:
        document = yaml.safe_load(generated.content)
        assert isinstance(document.pop("name"), str)
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=str)
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
