"""One block of iterations: its random inputs, the model evaluated on them (after mitigation, without it,
and with each linked risk switched off), and the central case that plans are measured against."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np
from scipy.special import ndtri

from fsp_risk.config import Config, check_pins
from fsp_risk.engine.sampling import Sampler, block_input_uniforms, block_uniforms, correlated_uniforms
from fsp_risk.engine.variables import RISK_KEYS
from fsp_risk.errors import ConfigError
from fsp_risk.model import risks
from fsp_risk.model.drivers import Arrays, Memo, _driver, central_inputs, evaluate_drivers
from fsp_risk.model.rollup import rollup


def placement_scores(config: Config, seed: int, block: int, size: int, sampler: Sampler) -> list[np.ndarray] | None:
    """Standard normal scores, one (size, years) array per placement type, from their own streams."""
    if config.placements is None:
        return None
    n_years = len(config.years)
    return [ndtri(block_uniforms(seed, f"placement_costs:{t.name}", block, size, n_years, sampler))
            for t in config.placements.types]


def _standalone_risks(config: Config, x: Arrays, x_res: Arrays, seed: int, block: int | None, size: int,
                      sampler: Sampler) -> dict[str, dict]:
    """Occurrence and impact of each risk with a £ impact, for one block, keyed by risk id.

    ``block`` None is the deterministic case: every uniform is 0.5, so a risk occurs only if it is
    more likely than not (as a Bernoulli input's central value is its most likely outcome).
    """
    n_years = len(config.years)
    reg = config.risk_register

    def uniforms(name, ncols):
        if block is None:
            return np.full((size, ncols), 0.5)
        return block_uniforms(seed, name, block, size, ncols, sampler)

    drivers = {name: uniforms(f"driver:{name}", 1) for name in config.common_drivers}
    out = {}
    for r in reg.risks:
        if r.link:
            continue
        common = drivers.get(r.driver)
        u = {
            "year": correlated_uniforms(uniforms(f"risk:{r.id}:year", n_years), common, r.loading),
            "once": correlated_uniforms(uniforms(f"risk:{r.id}:once", 1), common, r.loading),
            "pick": uniforms(f"risk:{r.id}:pick", 1),
        }
        out[r.id] = risks.evaluate(r, x, x_res, u, n_years)
    return out


class _Rows(dict):
    """Inputs restricted to some rows (iterations), each indexed when first read."""

    def __init__(self, inputs: Arrays, rows: np.ndarray):
        super().__init__()
        self.inputs, self.rows = inputs, rows

    def __missing__(self, name: str) -> np.ndarray:
        value = self[name] = self.inputs[name][self.rows]
        return value


def simulate_block(config: Config, central: Arrays, x: Arrays, u: Arrays | None, z: list[np.ndarray] | None, *,
                   seed: int, block: int | None, size: int, sampler: Sampler,
                   overrides: dict[str, float] | None = None, main_only: bool = False,
                   net_only: bool = False, memo: Memo | None = None) -> Arrays:
    """All outputs for one block of iterations.

    ``x`` are the sampled inputs and ``u`` their uniforms (None in the deterministic case). With a risk
    register, the main result is *after* mitigation: mitigations that replace an input redraw it from
    the replacement's distribution on the same uniforms. A risk linked to model inputs is costed as the
    net change with its inputs as sampled minus with them switched off, on the same random numbers.
    ``overrides`` pin inputs in every iteration, after any mitigation has redrawn them. ``main_only``
    skips the inherent (unmitigated) result and the per-risk impacts: one model evaluation, not
    2 + 2 per linked risk, for what-if runs that need only the net change; ``net_only`` (with it) returns
    only ``net_change_to_mtfp``, bitwise as the full evaluation gives it. ``memo`` is the block's
    :class:`~fsp_risk.model.drivers.Memo` where one is kept across runs of the block (the what-if re-runs
    reuse the main run's sub-results that their pins do not reach); by default one for this call.
    """
    memo = memo if memo is not None else Memo()
    reg = config.risk_register
    n_years = len(config.years)
    overrides = overrides or {}
    x = pin(x, overrides)
    if reg is None:
        d = evaluate_drivers(config, x, z, memo)
        return {**d, **rollup(config, x, d, central, net_only=net_only)}

    x_res = dict(x)
    for m in reg.mitigations:
        for orig, repl in m.replace:
            if u is None or repl in overrides:  # central case, or the replacement itself is pinned
                x_res[orig] = np.broadcast_to(x[repl], np.shape(x[orig])).copy()
            else:
                # Keyed by the distribution too: a live what-if may change it on the same uniforms.
                x_res[orig] = memo(f"mitigated:{orig}", _ppf, config.inputs[repl].dist, u[orig])
    x_res = pin(x_res, overrides)
    # What the register's £ risks read (their likelihoods and impacts, before and after mitigation, and the
    # mitigations' factors); their own random numbers are the block's.
    reads = [inputs[k] for r in reg.risks if not r.link for k in (r.likelihood, r.impact) if k for inputs in (x, x_res)]
    reads += [x[k] for m in reg.mitigations for k in (m.likelihood_factor, m.impact_factor) if k]
    standalone = memo("standalone risks", lambda *a: _standalone_risks(config, x, x_res, seed, block, size, sampler),
                      *reads)
    mitigation_lines = [np.broadcast_to(risks.mitigation_cost(m, n_years), (size, n_years))
                        for m in reg.mitigations]
    no_mitigation = [np.zeros((size, n_years))] * len(reg.mitigations)
    lines_res = [standalone[r.id]["risk_impact_residual"] for r in reg.risks if not r.link] + mitigation_lines
    lines_inh = [standalone[r.id]["risk_impact"] for r in reg.risks if not r.link] + no_mitigation

    # The memo's sub-results are shared by the block's evaluations (after and before mitigation, each linked
    # risk off): each is computed once for the arrays it reads (dependency-aware; bitwise as computing it again).
    def net(inputs, extra_lines):
        return rollup(config, inputs, evaluate_drivers(config, inputs, z, memo), central, extra_lines,
                      net_only=True)["net_change_to_mtfp"]

    def impact_when_off(net_on, inputs, extra_lines, r):
        """The net change with the risk as sampled less with it switched off, evaluated only on the rows
        where the risk is live: elsewhere its inputs are already off, the two evaluations are the same
        arithmetic on the same numbers, and the impact is exactly zero."""
        live = np.flatnonzero(risks.linked_event(inputs, r, np.shape(net_on)).any(axis=1))
        impact = np.zeros_like(net_on)
        if live.size == np.shape(net_on)[0]:
            return net_on - net(risks.switched_off(inputs, r), extra_lines)
        if live.size:
            off = _Rows(inputs, live)  # only the inputs the model reads are indexed
            for name, value in r.link:  # as risks.switched_off does, on the live rows
                off[name] = np.full(np.shape(off[name]), value)
            d_off = evaluate_drivers(config, off, None if z is None else [zz[live] for zz in z])
            impact[live] = net_on[live] - rollup(config, off, d_off, central, [line[live] for line in extra_lines],
                                                 net_only=True)["net_change_to_mtfp"]
        return impact

    d = evaluate_drivers(config, x_res, z, memo)
    if main_only and net_only:
        return rollup(config, x_res, d, central, lines_res, net_only=True)
    out = {**d, **rollup(config, x_res, d, central, lines_res)}
    if main_only:
        return out
    net_inh = net(x, lines_inh)
    out["net_change_inherent"] = net_inh
    per_risk = []
    for r in reg.risks:
        if not r.link:
            per_risk.append(standalone[r.id])
            continue
        imp_inh = impact_when_off(net_inh, x, lines_inh, r)
        imp_res = impact_when_off(out["net_change_to_mtfp"], x_res, lines_res, r)
        shape = imp_inh.shape
        per_risk.append({
            "risk_occurred": (risks.linked_event(x, r, shape) & (np.abs(imp_inh) > 0.005)).astype(float),
            "risk_occurred_residual": (risks.linked_event(x_res, r, shape) & (np.abs(imp_res) > 0.005)).astype(float),
            "risk_impact": imp_inh,
            "risk_impact_residual": imp_res,
        })
    for k in RISK_KEYS:
        out[k] = np.stack([pr[k] for pr in per_risk], axis=-1)
    return out


# --------------------------------------------------------------------------- simulate
def block_inputs(config: Config, seed: int, block: int, size: int, sampler: Sampler,
                 placement_spread: bool = True) -> tuple[Arrays, Arrays, list[np.ndarray] | None]:
    """Input values, uniforms and placement cost scores of one block: everything random in it.

    ``placement_spread`` False takes each child-year at its expected cost (no spread between children).
    Inside :func:`reusing_draws` a block's draws are made once and shared, read-only, by every run that
    asks for them again (common random numbers: the same draws by construction).
    """
    if _reuse is not None:
        return _reuse.get(config, seed, block, size, sampler, placement_spread)
    return _draw(config, seed, block, size, sampler, placement_spread)


def _ppf(dist, u: np.ndarray) -> np.ndarray:
    return dist.ppf(u)


def _draw(config, seed, block, size, sampler, placement_spread):
    u = block_input_uniforms(config, seed, block, size, sampler)
    x = {name: config.inputs[name].dist.ppf(uu) for name, uu in u.items()}
    return x, u, placement_scores(config, seed, block, size, sampler) if placement_spread else None


def same_draws(a: Config, b: Config) -> bool:
    """Whether two configs draw the same inputs from the same seed: the same inputs and distributions, rank
    correlations, years and placement types (a scenario that changes only costs, lines or the register)."""
    types = (lambda c: None if c.placements is None else [t.name for t in c.placements.types])
    return a is b or (a.inputs == b.inputs and a.correlation == b.correlation and a.years == b.years
                      and types(a) == types(b))


class _DrawCache:
    """Blocks' draws kept while :func:`reusing_draws` is open, up to ``limit`` bytes (then drawn afresh)."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0
        # (key, config, [x, u, z], [(config, its Memo of the block's sub-results)])
        self.entries: list[tuple[tuple, Config, list, list]] = []
        self.lock = threading.Lock()

    @staticmethod
    def _key(seed, block, size, sampler) -> tuple:
        layout = getattr(sampler, "layout", None)  # a Sobol' design's columns depend on the streams it spans
        return seed, block, size, sampler.name, None if layout is None else tuple(layout.items())

    def _find(self, key, config):
        """The kept entry for ``key`` whose config draws as ``config`` does, or None (hold the lock)."""
        return next((e for e in self.entries if e[0] == key and same_draws(e[1], config)), None)

    def get(self, config, seed, block, size, sampler, placement_spread):
        key = self._key(seed, block, size, sampler)
        with self.lock:
            entry = self._find(key, config)
        if entry is None:
            draws = list(_draw(config, seed, block, size, sampler, placement_spread))
            self._keep(draws[0].values(), draws[1].values(), draws[2] or (),
                       then=lambda: self.entries.append((key, config, draws, [])))
            return tuple(draws)
        draws = entry[2]
        if placement_spread and draws[2] is None:  # kept from a run without the placements' spread
            z = placement_scores(config, seed, block, size, sampler)
            self._keep(z, then=lambda: draws.__setitem__(2, z))
            return draws[0], draws[1], z
        return draws[0], draws[1], (draws[2] if placement_spread else None)

    def memo(self, config, seed, block, size, sampler) -> Memo | None:
        """The memo of ``config``'s runs of a block whose draws are kept, for the first config that asks
        (None for another, or where the draws are not kept)."""
        with self.lock:
            entry = self._find(self._key(seed, block, size, sampler), config)
            if entry is None:
                return None
            memos = entry[3]
            if not memos:  # one config's memo a block (the run's own): others' would only add memory
                memos.append((config, Memo()))
            return memos[0][1] if memos[0][0] is config else None

    def _keep(self, *groups, then) -> None:
        """Mark the arrays read-only and keep them (``then()``) if they fit within the limit, counted twice:
        the block's memo of sub-results, kept with them, takes about as much again."""
        arrays = [a for group in groups for a in group]
        nbytes = 2 * sum(a.nbytes for a in arrays)
        with self.lock:
            if self.used + nbytes > self.limit:
                return
            for a in arrays:
                a.flags.writeable = False  # shared: a run that wrote into its inputs would change the others'
            self.used += nbytes
            then()


def block_memo(config: Config, seed: int, block: int | None, size: int, sampler: Sampler) -> Memo | None:
    """Inside :func:`reusing_draws`, the memo kept with a block's draws for ``config``'s runs of it: the main
    run fills it and the what-if re-runs of the block reuse what their pins do not reach. None outside,
    for the central case, or where the block's draws were not kept."""
    if _reuse is None or block is None:
        return None
    return _reuse.memo(config, seed, block, size, sampler)


_reuse: _DrawCache | None = None
#: What :func:`reusing_draws` keeps at most, draws and memos together (about 130-165 MiB a block of 65,536
#: iterations for the shipped configs): a 100,000-iteration run's blocks and the P50 switching values' part
#: block; of a larger run, its first blocks, which the what-if re-runs use.
REUSE_LIMIT = 512 * 2**20


def drop_kept_draws() -> None:
    """Let go of every block's kept draws and memos (inside :func:`reusing_draws`, which stays open and keeps
    whatever is drawn next): for a run's later steps, which reuse none of them."""
    if _reuse is not None:
        with _reuse.lock:
            _reuse.entries.clear()
            _reuse.used = 0


@contextmanager
def reusing_draws(limit: int = REUSE_LIMIT):
    """Within the block, each block's draws (:func:`block_inputs`) are made once and reused by every run on
    the same config (or one that draws the same inputs), seed, sampler, block and size: the what-if re-runs
    and scenarios share common random numbers, so drawing them again only repeats work. Results are bitwise
    the same as without it."""
    global _reuse
    if _reuse is not None:  # already open (nested): the outer one keeps the draws
        yield
        return
    _reuse = _DrawCache(limit)
    try:
        yield
    finally:
        _reuse = None


def check_central_case(config: Config, central: Arrays) -> None:
    """Refuse planned savings that the central case gives nothing to scale from."""
    for s in config.savings:
        if s.planned is None:
            continue
        drv = _driver(central, s.driver)[0]
        for k, (planned, value) in enumerate(zip(s.planned.values, drv)):
            if planned != 0 and value == 0:
                raise ConfigError(
                    f"a saving is planned in {config.years[k]} but the central case gives no {s.driver} "
                    "to scale it by (is go-live after that year?); expected a driver above zero wherever a "
                    "saving is planned",
                    file=config.path, path=f"savings.{s.name}.planned.values.{config.years[k]}",
                )


def check_overrides(config: Config, overrides: dict[str, float], field: str = "overrides") -> dict[str, float]:
    """Validate pinned inputs: known names, finite numbers within each input's range."""
    return check_pins(config, overrides, field, config.path)


def pin(x: Arrays, overrides: dict[str, float]) -> Arrays:
    """Inputs with some pinned to a value in every iteration (same shapes)."""
    if not overrides:
        return x
    return {**x, **{name: np.full(np.shape(x[name]), v) for name, v in overrides.items()}}


def central_case(config: Config) -> tuple[Arrays, Arrays]:
    """The central inputs and the drivers they give: the plan that savings and budgets are measured against."""
    x_central = central_inputs(config)
    return x_central, evaluate_drivers(config, x_central, None)


def central_net_savings(config: Config, overrides: dict[str, float] | None = None,
                        case: tuple[Arrays, Arrays] | None = None) -> np.ndarray:
    """Net savings by year [GBP] in the central case, with some inputs pinned: a fast deterministic run.

    ``case`` is :func:`central_case`'s result, for callers that evaluate many overrides.
    """
    x_central, central = case or central_case(config)
    net = simulate_block(config, central, x_central, None, None, seed=0, block=None, size=1, sampler="mc",
                         overrides=check_overrides(config, overrides or {}), main_only=True, net_only=True)
    return -net["net_change_to_mtfp"][0]  # as the full evaluation's net_savings: the main result only



def block_net_change_totals(config: Config, central: Arrays, seed: int, block: int, size: int, design,
                            overrides: dict[str, float] | None = None, placement_spread: bool = True) -> np.ndarray:
    """:func:`net_change_totals` for one block [GBP, shape (size,)]; ``design`` from :func:`resolve_sampler`."""
    x, u, z = block_inputs(config, seed, block, size, design, placement_spread)
    out = simulate_block(config, central, x, u, z, seed=seed, block=block, size=size, sampler=design,
                         overrides=overrides or {}, main_only=True, net_only=True,
                         memo=block_memo(config, seed, block, size, design))
    return out["net_change_to_mtfp"].sum(axis=1)

