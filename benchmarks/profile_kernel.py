"""Where the kernel's time goes (`make bench`): the pure-Python kernel under cProfile on model
(c), its functions ranked by own time, as the basis for choosing a native route
(docs/engine.md, "Speed").

The reference runs from a copy of the package without the compiled modules, in a
subprocess (as tests/kernel/test_compiled_reference.py does): cProfile cannot see inside
mypyc's C functions, and the pure-Python twin has the same structure.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import scalesim

HERE = Path(__file__).resolve().parent
REQUESTS = 50_000
TOP = 15

PROFILE = """
import cProfile, pstats, sys
import scalesim.sim.kernel
assert scalesim.sim.kernel.__file__.endswith(".py"), scalesim.sim.kernel.__file__
from scalesim.sim import simulate
from scalesim.spec import load_spec
system = load_spec(sys.argv[1], [f"simulation.duration={int(sys.argv[2]) / 900}s"])
profile = cProfile.Profile()
profile.runcall(simulate, system)
stats = pstats.Stats(profile)
total = sum(row[2] for row in stats.stats.values())
rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:int(sys.argv[3])]
print(f"{'own time':>9} {'share':>6} {'calls':>10}  function")
for (path, line, name), (_, calls, own, _cumulative, _) in rows:
    where = path.split("scalesim/")[-1] if "scalesim/" in path else path
    print(f"{own:8.2f}s {own / total:6.1%} {calls:10,}  {name} ({where}:{line})")
groups = {}
for (path, _, name), (_, _, own, _, _) in stats.stats.items():
    group = path.split("scalesim/")[-1] if "scalesim/" in path else name.split(" of ")[0]
    groups[group] = groups.get(group, 0.0) + own
print("by module (built-ins by name):")
for group, own in sorted(groups.items(), key=lambda item: -item[1])[:8]:
    print(f"{own:8.2f}s {own / total:6.1%}  {group}")
print(f"total {total:.2f}s of own time for {sys.argv[2]} requests")
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        shutil.copytree(Path(scalesim.__file__).parent, Path(work) / "scalesim",
                        ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        print(f"pure-Python kernel under cProfile, model (c), {REQUESTS:,} requests")
        subprocess.run([sys.executable, "-c", PROFILE, str(HERE / "three_tier.yaml"),
                        str(REQUESTS), str(TOP)], env={"PYTHONPATH": work, "PATH": ""},
                       cwd=work, check=True)


if __name__ == "__main__":
    main()
