"""Time and peak memory of `fsp-risk run` on a config, each size in a fresh process.

Usage (from the project root):
    python benchmarks/run_timing.py [--config CONFIG] [--sizes 100000 1000000]

Prints one line per size: iterations, wall seconds, iterations per second, peak RSS of the run.
Run by hand and report on the issue; not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

# Runs `fsp-risk run` as a child of a small wrapper, so the peak RSS measured is that run's alone.
WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
if proc.returncode:
    sys.exit(proc.stderr)
print(json.dumps({"wall_s": wall, "stderr": proc.stderr,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/oxfordshire-2024-commissioning.yaml")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    print(f"config: {args.config}")
    print(f"{'iterations':>12} {'wall s':>8} {'iter/s':>12} {'peak RSS MiB':>13}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "fsp_risk.app.cli", "run", args.config, "--iterations", str(n), "--out", out]
            res = json.loads(subprocess.run([sys.executable, "-c", WRAPPER, *cmd], check=True, capture_output=True,
                                            text=True).stdout)
        print(f"{n:>12,} {res['wall_s']:>8.1f} {n / res['wall_s']:>12,.0f} {res['peak_rss_mib']:>13,.0f}")


if __name__ == "__main__":
    main()
