"""A config's random numbers drawn once and the model evaluated again as assumptions change: the engine
of the what-if page (:mod:`fsp_risk.app.whatif`).

Common random numbers: every evaluation maps the same uniforms. An input whose distribution changes is
mapped again from its own uniforms through the new inverse CDF (its ranks, and so the rank-correlation
pairing, do not change); a pinned input takes its value in every iteration. So moving one assumption moves
the answer and not the sampling noise, and each evaluation is bitwise what :func:`fsp_risk.simulate` gives
for a config with the same changes (the scenario "Save as scenario" writes), seed, sampler and iterations.

Only the main result (after mitigation) is evaluated, and every sub-result of the model that reads none
of the changed inputs is reused from the first evaluation (:class:`fsp_risk.model.drivers.Memo`).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np

from fsp_risk.config import Config, Input
from fsp_risk.engine.blocks import block_inputs, central_case, check_overrides, simulate_block
from fsp_risk.engine.sampling import block_sizes, resolve_sampler
from fsp_risk.model.drivers import Memo


class LiveModel:
    """The model of ``config`` on ``iterations`` iterations drawn once (seed and sampler as a run's).

    Parameters
    ----------
    config : Config
    iterations : int
        Iterations kept in memory and evaluated at every change; the first ``iterations`` of a run with
        the same seed and sampler.
    seed, sampler : optional
        Default the config's ``run`` section.
    """

    def __init__(self, config: Config, iterations: int, seed: int | None = None, sampler: str | None = None):
        self.config = config
        self.iterations = int(iterations)
        self.seed = config.run.seed if seed is None else int(seed)
        self.sampler = config.run.sampler if sampler is None else sampler
        self._design = resolve_sampler(config, self.sampler)
        self._central = central_case(config)[1]
        # Per block: its number and size, its draws (inputs, uniforms, placement scores) and its memo.
        self._blocks = []
        for b, size in enumerate(block_sizes(self.iterations)):
            x, u, z = block_inputs(config, self.seed, b, size, self._design)
            self._blocks.append((b, size, x, u, z, Memo()))
        self._mapped: dict[tuple[str, int], tuple[object, list[np.ndarray]]] = {}

    def with_inputs(self, inputs: Mapping[str, Input]) -> Config:
        """The config with some inputs replaced (a changed distribution; names, uses and bounds as before)."""
        if not inputs:
            return self.config
        unknown = sorted(set(inputs) - set(self.config.inputs))
        if unknown:
            raise KeyError(f"unknown input {unknown[0]!r}")
        return replace(self.config, inputs={**self.config.inputs, **inputs})

    def net_change(self, inputs: Mapping[str, Input] | None = None, pins: Mapping[str, float] | None = None,
                   placement_spread: bool = True) -> np.ndarray:
        """Net change to the MTFP after mitigation, per iteration and year [GBP, shape (iterations, years);
        positive = pressure], with ``inputs`` replacing the config's (new distributions on the same
        uniforms) and ``pins`` holding inputs at one value. ``placement_spread`` False takes each avoided
        child-year at its expected cost (as the grouped tornado holds placements)."""
        inputs = dict(inputs or {})
        config = self.with_inputs(inputs)
        pins = check_overrides(config, dict(pins or {}), "pin")
        central = central_case(config)[1] if inputs else self._central
        out = []
        for b, size, x, u, z, memo in self._blocks:
            if inputs:
                x = {**x, **{name: self._remap(name, item, b, u[name]) for name, item in inputs.items() if name in u}}
            out.append(simulate_block(config, central, x, u, z if placement_spread else None, seed=self.seed,
                                      block=b, size=size, sampler=self._design, overrides=pins, main_only=True,
                                      net_only=True, memo=memo if placement_spread else None)["net_change_to_mtfp"])
        return np.concatenate(out)

    def _remap(self, name: str, item: Input, block: int, u: np.ndarray) -> np.ndarray:
        # The last mapping of each input is kept, so that an unchanged array keeps its identity and the
        # model's sub-results that read it are reused while another input moves.
        key = (name, block)
        kept = self._mapped.get(key)
        if kept is not None and kept[0] is item.dist:
            return kept[1]
        values = item.dist.ppf(u)
        values.setflags(write=False)
        self._mapped[key] = (item.dist, values)
        return values
