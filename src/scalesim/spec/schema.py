"""The JSON Schema of the spec, for editors (`# yaml-language-server: $schema=...`)."""

from __future__ import annotations

from typing import Any

from scalesim.spec.model import System
from scalesim.spec.units import DURATION_PATTERN


def spec_json_schema() -> dict[str, Any]:
    schema = System.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ScaleSim system spec"
    constant = schema.get("$defs", {}).get("Constant")
    if constant is not None:  # a bare duration string is a constant distribution
        schema["$defs"]["Constant"] = {"anyOf": [
            {"type": "string", "pattern": DURATION_PATTERN}, constant]}
    return schema
