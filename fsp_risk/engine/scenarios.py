"""Scenarios, stress tests and the counterfactual without FSP, all on common random numbers.

Every case of a run — the base case, every assumption as set (``base``), each scenario named in its config, each stress
test and the counterfactual without the programme (``without_fsp``) — draws the same random numbers
(each input from its own named stream; under Sobol' one shared design) and is measured against the same
plan: the base config's central case, which the MTFP budgets and planned savings were set on. The
difference between two cases is then the effect of what differs, with little of the sampling noise
two separate runs would carry.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Callable, Collection, Sequence

import numpy as np
import xarray as xr

from fsp_risk.config import Config, check_pins
from fsp_risk.engine import invariants, store
from fsp_risk.engine.blocks import block_inputs, block_memo, central_case, same_draws, simulate_block
from fsp_risk.engine.loop import Chunk, chunks, run_blocks
from fsp_risk.engine.sampling import BLOCK, SobolDesign, resolve_sampler, stream_layout
from fsp_risk.engine.simulate import _versions
from fsp_risk.engine.variables import describe
from fsp_risk.errors import ConfigError, excerpt

#: Kinds of case, in the order they are reported.
KINDS = ("base case", "scenario", "stress test", "counterfactual")


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    kind: str
    source: str
    config: Config
    pins: dict[str, float]


def without_programme(config: Config) -> Config:
    """The counterfactual: the same council without FSP.

    Demand follows the as-is projection (the programme has no effect); the programme's costs, workforce,
    funding, savings and its register of risks and mitigations are gone. What remains is what the
    council would face anyway against the same MTFP: the savings target and, where the placement budget
    is modelled, the cost of children in care above the with-FSP forecast that budget was set on.
    """
    return replace(config, programme=replace(config.programme, switched_off=True), costs=(), workforce=(),
                   weakening=None, funding=(), savings=(), risk_register=None, scenarios={})


def parse_stress(config: Config, text: str) -> dict[str, float]:
    """``--stress`` text ``input=value[,input=value...]`` as checked pins."""
    pins = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"expected input=value (several joined by commas), got {excerpt(part.strip())}",
                              path="--stress")
        if name in pins:
            raise ConfigError("expected each input once in a stress test; give another --stress for another value",
                              file=config.path, path=f"--stress.{name}")
        item = config.inputs.get(name)
        if item is not None and item.year_valued:
            pins[name] = value.strip()  # a year, as a reader writes it: 2025/26 (check_pins refuses anything else)
            continue
        try:
            pins[name] = float(value)
        except ValueError:
            pins[name] = value.strip()  # refused by check_pins, which says what it expected
    return check_pins(config, pins, "--stress", config.path)


def pin_text(config: Config, pins: dict[str, float]) -> dict[str, str]:
    """Pinned values as a reader writes them: a year as its label (2025/26), a number as it is."""
    return {name: config.years[int(v)] if config.inputs[name].year_valued else f"{v:g}" for name, v in pins.items()}


def cases(config: Config, stresses: list[dict[str, float]] = (), counterfactual: bool = True) -> list[Case]:
    """The cases a run compares: base, the config's scenarios, stress tests, then without FSP."""
    out = [Case("base", "Base case: every assumption as set, no scenario applied", "base case", "", config, {})]
    out += [Case(s.name, s.title, "scenario", s.source, s.config, s.pins) for s in config.scenarios.values()]
    for i, pins in enumerate(stresses, start=1):
        label = ", ".join(f"{name} = {value}" for name, value in pin_text(config, pins).items())
        out.append(Case(f"stress_{i}", f"Stress test: {label}", "stress test", "--stress", config, dict(pins)))
    if counterfactual:
        out.append(Case("without_fsp", "Without FSP: as-is demand, no programme costs or savings", "counterfactual",
                        "The counterfactual built into fsp-risk", without_programme(config), {}))
    return out


def shared_design(configs: list[Config], sampler: str):
    """The :class:`~fsp_risk.engine.sampling.Sampler` the cases share: for 'sobol', one design over every
    stream any case draws."""
    if sampler != "sobol":
        return resolve_sampler(configs[0], sampler)
    layout, first = {}, 0
    for c in configs:
        for name, (_, n) in stream_layout(c).items():
            if name not in layout:
                layout[name] = (first, n)
                first += n
    return SobolDesign(layout)


def scenario_bytes_per_iteration(config: Config, stresses: list[dict[str, float]] = (),
                                 variables: Sequence[str] | None = None) -> int:
    """Bytes one iteration takes in ``scenarios.nc``: each case's ``variables`` (default all) by year."""
    n_keys = len(variables) if variables is not None else len(_case_keys(config))
    return len(cases(config, stresses)) * n_keys * len(config.years) * 8


def _case_keys(config: Config) -> list[str]:
    keys = ["net_change_to_mtfp", "total_costs", "total_savings", "grant_loss"]
    return keys + [f"{m}_{case}" for m in config.demand for case in ("as_is", "fsp")]




def simulate_scenarios(config: Config, iterations: int, seed: int, sampler: str,
                       stresses: list[dict[str, float]] = (), *, counterfactual: bool = True,
                       progress: Callable[[int, int], None] | None = None, workers: int | None = None,
                       path: str | os.PathLike | None = None, engine: str = "threads",
                       scheduler: str | None = None, done_blocks: Collection[int] = (),
                       on_block: Callable[[int, str], None] | None = None,
                       variables: Sequence[str] | None = None, compress: bool = True) -> xr.Dataset:
    """Every case of a config on common random numbers, as one Dataset with a ``scenario`` dimension.

    Each case's main result (after mitigation) by iteration and year: the net change to the MTFP,
    gross costs, savings, grant loss and the demand counts as is and with FSP. One model evaluation per
    case and block; blocks are the same 65,536-iteration blocks as :func:`fsp_risk.simulate`, so the
    ``base`` case equals the main run with the same seed, sampler and iterations. With ``path`` the
    cases are written to that new netCDF file block by block and the Dataset is opened lazily from it.
    ``engine`` and ``scheduler`` are as for :func:`fsp_risk.simulate` (with ``dask`` and no ``path``, a
    dask-backed Dataset, one task per block), ``done_blocks`` and ``on_block`` (resuming an interrupted
    run written to ``path``). ``variables`` keeps only those (a run folder keeps what its outputs read);
    the model's invariants are checked on every variable either way. ``compress`` False writes ``path``
    uncompressed (a file that will not be kept).
    """
    all_cases = cases(config, stresses, counterfactual)
    _, plan = central_case(config)
    design = shared_design([c.config for c in all_cases], sampler)
    every = _case_keys(config)
    keys = every if variables is None else [k for k in every if k in set(variables)]
    if variables is not None and len(keys) != len(set(variables)):
        raise ValueError(f"variables: expected some of {', '.join(every)}, got {list(variables)}")
    n_years = len(config.years)

    def run_block(chunk: Chunk) -> dict[str, np.ndarray]:
        outs, drawn = [], []
        for case in all_cases:  # every case on this block's random numbers, drawn once for cases that share them
            same = next((d for c, d in drawn if same_draws(c, case.config)), None)
            x, u, z = same or block_inputs(case.config, seed, chunk.block, chunk.size, design)
            if same is None:
                drawn.append((case.config, (x, u, z)))
            # Cases on the run's own config reuse the main run's sub-results that their pins do not reach.
            memo = block_memo(config, seed, chunk.block, chunk.size, design) if case.config is config else None
            out = simulate_block(case.config, plan, x, u, z, seed=seed, block=chunk.block, size=chunk.size,
                                 sampler=design, overrides=case.pins, main_only=True, memo=memo)
            invariants.check_block(case.config, {k: out[k] for k in every}, chunk.pos, case.name)
            outs.append({k: out[k] for k in keys})
        return {k: np.stack([out[k] for out in outs]) for k in keys}  # (cases, size, years)

    return run_blocks(run_block, chunks(iterations), {k: (len(all_cases), n_years) for k in keys},
                      lambda data: _scenario_dataset(config, all_cases, data, iterations, seed, sampler), axis=1,
                      path=path, engine=engine, workers=workers, scheduler=scheduler, done_blocks=done_blocks,
                      on_block=on_block, progress=progress, compress=(compress, compress))


def check_stored_block(config: Config, stresses: list[dict[str, float]], values: dict[str, np.ndarray],
                       pos: int) -> None:
    """The model's invariants on one block of a scenarios file (each case's arrays ``values[k][case]``)
    read back from disk: a resumed run checks the blocks it keeps as a new run checks those it computes."""
    for i, case in enumerate(cases(config, stresses)):
        invariants.check_block(case.config, {k: v[i] for k, v in values.items()}, pos, case.name)


def _scenario_dataset(config: Config, all_cases: list[Case], data: dict, iterations: int, seed: int,
                      sampler: str) -> xr.Dataset:
    data_vars = {}
    for k, arr in data.items():
        v = describe(config, k)
        data_vars[k] = (("scenario", *v.dims), arr, {"long_name": v.long_name, "units": v.units})
    data_vars["target"] = ("year", np.asarray(config.mtfp.target.values),
                           {"long_name": "MTFP savings target (negative = saving)", "units": "GBP"})
    coords = {
        "scenario": [c.name for c in all_cases],
        "scenario_title": ("scenario", [c.title for c in all_cases]),
        "scenario_kind": ("scenario", [c.kind for c in all_cases]),
        "scenario_source": ("scenario", [c.source for c in all_cases]),
        "scenario_pins": ("scenario", [", ".join(f"{k}={v}" for k, v in pin_text(config, c.pins).items())
                                       for c in all_cases]),
        "iteration": np.arange(next(iter(data.values())).shape[1]),
        "year": list(config.years),
    }
    attrs = {
        "title": config.title, "config_name": config.name, "config_sha256": config.sha256,
        "config_text": config.text, "seed": int(seed), "sampler": sampler, "iterations": int(iterations),
        "block_size": BLOCK,
        "results_format": store.RESULTS_FORMAT,
        "common_random_numbers": "every case draws the same random numbers and is measured against the base "
                                 "config's central case (the plan)",
        **{f"version_{k.replace('-', '_')}": v for k, v in _versions().items()},
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
