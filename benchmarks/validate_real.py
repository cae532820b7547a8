"""`make validate-real`: the generated services against the simulator (docs/validation.md).

Long (about 5 minutes per scenario) and sensitive to whatever else runs on the machine, so
it is not part of `make test`. Writes one JSON per scenario and a markdown table into
benchmarks/real/results/ (docs/validation.md quotes the table with the machine's load).

    python benchmarks/validate_real.py [--scenarios chain,fanout,queue,breaker]
                                       [--repetitions 3] [--seconds 15]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "real"))

from harness import run_scenario  # noqa: E402

from table import markdown  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="chain,fanout,queue,breaker")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=HERE / "real" / "results")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = [run_scenario(name, args.repetitions, args.seconds, args.out)
               for name in args.scenarios.split(",")]
    text = markdown(results)
    (args.out / "table.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
