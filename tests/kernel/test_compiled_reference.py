"""The compiled kernel (mypyc) must behave exactly as its Python source, the reference.

The reference runs in a subprocess from a copy of the package that holds only the Python
sources, so the compiled extension modules cannot be picked up there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import scalesim
import scalesim.sim.kernel
from scalesim.sim import simulate
from scalesim.spec import load_spec

PACKAGE = Path(scalesim.__file__).parent
REPO = PACKAGE.parents[1]
SPECS = [Path(__file__).with_name("features.yaml"),
         Path(__file__).with_name("data_features.yaml"), REPO / "examples" / "shop.yaml",
         REPO / "benchmarks" / "three_tier.yaml",
         Path(__file__).with_name("control_features.yaml"),
         Path(__file__).with_name("cpu_features.yaml")]
COMPILED = not scalesim.sim.kernel.__file__.endswith(".py")

pytestmark = pytest.mark.skipif(
    not COMPILED, reason="the kernel is not compiled here (SCALESIM_PURE_PYTHON=1 install)")

RUN = """
import json, sys
import scalesim.sim.kernel
assert scalesim.sim.kernel.__file__.endswith(".py"), scalesim.sim.kernel.__file__
from scalesim.sim import simulate
from scalesim.spec import load_spec
out = [simulate(load_spec(path, ["simulation.duration=20s"] if "three" in path else []))
       for path in sys.argv[1:]]
print(json.dumps(out, sort_keys=True))
"""


def test_compiled_kernel_matches_the_python_reference(tmp_path: Path) -> None:
    source = tmp_path / "scalesim"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    reference = subprocess.run([sys.executable, "-c", RUN, *map(str, SPECS)], env=env,
                               capture_output=True, text=True, check=True, cwd=tmp_path)
    compiled = [simulate(load_spec(p, ["simulation.duration=20s"] if "three" in p.name else []))
                for p in SPECS]
    assert json.loads(reference.stdout) == json.loads(json.dumps(compiled, sort_keys=True))


def test_compiled_modules_are_not_older_than_their_sources() -> None:
    stale = []
    for extension in PACKAGE.rglob("*.so"):
        source = extension.with_name(extension.name.split(".")[0] + ".py")
        if source.exists() and source.stat().st_mtime > extension.stat().st_mtime:
            stale.append(source.relative_to(PACKAGE))
    assert not stale, f"rebuild with `make test` (pip install -e .): {stale} changed"
