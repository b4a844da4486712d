"""Random streams and input sampling.

One root seed. Each input gets its own stream, keyed by a stable id computed from its name, so adding
an input leaves the others' draws unchanged. Iterations are cut into fixed blocks of
:data:`BLOCK` and each block's generator is derived from ``(stream id, block index)`` under the root
seed with :class:`numpy.random.SeedSequence`; a run therefore gives the same numbers whatever the
chunk size used to compute it (NumPy, "Parallel random number generation").
"""
from __future__ import annotations

import threading
import zlib
from typing import Protocol

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import qmc

from fsp_risk.config import Config, Correlation, Input

#: Iterations per random-number block. Fixed: changing it changes every draw.
BLOCK = 65_536


def stream_id(name: str) -> int:
    """Stable 32-bit id of a named stream (CRC-32 of its name)."""
    return zlib.crc32(name.encode("utf-8"))


def block_rng(seed: int, name: str, block: int) -> np.random.Generator:
    """Generator for one block of one named stream."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_id(name), block)))


def block_sizes(iterations: int) -> list[int]:
    """Sizes of the blocks that make up a run: full blocks, then the remainder."""
    full, rest = divmod(iterations, BLOCK)
    return [BLOCK] * full + ([rest] if rest else [])


class Sampler(Protocol):
    """How a block of one named stream's uniforms is drawn: plain Monte Carlo, a Latin hypercube, or the
    stream's columns of a joint scrambled Sobol' design. ``name`` is what the run records."""

    name: str

    def uniforms(self, seed: int, name: str, block: int, size: int, ncols: int) -> np.ndarray:
        """Uniforms in [0, 1) for one block of one stream, shape ``(size, ncols)``."""


class MonteCarlo:
    """Independent uniforms from each stream's own generator for the block."""

    name = "mc"

    def uniforms(self, seed: int, name: str, block: int, size: int, ncols: int) -> np.ndarray:
        return block_rng(seed, name, block).random((size, ncols))


class LatinHypercube:
    """Each column stratified over the block: a Latin hypercube of the block's size, per stream."""

    name = "lhs"

    def uniforms(self, seed: int, name: str, block: int, size: int, ncols: int) -> np.ndarray:
        return qmc.LatinHypercube(d=ncols, rng=block_rng(seed, name, block)).random(size)


class SobolDesign:
    """Scrambled Sobol' points for every random stream of one config, as one joint design per block.

    Quasi-random points only fill the space evenly when all the streams are coordinates of one
    sequence: independent one-dimensional Sobol' streams would share their digit structure and be
    strongly dependent. So each stream is given its own columns of one ``dims``-dimensional design,
    scrambled (Owen-type, with digital shift) by a generator from the seed and the block's position;
    with ``sobol``, unlike ``mc`` and ``lhs``, adding an input changes the other inputs' draws.
    """

    name = "sobol"

    def __init__(self, layout: dict[str, tuple[int, int]]):
        self.layout = layout  # stream name -> (first column, number of columns)
        self.dims = sum(n for _, n in layout.values())
        # The current block's points, one cache per thread: blocks run on several threads at once.
        self._cache = threading.local()

    def __getstate__(self):
        return {"layout": self.layout, "dims": self.dims}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._cache = threading.local()

    def uniforms(self, seed: int, name: str, block: int, size: int, ncols: int) -> np.ndarray:
        first, n = self.layout[name]
        if n != ncols:
            raise ValueError(f"stream {name!r} has {n} columns in the Sobol' design, asked for {ncols}")
        cache = self._cache
        if getattr(cache, "key", None) != (seed, block, size):
            engine = qmc.Sobol(d=self.dims, scramble=True, rng=block_rng(seed, "sobol-design", block))
            # A power of two keeps the design balanced; a final partial block takes its first ``size`` points.
            cache.points = engine.random_base2(int(np.ceil(np.log2(max(size, 2)))))[:size]
            cache.key = (seed, block, size)
        return cache.points[:, first : first + n]


def stream_layout(config: Config) -> dict[str, tuple[int, int]]:
    """Every named random stream a config draws from, with its number of columns, in a fixed order."""
    n_years = len(config.years)
    streams = [(f"input:{name}", n_years if item.per_year else 1) for name, item in config.inputs.items()]
    streams += [(f"driver:{name}", 1) for name in config.common_drivers]
    if config.placements is not None:
        streams += [(f"placement_costs:{t.name}", n_years) for t in config.placements.types]
    if config.risk_register is not None:
        for r in config.risk_register.risks:
            if not r.link:
                streams += [(f"risk:{r.id}:year", n_years), (f"risk:{r.id}:once", 1), (f"risk:{r.id}:pick", 1)]
    layout, first = {}, 0
    for name, n in streams:
        layout[name] = (first, n)
        first += n
    return layout


#: The samplers that need nothing but their name (a Sobol' design needs the config's streams).
_BY_NAME = {"mc": MonteCarlo, "lhs": LatinHypercube}


def resolve_sampler(config: Config, sampler: str | Sampler) -> Sampler:
    """The :class:`Sampler` for a sampler name ('mc', 'lhs', 'sobol'); a Sampler is returned as it is."""
    if not isinstance(sampler, str):
        return sampler
    if sampler == "sobol":
        return SobolDesign(stream_layout(config))
    if sampler not in _BY_NAME:  # validated at load; kept for direct API callers
        raise ValueError(f"sampler: expected 'mc', 'lhs' or 'sobol', got {sampler!r}")
    return _BY_NAME[sampler]()


def block_uniforms(seed: int, name: str, block: int, size: int, ncols: int, sampler: str | Sampler) -> np.ndarray:
    """Uniforms in (0, 1) for one block of one named stream, shape ``(size, ncols)``, from ``sampler``
    (a :class:`Sampler`, or the name of one that needs no config: 'mc' or 'lhs')."""
    if isinstance(sampler, str):
        if sampler not in _BY_NAME:
            raise ValueError(f"sampler: expected 'mc' or 'lhs', or a Sampler, got {sampler!r}")
        sampler = _BY_NAME[sampler]()
    # ppf(0) can be -inf for unbounded distributions; a draw of exactly 0 has probability 2**-53.
    return np.clip(sampler.uniforms(seed, name, block, size, ncols), np.finfo(float).tiny, None)


def correlated_uniforms(own, driver, loading: float):
    """Uniforms that load on a common driver through a one-factor Gaussian copula [probability scale].

    The normal score is ``loading * Z_driver + sqrt(1 - loading**2) * Z_own``, so two variables with
    loadings a and b have normal scores correlated a * b, and each keeps its own marginal distribution.

    Parameters
    ----------
    own : array  The variable's own uniforms; any shape broadcasting with ``driver``.
    driver : array or None  The driver's uniforms, shape (n, 1); None for no driver.
    loading : float  In (-1, 1).
    """
    if driver is None or loading == 0:
        return own
    return ndtr(loading * ndtri(driver) + np.sqrt(1.0 - loading**2) * ndtri(own))


def driver_uniforms(seed: int, name: str, block: int, size: int, sampler: str | Sampler) -> np.ndarray:
    """One uniform per iteration for a common driver, shape (size, 1): a climate lasting the horizon."""
    return block_uniforms(seed, f"driver:{name}", block, size, 1, sampler)


def input_uniforms(item: Input, seed: int, blocks: list[tuple[int, int]], n_years: int, sampler: str | Sampler) -> np.ndarray:
    """The uniforms behind one input for the given ``(block index, size)`` list.

    Shape ``(n, n_years)`` for a per-year input, ``(n, 1)`` otherwise, so that values broadcast
    against ``(iteration, year)`` arrays. An input on a common driver gets correlated uniforms.
    """
    ncols = n_years if item.per_year else 1
    parts = []
    for b, size in blocks:
        u = block_uniforms(seed, f"input:{item.name}", b, size, ncols, sampler)
        if item.year_to_year:
            u = year_to_year_uniforms(u, item.year_to_year)
        if item.driver is not None:
            u = correlated_uniforms(u, driver_uniforms(seed, item.driver, b, size, sampler), item.loading)
        parts.append(u)
    return np.concatenate(parts)


def year_to_year_uniforms(u: np.ndarray, rho: float) -> np.ndarray:
    """Uniforms of a per-year input made to persist through time [probability scale, (n, years)].

    The normal scores follow an AR(1): ``z_t = rho * z_(t-1) + sqrt(1 - rho**2) * e_t``, so each year keeps
    a uniform marginal and two years k apart have normal scores correlated ``rho**k``.
    """
    e = ndtri(u)
    z = np.empty_like(e)
    z[:, 0] = e[:, 0]
    for t in range(1, e.shape[1]):  # over years, not iterations
        z[:, t] = rho * z[:, t - 1] + np.sqrt(1.0 - rho**2) * e[:, t]
    return ndtr(z)


def iman_conover(keys: np.ndarray, normal_corr: np.ndarray) -> np.ndarray:
    """Row orders that give the columns of ``keys`` a target rank correlation (Iman and Conover, 1982).

    Each column is only re-ordered, so every marginal keeps exactly its values. The van der Waerden
    scores of the columns' own ranks (independent streams: already a random arrangement) are
    decorrelated with the Cholesky factor of their sample correlation and re-correlated with a square
    root of ``normal_corr``; each column then takes the rank order of its transformed scores.

    Parameters
    ----------
    keys : array (n, k)  One continuous key per iteration and variable; ties have probability zero.
    normal_corr : array (k, k)  Target product-moment correlation of the normal scores, positive
        semi-definite; for a rank correlation r use ``2 sin(pi r / 6)``.

    Returns
    -------
    array (n, k) of row indices: column j re-ordered is ``keys[idx[:, j], j]``.
    """
    n, k = keys.shape
    if n < k + 2:  # too few rows to estimate the scores' correlation; nothing to impose
        return np.tile(np.arange(n)[:, None], (1, k))
    # Stable sorts order any tie the same way on every machine; ranks are the inverse permutations.
    order = np.argsort(keys, axis=0, kind="stable")
    ranks = _inverse_permutation(order)
    scores = ndtri((ranks + 1.0) / (n + 1.0))
    chol = np.linalg.cholesky(np.corrcoef(scores, rowvar=False))
    w, v = np.linalg.eigh(normal_corr)
    target_root = v * np.sqrt(np.clip(w, 0.0, None))  # a square root valid for singular matrices too
    t = np.linalg.solve(chol, scores.T).T @ target_root.T
    t_ranks = _inverse_permutation(np.argsort(t, axis=0, kind="stable"))
    return np.take_along_axis(order, t_ranks, axis=0)


def _inverse_permutation(order: np.ndarray) -> np.ndarray:
    """Per column, the position of each row in ``order`` (what argsort of ``order`` gives, in O(n))."""
    inverse = np.empty_like(order)
    np.put_along_axis(inverse, order, np.arange(order.shape[0])[:, None], axis=0)
    return inverse


def impose_correlation(corr: Correlation | None, u: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inputs' uniforms with the config's rank correlations imposed on one block (Iman–Conover).

    A per-year input moves whole rows (its years together, keeping their persistence); its key is the
    mean normal score over the years, i.e. its level over the horizon.
    """
    if corr is None:
        return u
    keys = np.column_stack([ndtri(u[name]).mean(axis=1) for name in corr.inputs])
    idx = iman_conover(keys, corr.normal)
    return {**u, **{name: u[name][idx[:, j]] for j, name in enumerate(corr.inputs)}}


def block_input_uniforms(config: Config, seed: int, block: int, size: int, sampler,
                         names=None) -> dict[str, np.ndarray]:
    """The uniforms of the inputs (all, or ``names``) for one block, with persistence, drivers and rank
    correlations applied; the inputs of the correlation matrix are always drawn, as they move together."""
    n_years = len(config.years)
    wanted = set(config.inputs if names is None else names) | set(config.correlation.inputs if config.correlation else ())
    u = {name: input_uniforms(item, seed, [(block, size)], n_years, sampler)
         for name, item in config.inputs.items() if name in wanted}
    return impose_correlation(config.correlation, u)


def sample_input(item: Input, seed: int, blocks: list[tuple[int, int]], n_years: int, sampler: str | Sampler) -> np.ndarray:
    """Values of one input for the given ``(block index, size)`` list (see :func:`input_uniforms`)."""
    return item.dist.ppf(input_uniforms(item, seed, blocks, n_years, sampler))
