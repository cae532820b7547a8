"""Where the kernel's time goes (`make bench`), on model (c), 50,000 requests, two ways
(docs/engine.md, "Speed"):

1. the pure-Python kernel under cProfile, its functions ranked by own time. It runs from a
   copy of the package without the compiled modules, in a subprocess (as
   tests/kernel/test_compiled_reference.py does);
2. the compiled kernel under valgrind's callgrind, counting the instructions spent inside
   `Kernel.run` by the function they were spent under (C-API calls included). cProfile
   cannot see inside mypyc's C functions; instruction counts can, and they repeat exactly
   from run to run whatever else the machine does. Skipped, with the reason, where valgrind
   is missing or the kernel is not compiled.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import scalesim
import scalesim.sim.kernel

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


RUN = """
import sys
from scalesim.sim import simulate
from scalesim.spec import load_spec
simulate(load_spec(sys.argv[1], [f"simulation.duration={int(sys.argv[2]) / 900}s"]))
"""
RUN_FUNCTION = "CPyDef_kernel___Kernel___run"  # mypyc's C name for Kernel.run
ROW = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(?:\S*:)?(CPyDef_\w+)")


def compiled_profile() -> None:
    """Instructions inside the compiled Kernel.run, inclusive, by compiled function."""
    if scalesim.sim.kernel.__file__.endswith(".py"):
        print("\ncompiled kernel: not profiled (this install is pure Python)")
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        print("\ncompiled kernel: not profiled (valgrind is not installed)")
        return
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--toggle-collect={RUN_FUNCTION}",
                        f"--callgrind-out-file={out}", sys.executable, "-c", RUN,
                        str(HERE / "three_tier.yaml"), str(REQUESTS)],
                       check=True, capture_output=True)
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(out)],
                                   check=True, capture_output=True, text=True).stdout
    totals: dict[str, int] = {}
    for line in annotated.splitlines():
        found = ROW.match(line)
        if found:  # a function can be listed more than once (wrapper, inlined copies)
            name = found.group(2).removeprefix("CPyDef_")
            totals[name] = max(totals.get(name, 0), int(found.group(1).replace(",", "")))
    total = totals.pop(RUN_FUNCTION.removeprefix("CPyDef_"), 0)
    if not total:
        print("\ncompiled kernel: callgrind saw no instructions in Kernel.run")
        return
    print(f"\ncompiled kernel under callgrind, model (c), {REQUESTS:,} requests: "
          f"{total:,} instructions in Kernel.run, {total // REQUESTS:,} per request")
    print(f"{'inclusive':>14} {'share':>6}  function")
    for name, count in sorted(totals.items(), key=lambda item: -item[1])[:TOP]:
        print(f"{count:14,} {count / total:6.1%}  {name}")


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        shutil.copytree(Path(scalesim.__file__).parent, Path(work) / "scalesim",
                        ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        print(f"pure-Python kernel under cProfile, model (c), {REQUESTS:,} requests")
        subprocess.run([sys.executable, "-c", PROFILE, str(HERE / "three_tier.yaml"),
                        str(REQUESTS), str(TOP)], env={"PYTHONPATH": work, "PATH": ""},
                       cwd=work, check=True)
    compiled_profile()


if __name__ == "__main__":
    main()
