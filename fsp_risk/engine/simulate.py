"""The simulation: validated config in, :class:`xarray.Dataset` out.

Inputs are sampled per block of iterations (see :mod:`fsp_risk.engine.sampling`); each block runs the whole
model as array code (:mod:`fsp_risk.engine.blocks`) and the block loop (:mod:`fsp_risk.engine.loop`)
writes its results into preallocated arrays or a file. The loop is over blocks of 65,536 iterations and
over years, never over iterations."""
from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from typing import Callable, Collection

import numpy as np
import xarray as xr

from fsp_risk.config import MAX_ITERATIONS, SAMPLERS, Config
from fsp_risk.engine import invariants, store
from fsp_risk.engine.blocks import (block_inputs, block_memo, block_net_change_totals, central_case, check_central_case,
                                    check_overrides, simulate_block)
from fsp_risk.engine.executors import map_blocks
from fsp_risk.engine.loop import Chunk, chunks, run_blocks
from fsp_risk.engine.sampling import BLOCK, block_sizes, resolve_sampler
from fsp_risk.engine.variables import DETAIL, describe, stored_variables
from fsp_risk.errors import ConfigError
from fsp_risk.model.rollup import line_names

# --------------------------------------------------------------------------- output description
# Each variable's name, units and dimensions: fsp_risk.engine.variables.


def result_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    """Each stored result's shape for one iteration, in the order stored (:mod:`fsp_risk.engine.variables`)."""
    extra = {"line": len(line_names(config)),
             "risk": len(config.risk_register.risks) if config.risk_register is not None else 0}
    n_years = len(config.years)
    return {k: (n_years, extra[describe(config, k).extra_dim]) if describe(config, k).extra_dim else (n_years,)
            for k in stored_variables(config)}


def result_bytes_per_iteration(config: Config) -> int:
    """Bytes one iteration takes in ``results.nc`` (occurrences are stored as one byte, the rest as 8)."""
    return sum(int(np.prod(shape)) * (1 if k.startswith("risk_occurred") else 8)
               for k, shape in result_shapes(config).items())


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("fsp-risk", "numpy", "scipy", "xarray", "pandas"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def simulate(
    config: Config,
    *,
    iterations: int | None = None,
    seed: int | None = None,
    sampler: str | None = None,
    deterministic: bool = False,
    progress: Callable[[int, int], None] | None = None,
    overrides: dict[str, float] | None = None,
    workers: int | None = None,
    path: str | os.PathLike | None = None,
    engine: str = "threads",
    scheduler: str | None = None,
    check_invariants: bool = True,
    done_blocks: Collection[int] = (),
    on_block: Callable[[int, str], None] | None = None,
    detail_path: str | os.PathLike | None = None,
    compress_detail: bool = True,
) -> xr.Dataset:
    """Run the Monte Carlo simulation of a config.

    Parameters
    ----------
    config : Config
        From :func:`fsp_risk.load_config`.
    iterations : int, optional
        Number of iterations; the config's ``run.iterations`` when omitted. Ignored when deterministic.
    seed : int, optional
        Root seed; the config's ``run.seed`` when omitted.
    sampler : {'mc', 'lhs', 'sobol'}, optional
        Plain Monte Carlo, Latin hypercube or scrambled Sobol' (per block of 65,536 iterations).
    deterministic : bool
        One iteration with every input at its central value.
    progress : callable, optional
        Called as ``progress(done, total)`` after each block.
    overrides : dict, optional
        Inputs pinned to a value in every iteration (a stress test, or a switching value); the plan
        the savings are measured against stays the central case.
    workers : int, optional
        Blocks computed at once (threads, or the processes of a local dask cluster); default every
        core. The results do not depend on it.
    path : path, optional
        A new netCDF file to write the results to block by block (memory then stays bounded by the
        blocks in flight, whatever the iterations); the Dataset returned is opened lazily from it and
        should be closed by the caller.
    engine : {'threads', 'dask'}
        Where blocks run: threads in this process, or ``dask.distributed`` tasks (see
        :mod:`fsp_risk.engine.executors`). Bitwise the same results. With ``dask`` and no ``path`` nothing runs
        yet: the Dataset returned is dask-backed, one task per block, computed by whichever scheduler
        computes it (``.compute()``, ``.to_zarr()``...).
    scheduler : str, optional
        With ``dask`` and a ``path``: the address of the scheduler to run on; default the client in
        use, else a local cluster started for the call.
    check_invariants : bool
        Check every block's outputs as it is computed (:mod:`fsp_risk.engine.invariants`) and raise
        :class:`fsp_risk.errors.ModelError` on an impossible value; off only to time the checks.
    done_blocks : collection of int, optional
        With ``path``: blocks already in that file (an interrupted run of the same config, seed,
        sampler and iterations), which are not computed again; the file is reopened, not replaced.
    on_block : callable, optional
        With ``path``: called as ``on_block(block, digest)`` once a block is written and flushed to the
        file, with the SHA-256 of its values (:func:`fsp_risk.engine.store.block_digest`).
    detail_path : path, optional
        With ``path``: a second new netCDF file for the variables a run folder keeps only when asked
        (breakdowns by line and risk, and figures computed exactly from the others: ``detail`` in
        :mod:`fsp_risk.engine.variables`); the Dataset returned holds both files' variables.
    compress_detail : bool
        Compress ``detail_path``'s chunks (lossless, as ``path``'s always are); False for a file that will
        not be kept, which is then written several times faster.

    Returns
    -------
    xarray.Dataset
        Dimensions ``iteration``, ``year`` and ``line``; provenance (config text and hash, seed,
        sampler, versions) in ``attrs``.
    """
    iterations = config.run.iterations if iterations is None else iterations
    seed = config.run.seed if seed is None else seed
    sampler = config.run.sampler if sampler is None else sampler
    if sampler not in SAMPLERS:
        raise ConfigError(f"expected one of {', '.join(SAMPLERS)}, got {sampler!r}", path="sampler")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or not 1 <= iterations <= MAX_ITERATIONS:
        raise ConfigError(f"expected a whole number from 1 to {MAX_ITERATIONS:,}, got {iterations!r}", path="iterations")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"expected a whole number >= 0, got {seed!r}", path="seed")

    x_central, central = central_case(config)
    check_central_case(config, central)
    overrides = check_overrides(config, overrides or {})
    design = resolve_sampler(config, sampler)

    lines = line_names(config)
    total = 1 if deterministic else int(iterations)
    shapes = result_shapes(config)

    def run_block(chunk: Chunk) -> dict[str, np.ndarray]:
        if chunk.block is None:
            x, u, z = x_central, None, None
        else:
            x, u, z = block_inputs(config, seed, chunk.block, chunk.size, design)
        out = simulate_block(config, central, x, u, z, seed=seed, block=chunk.block, size=chunk.size, sampler=design,
                             overrides=overrides,
                             memo=None if overrides else block_memo(config, seed, chunk.block, chunk.size, design))
        # Only what is kept: a finished block waiting to be written holds no intermediate arrays.
        kept = {k: out["staff_cost" if k == "workforce_cost" else k] for k in shapes}
        if check_invariants:
            invariants.check_block(config, kept, chunk.pos)
        return kept

    return run_blocks(run_block, chunks(total, deterministic), shapes,
                      lambda results: _to_dataset(config, results, lines, total, seed, sampler, deterministic),
                      dtypes={k: np.int8 for k in shapes if describe(config, k).kind == "flag"}, path=path,
                      engine=engine, workers=workers, scheduler=scheduler, done_blocks=done_blocks,
                      on_block=on_block, progress=progress, detail_path=detail_path, detail=DETAIL,
                      compress=(True, compress_detail))


def net_change_totals(config: Config, iterations: int, seed: int, sampler: str,
                      overrides: dict[str, float] | None = None, placement_spread: bool = True,
                      workers: int | None = None) -> np.ndarray:
    """Net change to the MTFP after mitigation, summed over the horizon, per iteration [GBP, shape (n,)].

    The fast path for what-if runs (grouped tornado, switching values at P50, run comparisons): the
    same random numbers as :func:`simulate` with the same seed, sampler and iterations (common random
    numbers), but only the main result, without building a Dataset.
    """
    _, central = central_case(config)
    overrides = check_overrides(config, overrides or {})
    design = resolve_sampler(config, sampler)
    def run_block(block):
        b, size = block
        return block_net_change_totals(config, central, seed, b, size, design, overrides, placement_spread)

    return np.concatenate(list(map_blocks(run_block, list(enumerate(block_sizes(iterations))), workers)))


def _to_dataset(config, results, lines, total, seed, sampler, deterministic) -> xr.Dataset:
    """The results as a labelled Dataset; ``total`` is the run's iterations (the arrays may be empty: a
    skeleton for a file written block by block)."""
    years = list(config.years)
    data_vars = {}
    for k, arr in results.items():
        v = describe(config, k)
        if v.kind == "flag":
            arr = arr.astype(np.int8)
        data_vars[k] = (v.dims, arr, {"long_name": v.long_name, "units": v.units})
    target = np.asarray(config.mtfp.target.values)
    data_vars["target"] = ("year", target, {"long_name": "MTFP savings target (negative = saving)", "units": "GBP"})
    coords = {
        "iteration": np.arange(next(iter(results.values())).shape[0]),
        "year": ("year", years, {"long_name": "financial year (April to March); counts are at 31 March at its end"}),
        "line": ("line", [name for name, _, _ in lines]),
        "line_title": ("line", [title for _, title, _ in lines]),
        "line_kind": ("line", [kind for _, _, kind in lines]),
    }
    reg = config.risk_register
    if reg is not None:
        from fsp_risk.model.risks import mitigation_cost_by_risk

        risks = reg.risks
        coords.update({
            "risk": ("risk", [r.id for r in risks]),
            "risk_title": ("risk", [r.title for r in risks]),
            "risk_owner": ("risk", [r.owner for r in risks]),
            "risk_type": ("risk", [r.kind for r in risks]),
            "stated_impact_score": ("risk", [-1 if r.stated_impact is None else r.stated_impact for r in risks]),
            "stated_probability_band": ("risk", [r.stated_probability or "" for r in risks]),
        })
        data_vars["mitigation_cost"] = (("year", "risk"), mitigation_cost_by_risk(reg, len(years)),
                                        {"long_name": "Cost of the mitigations acting on the risk, a shared "
                                                      "action split equally", "units": "GBP"})
    versions = _versions()
    attrs = {
        "title": config.title,
        "config_name": config.name,
        "config_path": config.path,
        "config_sha256": config.sha256,
        "config_text": config.text,
        # The files the config read (a register CSV), so that 'report' and 'compare' rebuild it anywhere.
        **({"config_attachments": json.dumps(config.attachments)} if config.attachments else {}),
        "seed": int(seed),
        "sampler": "central" if deterministic else sampler,
        "iterations": int(total),
        "deterministic": int(deterministic),
        "block_size": BLOCK,
        "results_format": store.RESULTS_FORMAT,
        "price_base_year": config.price_base.base_year,
        "discount_rate": config.price_base.discount_rate,
        "discount_rate_source": config.price_base.discount_source,
        "sign_convention": "savings negative; net_change_to_mtfp positive = pressure",
        **{f"version_{k.replace('-', '_')}": v for k, v in versions.items()},
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
