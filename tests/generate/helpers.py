"""Shared by the generator tests: the example specs, generation, YAML documents by kind."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from scalesim.generate import GeneratedFile, GenerateOptions, Target, render
from scalesim.spec import System, load_spec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHOP = ROOT / "examples" / "shop.yaml"
SMALL = HERE / "small.yaml"
CONTROL = HERE / "control.yaml"
SPECS = {"shop": SHOP, "small": SMALL, "control": CONTROL}
OPTIONS = GenerateOptions(namespace="demo", image_registry="registry.example/demo")
TARGETS = [t for t in Target if t not in (Target.ALL, Target.CODE)]


@cache
def system(path: Path, overrides: tuple[str, ...] = ()) -> System:
    return load_spec(path, list(overrides))


def generate(path: Path, target: Target, overrides: Sequence[str] = (),
             options: GenerateOptions = OPTIONS) -> list[GeneratedFile]:
    return render(system(path, tuple(overrides)), target, options)


def documents(files: Sequence[GeneratedFile]) -> list[dict[str, Any]]:
    """Every YAML document of the files (JSON files and Helm templates left out)."""
    return [doc for f in files if f.path.endswith(".yaml") and "/templates/" not in f.path
            for doc in yaml.safe_load_all(f.content) if doc]


def by_kind(docs: Sequence[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc.get("kind") == kind}
