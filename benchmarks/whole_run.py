"""Where the user waits: the RNG floor, `simulate` at 1M and the README main command with its phases, in one run.

Usage (from the project root):
    python benchmarks/whole_run.py [--config CONFIG] [--repeats 3] [--sizes 1000000] [--run-iterations 100000]

Prints, measured in this one process tree on this machine:

1. **the floor**: NumPy drawing the run's uniforms (every column of every random stream) on one core,
   from one generator, as `benchmarks/speed.py` defines it, for each size and for the main command's
   iterations;
2. **simulate** at each size (fresh process each, results written block by block as a run with the
   default ``--keep`` writes them: ``results.nc`` compressed, ``detail.nc`` not; best of ``--repeats``)
   and its ratio to the floor;
3. **the README main command** (`fsp-risk run` on the shipped default config, every output) in a fresh
   process, best of ``--repeats`` by wall time: its wall time, its ratio to the floor of the largest
   size (1,000,000 iterations: the issue's yardstick), the time before the first phase (start-up: imports and the config) and each phase's time
   from the run's own `-v` log, and its peak memory.

Run by hand on an idle machine and report on the issue; not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile

CONFIG = "configs/oxfordshire-2024-commissioning.yaml"

SIMULATE = """
import json, resource, sys, tempfile, time
import fsp_risk
config = fsp_risk.load_config(sys.argv[1])
n = int(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    # As a run with the default --keep writes it: results.nc compressed, detail.nc (not kept) not
    fsp_risk.simulate(config, iterations=n, path=f"{tmp}/results.nc", detail_path=f"{tmp}/detail.nc",
                      compress_detail=False).close()
    wall = time.perf_counter() - t
print(json.dumps({"wall_s": wall, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

sys.path.insert(0, "benchmarks")
from run_timing import WRAPPER  # noqa: E402  (the run as a child of a wrapper: its own peak memory)


def floor_seconds(config_path: str, iterations: int) -> float:
    """Seconds NumPy takes to draw the run's uniforms from one generator on one core (best of three)."""
    from speed import rng_floor

    import fsp_risk

    config = fsp_risk.load_config(config_path)
    return min(rng_floor(config, iterations, 1)[0] for _ in range(3))


def phases(log: str) -> dict[str, float]:
    """The -v log's phase times: {phase name: seconds}, plus 'in all'."""
    out = {}
    for line in log.splitlines():
        m = re.match(r"fsp-risk:\s+([\d.]+)s\s+(.+)$", line)
        if m:
            out[m.group(2).split(":")[0].split(",")[0]] = float(m.group(1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--run-iterations", type=int, default=100_000)
    args = parser.parse_args()
    print(f"config: {args.config}")
    floors = {}
    for n in args.sizes:
        floor = floors[n] = floor_seconds(args.config, n)
        best = min((json.loads(subprocess.run([sys.executable, "-c", SIMULATE, args.config, str(n)], check=True,
                                              capture_output=True, text=True).stdout)
                    for _ in range(args.repeats)), key=lambda r: r["wall_s"])
        print(f"simulate {n:>11,}: {best['wall_s']:6.2f} s  floor {floor:5.3f} s  ratio {best['wall_s'] / floor:5.1f}x  "
              f"peak RSS {best['peak_rss_mib']:,.0f} MiB")
    n = args.run_iterations
    # The yardstick for the whole command: the largest size's floor measured above (1,000,000
    # iterations by default), so that a slower or faster machine moves both alike.
    ref = max(floors) if floors else n
    floor = floors.get(ref) or floor_seconds(args.config, ref)
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "fsp_risk.app.cli", "run", args.config, "--iterations", str(n), "--out", out,
                   "-v"]
            res = json.loads(subprocess.run([sys.executable, "-c", WRAPPER, *cmd], check=True, capture_output=True,
                                            text=True).stdout)
            res["phases"] = phases(res.pop("stderr"))
            runs.append(res)
    best = min(runs, key=lambda r: r["wall_s"])
    print(f"fsp-risk run {n:,} iterations (best of {args.repeats}: "
          + ", ".join(f"{r['wall_s']:.1f}" for r in runs) + f" s): {best['wall_s']:.1f} s wall, "
          f"{best['wall_s'] / floor:.0f}x the {ref:,}-iteration floor, peak RSS {best['peak_rss_mib']:,.0f} MiB")
    p = best["phases"]
    print(f"  {'start-up (imports, config)':<32} {best['wall_s'] - p.get('in all', 0):6.1f} s")
    for name, seconds in p.items():
        if name != "in all":
            print(f"  {name:<32} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
