"""The compiled kernel (mypyc) must behave exactly as its Python source, the reference.

The reference runs in a subprocess from a copy of the package that holds only the Python
sources, so the compiled extension modules cannot be picked up there. One subprocess runs a
whole batch of specs (start-up and imports cost more than a short run), side by side with the
compiled runs in this process. The batch covers every example, every template's default
scenario and seeded random topologies (tests/kernel/random_specs.py), each shortened to a
budget of kernel events so that the pure-Python side stays within seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.kernel.cases import (
    RANDOM_SEEDS,
    REPO,
    Case,
    example_cases,
    feature_cases,
    random_cases,
    template_cases,
)
from tests.kernel.random_specs import random_spec

import scalesim
import scalesim.sim.kernel
from scalesim.spec import load_spec_text
from scalesim.templates import template_ids

PACKAGE = Path(scalesim.__file__).parent
COMPILED = not scalesim.sim.kernel.__file__.endswith(".py")

pytestmark = pytest.mark.skipif(
    not COMPILED, reason="the kernel is not compiled here (SCALESIM_PURE_PYTHON=1 install)")

RUN = """
import json, sys
import scalesim.sim.kernel
assert scalesim.sim.kernel.__file__.endswith(".py"), scalesim.sim.kernel.__file__
from scalesim.sim import simulate
from scalesim.spec import load_spec_text
cases = json.load(open(sys.argv[1]))
out = [simulate(load_spec_text(c["text"], c["name"], c["overrides"])) for c in cases]
print(json.dumps(out, sort_keys=True))
"""


def assert_same_as_reference(cases: list[Case], tmp_path: Path) -> None:
    """Runs the reference (subprocess) and the compiled kernel (here) at the same time."""
    source = tmp_path / "scalesim"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    batch = tmp_path / "cases.json"
    batch.write_text(json.dumps([vars(case) for case in cases]))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    with subprocess.Popen([sys.executable, "-c", RUN, str(batch)], env=env, cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as ref:
        compiled = [case.run() for case in cases]
        out, err = ref.communicate()
    assert ref.returncode == 0, err
    results = json.loads(out)
    idle = [case.name for case, result in zip(cases, results, strict=True)
            if not result["requests"]["total"]]
    assert not idle, f"shortened until nothing ran, so nothing is compared: {idle}"
    reference = [json.dumps(result, sort_keys=True) for result in results]
    differ = [case.name for case, ours, theirs in zip(cases, compiled, reference, strict=True)
              if ours != theirs]
    assert not differ, f"the compiled kernel differs from the reference on {differ}"


def test_compiled_kernel_matches_the_python_reference(tmp_path: Path) -> None:
    """The feature specs exercise every kernel path; quick enough for every run."""
    assert_same_as_reference(feature_cases(), tmp_path)


@pytest.mark.slow
def test_compiled_kernel_matches_on_examples_templates_and_random_specs(tmp_path: Path
                                                                       ) -> None:
    cases = example_cases() + template_cases() + random_cases()
    assert len(cases) == len(list((REPO / "examples").glob("*.yaml"))) + len(template_ids()) \
        + len(RANDOM_SEEDS)
    assert_same_as_reference(cases, tmp_path)


def test_random_specs_are_valid_and_reproducible() -> None:
    """The generator's specs load, and the same seed gives the same spec."""
    for seed in RANDOM_SEEDS:
        text = yaml.safe_dump(random_spec(seed, 20))
        assert text == yaml.safe_dump(random_spec(seed, 20))
        system = load_spec_text(text, f"random-{seed}.yaml")
        assert len(system.components) == 20


def test_compiled_modules_are_not_older_than_their_sources() -> None:
    stale = []
    for extension in PACKAGE.rglob("*.so"):
        source = extension.with_name(extension.name.split(".")[0] + ".py")
        if source.exists() and source.stat().st_mtime > extension.stat().st_mtime:
            stale.append(source.relative_to(PACKAGE))
    assert not stale, f"rebuild with `make test` (pip install -e .): {stale} changed"
