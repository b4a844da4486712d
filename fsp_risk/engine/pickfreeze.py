"""Pick-freeze evaluations for variance-based (Sobol') sensitivity.

The model is evaluated on two independent samples of the run's random streams, A and B, and on one hybrid
per factor: A with the factor's streams taken from B (Saltelli et al., 2010, "Variance based sensitivity
analysis of model output", Computer Physics Communications 181, 259-270). A factor is a set of named
streams (:func:`fsp_risk.engine.sampling.stream_layout`): an input's own uniforms, a common driver, a
placement type's cost spread, a register risk's occurrence. The estimators assume factors independent of
the rest, so a factor is first closed over the dependence the config declares (:func:`dependence_closure`):
inputs linked by the rank-correlation matrix or a common driver travel together.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from fsp_risk.config import Config
from fsp_risk.engine.blocks import _draw, central_case, check_overrides, simulate_block
from fsp_risk.engine.executors import map_blocks
from fsp_risk.engine.sampling import BLOCK, MonteCarlo, stream_layout
from fsp_risk.model.drivers import Memo

#: The blocks of the run's seed that samples A and B are drawn from (the run's own first two blocks).
A_BLOCK, B_BLOCK = 0, 1


def input_stream(name: str) -> str:
    """The stream of an input's own uniforms."""
    return f"input:{name}"


def risk_streams(risk_id: str) -> tuple[str, ...]:
    """The streams of a register risk costed in £: in which years it occurs, whether once, which year."""
    return tuple(f"risk:{risk_id}:{part}" for part in ("year", "once", "pick"))


def dependence_closure(config: Config) -> dict[str, frozenset[str]]:
    """Each stream's dependence component: the streams whose values move together with it.

    Inputs in the rank-correlation matrix share one component (Iman-Conover re-orders them jointly); an
    input or risk on a common driver shares the driver's. Streams not listed are on their own.
    """
    parent: dict[str, str] = {}

    def find(s: str) -> str:
        while parent.setdefault(s, s) != s:
            s = parent[s]
        return s

    def union(streams: Iterable[str]) -> None:
        streams = list(streams)
        for s in streams[1:]:
            parent[find(s)] = find(streams[0])

    if config.correlation is not None:
        union(input_stream(n) for n in config.correlation.inputs)
    for name, item in config.inputs.items():
        if item.driver is not None:
            union([f"driver:{item.driver}", input_stream(name)])
    reg = config.risk_register
    for r in (reg.risks if reg is not None else ()):
        if not r.link and r.driver is not None:
            union([f"driver:{r.driver}", *risk_streams(r.id)[:2]])
    groups: dict[str, set[str]] = {}
    for s in list(parent):
        groups.setdefault(find(s), set()).add(s)
    return {s: frozenset(groups[find(s)]) for s in parent}


def close(streams: Iterable[str], closure: dict[str, frozenset[str]]) -> frozenset[str]:
    """``streams`` with every stream that depends on one of them (its whole component)."""
    out: set[str] = set()
    for s in streams:
        out |= closure.get(s, {s})
    return frozenset(out)


class _Routed:
    """Plain Monte Carlo uniforms, each stream's from block A or, for the streams in ``from_b``, block B."""

    name = "mc"

    def __init__(self, from_b: frozenset[str]):
        self.from_b = from_b

    def uniforms(self, seed: int, name: str, block: int, size: int, ncols: int) -> np.ndarray:
        return MonteCarlo().uniforms(seed, name, B_BLOCK if name in self.from_b else A_BLOCK, size, ncols)


def pick_freeze(config: Config, factors: list[frozenset[str]], rows: int, seed: int,
                overrides: dict[str, float] | None = None, workers: int | None = None):
    """The net change to the MTFP after mitigation on A, on B and on each factor's hybrid [GBP].

    ``factors`` are sets of stream names, each closed over dependence (:func:`close`), so that a hybrid is a
    draw from the inputs' joint distribution. Returns ``(y_a, y_b, y_hybrid)`` of shapes ``(rows, years)``,
    ``(rows, years)`` and ``(len(factors), rows, years)``. The samples are plain Monte Carlo from the run's
    seed (blocks :data:`A_BLOCK` and :data:`B_BLOCK`), whatever the run's sampler: the estimators need two
    independent samples. ``overrides`` pin inputs in every evaluation. Each hybrid is evaluated with A's
    sub-results where its arrays are A's (:class:`~fsp_risk.model.drivers.Memo`): a factor costs what it
    reaches of the model, not a whole evaluation.
    """
    if not 1 <= rows <= BLOCK:
        raise ValueError(f"rows: expected 1 to {BLOCK:,} (one block), got {rows}")
    overrides = check_overrides(config, overrides or {})
    central = central_case(config)[1]
    empty, every = frozenset(), frozenset(stream_layout(config))
    a = _draw(config, seed, A_BLOCK, rows, _Routed(empty), True)
    b = _draw(config, seed, A_BLOCK, rows, _Routed(every), True)
    types = [] if config.placements is None else [t.name for t in config.placements.types]

    def evaluate(from_b: frozenset[str], memo: Memo) -> np.ndarray:
        pick = (lambda stream: stream in from_b)
        x = {k: (b[0] if pick(input_stream(k)) else a[0])[k] for k in a[0]}
        u = {k: (b[1] if pick(input_stream(k)) else a[1])[k] for k in a[1]}
        z = None if a[2] is None else [(b[2] if pick(f"placement_costs:{t}") else a[2])[i] for i, t in enumerate(types)]
        out = simulate_block(config, central, x, u, z, seed=seed, block=A_BLOCK, size=rows, sampler=_Routed(from_b),
                             overrides=overrides, main_only=True, net_only=True, memo=memo)
        return out["net_change_to_mtfp"]

    memo = Memo(depth=1)  # holds A's sub-results, which every hybrid reads where its arrays are A's
    y_a = evaluate(empty, memo)
    y_b = evaluate(every, Memo(depth=0))

    def hybrid(from_b: frozenset[str]) -> np.ndarray:
        # The register's £ risks draw their own streams inside the evaluation: a factor holding any of them
        # must not reuse A's occurrences, which the memo keys by the inputs they read alone.
        own = memo if not any(s.startswith(("risk:", "driver:")) for s in from_b) else _without(memo, "standalone risks")
        return evaluate(from_b, own)

    y_h = np.stack(list(map_blocks(hybrid, factors, workers))) if factors else np.empty((0, *y_a.shape))
    return y_a, y_b, y_h


def _without(memo: Memo, name: str) -> Memo:
    """A read-only copy of ``memo`` without one sub-result."""
    copy = Memo(depth=0)
    copy.kept = {k: v for k, v in memo.kept.items() if k != name}
    return copy

