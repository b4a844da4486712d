"""What the Sobol' indices cost a run: model evaluations, seconds, and the share they add to the README main command.

Usage (from the project root):
    python benchmarks/sobol.py [--config CONFIG] [--repeats 3]

Prints, best of ``--repeats`` each, in fresh processes:

1. ``variance_sensitivity`` on the config as a run computes it (the run's tornado order for the single inputs,
   :data:`~fsp_risk.analysis.variance.SOBOL_ROWS` rows, the bootstrap), after one untimed call that pays the
   imports and first-call costs a run has already paid;
2. the README main command (``fsp-risk run`` on the config, every output) by wall time;
3. the share the indices add: (1) over (2) less (1). The issue's rule: run by default only under 25%.

Run by hand on an idle machine and report on the issue; not part of the test suite.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

CONFIG = "configs/oxfordshire-2024-commissioning.yaml"

INDICES = """
import sys, time
import fsp_risk
from fsp_risk.analysis.sensitivity import rank_correlations
from fsp_risk.analysis.variance import SOBOL_ROWS, variance_sensitivity
config = fsp_risk.load_config(sys.argv[1])
seed = config.run.seed
order = list(rank_correlations(fsp_risk.simulate(config, iterations=65_536, seed=seed), config)["input"])
variance_sensitivity(config, seed, order, rows=1024)  # warm: imports, first calls
t = time.perf_counter()
table = variance_sensitivity(config, seed, order)
print(time.perf_counter() - t, int(table["evaluations"].iloc[0]), table["factor"].nunique())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = [subprocess.run([sys.executable, "-c", INDICES, args.config], check=True, capture_output=True,
                           text=True).stdout.split() for _ in range(args.repeats)]
    seconds = min(float(r[0]) for r in runs)
    evaluations, factors = int(runs[0][1]), int(runs[0][2])
    walls = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            subprocess.run(["fsp-risk", "run", args.config, "--out", out], check=True, capture_output=True)
            walls.append(time.perf_counter() - t)
    wall = min(walls)
    print(f"Sobol' indices: {factors} factors, {evaluations:,} model evaluations, {seconds:.2f} s (best of {args.repeats})")
    print(f"README main command: {wall:.2f} s (best of {args.repeats}); the indices add "
          f"{seconds / (wall - seconds):.0%} to it without them (rule: under 25% to run by default)")


if __name__ == "__main__":
    main()
