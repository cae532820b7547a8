"""Hypothesis strategies for hostile specs: documents built from the spec's JSON Schema, and
the examples and templates mangled with the values that broke ScaleSim before (issue 19)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from scalesim.spec.schema import spec_json_schema
from scalesim.spec.yamlpos import load_with_positions

REPO = Path(__file__).resolve().parents[2]
BASES = [load_with_positions(path.read_text())[0]
         for path in sorted((REPO / "examples").glob("*.yaml"))]

HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1, 2**31, 10**12, 10**30, 1e308, math.inf, -math.inf, math.nan,
    1.5, "", " ", "0s", "1us", "1h", "1e9s", "2e9s", "1e400s", "1e400ms", "-1s", "1e400/s",
    "1e9/s", "0/s", "2k/s", "150%", "5%", "x3", "x0", "+2s", "p95", "p9999", "unlimited",
    "db.query", "nowhere.op", "a" * 70, "\x1b[31mred\x1b[0m", "é", "[1", "{", "*a",
    [], {}, [[[[[[]]]]]], {"dist": "mixture", "of": []},
    {"dist": "pareto", "min": "1ms", "alpha": 1e-9}, {"dist": "gamma", "mean": "1ms", "cv": 1e6},
    {"dist": "lognormal", "median": "1ms", "p99": "1e9s"}, {"count": 10**7, "skew": 100.0},
]
# Values no one listed: any scalar, and strings of the shapes the spec parses.
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(["5ms", "0s", "-1s", "2k/s", "0/s", "150%", "x3", "+2s",
                                     "p95", "db.query", "nowhere.op", "unlimited", "[1", "{"]))


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a YAML document (keys and list indices), the root's `()` first."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mangled_specs(draw: st.DrawFn) -> dict[str, Any]:
    """An example spec with one to four values replaced (by a hostile value or any scalar),
    deleted, renamed, repeated or swapped for another part of the spec."""
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        inner = [p for p in paths(data) if p]
        path = draw(st.sampled_from(inner))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "replace", "delete", "rename", "repeat",
                                       "swap"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "rename" and isinstance(parent, dict):
            parent[str(path[-1]) + draw(st.sampled_from(["x", "_", "-2"]))] = \
                parent.pop(path[-1])
        elif action == "repeat" and isinstance(parent, list):
            parent.extend([copy.deepcopy(parent[path[-1]])] * draw(st.integers(1, 3)))
        elif action == "swap":
            other = draw(st.sampled_from(inner))
            source = data
            for part in other:
                source = source[part] if isinstance(source, dict | list) else source
            parent[path[-1]] = copy.deepcopy(source)
        else:
            parent[path[-1]] = copy.deepcopy(draw(st.one_of(st.sampled_from(HOSTILE), SCALARS)))
    return dict(data) if isinstance(data, dict) else {"spec": data}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _from_schema(schema: dict[str, Any], root: dict[str, Any], depth: int
                 ) -> st.SearchStrategy[Any]:
    """Values the schema describes (patterns, ranges, required fields); past `depth` levels
    only the smallest shapes, so documents stay small."""
    schema = _resolve(schema, root)
    if depth < -2:  # required fields of recursive shapes (mixtures of mixtures) end here
        return st.sampled_from(HOSTILE)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([_from_schema(s, root, depth) for s in schema[key]])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema or "patternProperties" in schema:
        return _object(schema, root, depth)
    if kind == "array":
        least = schema.get("minItems", 0)
        return st.lists(_from_schema(schema.get("items", {}), root, depth - 1),
                        min_size=least, max_size=least if depth <= 0 else least + 2)
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(max_size=12)
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e9), schema.get("maximum", 1e9))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.sampled_from(HOSTILE)


NAMES = st.sampled_from(["api", "db", "cache", "q", "Api", "x-1"])


def _object(schema: dict[str, Any], root: dict[str, Any], depth: int
            ) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = {k: _from_schema(v, root, depth - 1) for k, v in properties.items()
             if k in required}
    optional = {k: _from_schema(v, root, depth - 1) for k, v in properties.items()
                if k not in required and depth > 0}
    pattern = next(iter(schema.get("patternProperties", {}).values()), None)
    extra = (st.dictionaries(NAMES, _from_schema(pattern, root, depth - 1), min_size=1,
                             max_size=2 if depth > 0 else 1) if pattern else st.just({}))
    return st.builds(lambda base, more: {**more, **base},
                     st.fixed_dictionaries(fixed, optional=optional), extra)


SCHEMA = spec_json_schema()


@st.composite
def schema_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A document shaped by the schema, with references pointing at its own names."""
    data: dict[str, Any] = draw(_from_schema(SCHEMA, SCHEMA, 4))
    names = [f"{c}.{o}" for c, comp in data.get("components", {}).items()
             if isinstance(comp, dict) for o in comp.get("operations", {}) or {"publish": 0}]
    if names:
        for path in paths(data):
            if path and path[-1] in ("to", "backend"):
                parent = data
                for part in path[:-1]:
                    parent = parent[part]
                parent[path[-1]] = draw(st.sampled_from(names))
    return data


def as_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
