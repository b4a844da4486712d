"""How fast is `simulate`, against the random-number floor and a per-iteration loop?

Usage (from the project root):
    python benchmarks/speed.py [--config CONFIG] [--sizes 10000 100000 1000000] [--reference 300] [--monaco 100]
                               [--engine threads|dask] [--workers N]

For each size, in a fresh process (so peak memory is that size's own), it times `fsp_risk.simulate`
writing its results block by block to a netCDF file (as `fsp-risk run` does) and reports wall time,
iterations per second and peak RSS, then two references on the same machine:

1. **RNG floor**: the time NumPy alone takes to draw as many uniforms as the run draws (every column of
   every random stream, counted from the config's stream layout), with the same generator (PCG64 via
   ``default_rng``): ``floor one stream`` draws them from one generator in 65,536-row chunks;
   ``floor as run`` draws them exactly as the run does, one seeded generator per stream and block.
2. **Per-iteration reference**: the same model evaluated one iteration at a time in a Python loop (each
   iteration's inputs sliced from a block, then the whole model called on arrays of one row), timed on
   ``--reference`` iterations and extrapolated per iteration.

Two more lines say where the time above the floor goes: **inputs by inverse CDF** times drawing every
block's inputs as the run does (uniforms, inverse CDFs, the correlation re-pairing) without the model;
**write floor** times filling arrays the size of the run's results once (memory bandwidth alone).
**Invariant checks** times :func:`fsp_risk.engine.invariants.check_block` on each block of the run's results
(read back from its file, reading not timed) and gives it as a share of the run's CPU time (wall time
times the cores the run used), the checks' cost inside the run.
With ``--engine dask`` the run is timed on a local dask cluster of ``--workers`` processes, started
before the clock starts.

If `monaco` is installed, the same model is also run as a monaco simulation (one uniform input variable
per random-stream column, mapped to the inputs by their inverse CDFs inside monaco's run function) on
``--monaco`` cases, single-threaded, and timed per case. Run by hand and report on the issue.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CONFIG = "configs/oxfordshire-2024-commissioning.yaml"


def variates_per_iteration(config) -> int:
    from fsp_risk.engine.sampling import stream_layout

    return sum(n for _, n in stream_layout(config).values())


def rng_floor(config, iterations: int, seed: int) -> tuple[float, float]:
    """Seconds to draw the run's uniforms: from one generator, and stream by stream as the run does."""
    import numpy as np

    from fsp_risk.engine.sampling import BLOCK, block_rng, block_sizes, stream_layout

    dims = variates_per_iteration(config)
    rng = np.random.default_rng(seed)
    t = time.perf_counter()
    for size in block_sizes(iterations):
        rng.random((size, dims))
    one = time.perf_counter() - t
    layout = stream_layout(config)
    t = time.perf_counter()
    for b, size in enumerate(block_sizes(iterations)):
        for name, (_, n) in layout.items():
            block_rng(seed, name, b).random((size, n))
    as_run = time.perf_counter() - t
    assert BLOCK == 65_536
    return one, as_run


def inputs_seconds(config, iterations: int, seed: int) -> float:
    """Seconds to draw every block's inputs as the run does, without evaluating the model."""
    from fsp_risk.engine.blocks import block_inputs
    from fsp_risk.engine.sampling import block_sizes

    t = time.perf_counter()
    for b, size in enumerate(block_sizes(iterations)):
        block_inputs(config, seed, b, size, "mc")
    return time.perf_counter() - t


def write_floor_seconds(config, iterations: int) -> tuple[float, float]:
    """Seconds to fill result-sized arrays once, block by block, and the results' bytes per iteration."""
    import numpy as np

    import fsp_risk
    from fsp_risk.engine.sampling import block_sizes

    ds = fsp_risk.simulate(config, iterations=1)
    per_iter = sum(v.values.nbytes for v in ds.data_vars.values() if "iteration" in v.dims)
    buf = np.empty(per_iter * 65_536 // 8)
    t = time.perf_counter()
    for size in block_sizes(iterations):
        buf[: per_iter * size // 8].fill(1.0)
    return time.perf_counter() - t, per_iter


def check_seconds(config, path) -> float:
    """Seconds the invariant checks take over every block of a run written to ``path``."""
    import xarray as xr

    from fsp_risk.engine.invariants import check_block
    from fsp_risk.engine.sampling import BLOCK

    total = 0.0
    with xr.open_dataset(path, engine="netcdf4", cache=False) as ds:
        names = [k for k, v in ds.data_vars.items() if "iteration" in v.dims]
        for pos in range(0, ds.sizes["iteration"], BLOCK):
            block = {k: ds[k].isel(iteration=slice(pos, pos + BLOCK)).values for k in names}
            t = time.perf_counter()
            check_block(config, block, pos)
            total += time.perf_counter() - t
    return total


def per_iteration_seconds(config, k: int, seed: int) -> float:
    """Seconds per iteration of the model called one iteration at a time."""
    from fsp_risk.engine.blocks import block_inputs, central_case, simulate_block

    _, central = central_case(config)
    x, u, z = block_inputs(config, seed, 0, k, "mc")
    t = time.perf_counter()
    for i in range(k):
        xi = {name: v[i : i + 1] for name, v in x.items()}
        ui = {name: v[i : i + 1] for name, v in u.items()}
        zi = None if z is None else [v[i : i + 1] for v in z]
        simulate_block(config, central, xi, ui, zi, seed=seed, block=0, size=1, sampler="mc")
    return (time.perf_counter() - t) / k


def monaco_seconds(config, k: int, seed: int) -> float | None:
    """Seconds per case of the model as a monaco simulation, or None when monaco is not installed."""
    try:
        import monaco as mc
    except ImportError:
        return None
    import numpy as np
    from scipy.special import ndtri
    from scipy.stats import uniform

    from fsp_risk.engine.blocks import central_case, simulate_block
    from fsp_risk.engine.sampling import stream_layout

    _, central = central_case(config)
    layout = stream_layout(config)
    columns = [f"{name}[{j}]" for name, (_, n) in layout.items() for j in range(n)]

    def preprocess(case):
        return ({c: case.invals[c].val for c in columns},)

    def run(values):
        u = {name: np.array([[values[f"{name}[{j}]"] for j in range(n)]]) for name, (_, n) in layout.items()}
        x_u = {name[len("input:"):]: v for name, v in u.items() if name.startswith("input:")}
        x = {name: config.inputs[name].dist.ppf(v) for name, v in x_u.items()}
        z = [ndtri(u[f"placement_costs:{t.name}"]) for t in config.placements.types] if config.placements else None
        out = simulate_block(config, central, x, x_u, z, seed=seed, block=0, size=1, sampler="mc")
        return (float(out["net_change_to_mtfp"].sum()),)

    def postprocess(case, total):
        case.addOutVal("total", total)

    sim = mc.Sim(name="fsp", ndraws=k, fcns={"preprocess": preprocess, "run": run, "postprocess": postprocess},
                 firstcaseismedian=False, seed=seed, singlethreaded=True, verbose=False, savecasedata=False,
                 samplemethod="random")
    for c in columns:
        sim.addInVar(name=c, dist=uniform, distkwargs={"loc": 0.0, "scale": 1.0})
    t = time.perf_counter()
    sim.runSim()
    return (time.perf_counter() - t) / k


def worker(config_path: str, n: int, reference: int, monaco_cases: int, engine: str, workers: int | None) -> dict:
    import fsp_risk

    import tempfile
    from contextlib import nullcontext
    from pathlib import Path

    from fsp_risk.engine.executors import dask_client, default_workers

    config = fsp_risk.load_config(config_path)
    fsp_risk.simulate(config, iterations=100)  # imports and caches warm
    with (dask_client(None, workers) if engine == "dask" else nullcontext()), tempfile.TemporaryDirectory() as tmp:
        # Written block by block to a file, as `fsp-risk run` does: memory bounded whatever the size.
        t = time.perf_counter()
        fsp_risk.simulate(config, iterations=n, path=Path(tmp) / "results.nc", engine=engine, workers=workers).close()
        wall = time.perf_counter() - t
        checks = check_seconds(config, Path(tmp) / "results.nc")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    one, as_run = rng_floor(config, n, 1)
    write, per_iter_bytes = write_floor_seconds(config, n)
    out = {"iterations": n, "wall_s": wall, "peak_rss_mib": peak, "variates_per_iteration": variates_per_iteration(config),
           "floor_one_stream_s": one, "floor_as_run_s": as_run, "inputs_s": inputs_seconds(config, n, 1),
           "write_floor_s": write, "result_bytes_per_iteration": per_iter_bytes, "checks_s": checks,
           "cores": workers or default_workers()}
    if reference:
        out["per_iteration_s"] = per_iteration_seconds(config, reference, 1)
    if monaco_cases:
        out["monaco_per_case_s"] = monaco_seconds(config, monaco_cases, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--reference", type=int, default=300, help="iterations for the per-iteration loop")
    parser.add_argument("--monaco", type=int, default=100, help="cases for the monaco simulation (0: skip)")
    parser.add_argument("--engine", choices=["threads", "dask"], default="threads")
    parser.add_argument("--workers", type=int, help="threads, or local dask worker processes (default: every core)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.config, args.worker, args.reference, args.monaco, args.engine, args.workers)))
        return
    print(f"config: {args.config}; engine: {args.engine}" + (f", {args.workers} workers" if args.workers else ""))
    rows = []
    for i, n in enumerate(args.sizes):
        # References once (on the first size): they do not depend on the run's size.
        cmd = [sys.executable, __file__, "--config", args.config, "--worker", str(n),
               "--reference", str(args.reference if i == 0 else 0), "--monaco", str(args.monaco if i == 0 else 0),
               "--engine", args.engine, *(["--workers", str(args.workers)] if args.workers else [])]
        rows.append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout))
    ref = rows[0]
    print(f"uniforms drawn per iteration: {ref['variates_per_iteration']}")
    print(f"{'iterations':>12} {'wall s':>8} {'iter/s':>11} {'peak MiB':>9} {'floor s':>8} {'x floor':>8} "
          f"{'floor as run s':>15} {'x as run':>9}")
    for r in rows:
        print(f"{r['iterations']:>12,} {r['wall_s']:>8.2f} {r['iterations'] / r['wall_s']:>11,.0f} "
              f"{r['peak_rss_mib']:>9,.0f} {r['floor_one_stream_s']:>8.3f} {r['wall_s'] / r['floor_one_stream_s']:>8.1f} "
              f"{r['floor_as_run_s']:>15.3f} {r['wall_s'] / r['floor_as_run_s']:>9.1f}")
    print(f"results: {ref['result_bytes_per_iteration']:,} bytes per iteration")
    print(f"{'iterations':>12} {'inputs by inverse CDF s':>24} {'x floor':>8} {'write floor s':>14} {'x floor':>8}")
    for r in rows:
        print(f"{r['iterations']:>12,} {r['inputs_s']:>24.3f} {r['inputs_s'] / r['floor_one_stream_s']:>8.1f} "
              f"{r['write_floor_s']:>14.3f} {r['write_floor_s'] / r['floor_one_stream_s']:>8.1f}")
    for r in rows:
        share = r["checks_s"] / (r["wall_s"] * r["cores"])
        print(f"invariant checks at {r['iterations']:,}: {r['checks_s']:.3f} s on one core, {share:.1%} of the run's "
              f"CPU time ({r['cores']} cores)")
    per_iter = ref.get("per_iteration_s")
    if per_iter:
        best = min(r["wall_s"] / r["iterations"] for r in rows)
        print(f"per-iteration loop: {per_iter * 1e3:.2f} ms per iteration; simulate is {per_iter / best:,.0f}x faster "
              "per iteration (best size)")
    m = ref.get("monaco_per_case_s")
    if m:
        best = min(r["wall_s"] / r["iterations"] for r in rows)
        print(f"monaco (single-threaded): {m * 1e3:.2f} ms per case; simulate is {m / best:,.0f}x faster per iteration")
    elif "monaco_per_case_s" in ref:
        print("monaco: not installed (pip install monaco to compare)")


if __name__ == "__main__":
    main()
