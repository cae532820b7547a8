"""Every third-party module the package imports is declared in pyproject.toml: as a runtime
dependency, or as an optional extra for the features that import it only when asked. A
module that merely happens to be installed (a dependency of a dependency, a dev tool) would
work here and fail for a user who installs ScaleSim on its own."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "scalesim"
# Imported only by the feature that needs it, which says how to install it when missing.
OPTIONAL = {"pyarrow": "parquet", "helm_python": "helm", "dask": "dask", "distributed": "dask"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imported() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "scalesim"}


def test_every_imported_module_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    extras = {extra: {_name(r) for r in reqs}
              for extra, reqs in project["optional-dependencies"].items()}
    distributions = packages_distributions()
    missing = []
    for module in sorted(_imported()):
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if module in OPTIONAL:
            if not names & extras.get(OPTIONAL[module], set()):
                missing.append(f"{module} (extra {OPTIONAL[module]!r})")
        elif not names & runtime:
            missing.append(f"{module} ({', '.join(sorted(names))})")
    assert missing == [], "imported but not declared in pyproject.toml: " + ", ".join(missing)
