"""Shared by the code-target tests: generating a spec's services into a folder, and loading
a generated module from there (never from the test process's own packages)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from scalesim.generate.base import GenerateOptions
from scalesim.generate.code import render
from scalesim.spec import load_spec_text

PAIR_SPEC = """
scalesim: 1
name: pair
components:
  front:
    operations:
      order:
        work: 1ms
        calls:
          - to: back.get
            timeout: 2s
            retry: {attempts: 2, backoff: constant, base: 10ms, max: 10ms, jitter: none}
            circuit_breaker: {window: 4, min_calls: 4, failure_rate: 50%, open_for: 1s,
                              half_open_calls: 1}
  back:
    operations:
      get: {work: 1ms}
workloads: [{name: shoppers, to: front.order, rate: 1/s}]
"""


def generate(spec_text: str, dest: Path) -> Path:
    """Write the code target of a spec under `dest`; returns dest/code."""
    for file in render(load_spec_text(spec_text), GenerateOptions()):
        path = dest / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content, encoding="utf-8")
    return dest / "code"


def load_generated(folder: Path, module: str) -> ModuleType:
    """Import `folder/module.py` (a module without generated imports) under a private name."""
    name = f"generated_{module}_{abs(hash(folder))}"
    spec = importlib.util.spec_from_file_location(name, folder / f"{module}.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def run_in_service(folder: Path, script: str) -> list[str]:
    """Run `script` with `folder` (a generated service) as its working directory and first
    import path, as the service itself runs; returns its printed lines."""
    result = subprocess.run([sys.executable, "-c", script], cwd=folder, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()
