"""Random streams and input sampling.

One root seed. Each input gets its own stream, keyed by a stable id computed from its name, so adding
an input leaves the others' draws unchanged. Iterations are cut into fixed blocks of
:data:`BLOCK` and each block's generator is derived from ``(stream id, block index)`` under the root
seed with :class:`numpy.random.SeedSequence`; a run therefore gives the same numbers whatever the
chunk size used to compute it (NumPy, "Parallel random number generation").
"""
from __future__ import annotations

import zlib

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import qmc

from .config import Config, Input

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


def block_uniforms(seed: int, name: str, block: int, size: int, ncols: int, sampler: str) -> np.ndarray:
    """Uniforms in (0, 1) for one block of one input, shape ``(size, ncols)``.

    ``lhs`` stratifies each column over the block (a Latin hypercube of the block's size).
    """
    rng = block_rng(seed, name, block)
    if sampler == "mc":
        u = rng.random((size, ncols))
    elif sampler == "lhs":
        u = qmc.LatinHypercube(d=ncols, rng=rng).random(size)
    else:  # validated at load; kept for direct API callers
        raise ValueError(f"sampler: expected 'mc' or 'lhs', got {sampler!r}")
    # ppf(0) can be -inf for unbounded distributions; a draw of exactly 0 has probability 2**-53.
    return np.clip(u, np.finfo(float).tiny, None)


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


def driver_uniforms(seed: int, name: str, block: int, size: int, sampler: str) -> np.ndarray:
    """One uniform per iteration for a common driver, shape (size, 1): a climate lasting the horizon."""
    return block_uniforms(seed, f"driver:{name}", block, size, 1, sampler)


def input_uniforms(item: Input, seed: int, blocks: list[tuple[int, int]], n_years: int, sampler: str) -> np.ndarray:
    """The uniforms behind one input for the given ``(block index, size)`` list.

    Shape ``(n, n_years)`` for a per-year input, ``(n, 1)`` otherwise, so that values broadcast
    against ``(iteration, year)`` arrays. An input on a common driver gets correlated uniforms.
    """
    ncols = n_years if item.per_year else 1
    parts = []
    for b, size in blocks:
        u = block_uniforms(seed, f"input:{item.name}", b, size, ncols, sampler)
        if item.driver is not None:
            u = correlated_uniforms(u, driver_uniforms(seed, item.driver, b, size, sampler), item.loading)
        parts.append(u)
    return np.concatenate(parts)


def sample_input(item: Input, seed: int, blocks: list[tuple[int, int]], n_years: int, sampler: str) -> np.ndarray:
    """Values of one input for the given ``(block index, size)`` list (see :func:`input_uniforms`)."""
    return item.dist.ppf(input_uniforms(item, seed, blocks, n_years, sampler))


def central_inputs(config: Config) -> dict[str, np.ndarray]:
    """Every input at its central value, as one iteration: shape ``(1, 1)``."""
    return {name: np.array([[item.dist.central]]) for name, item in config.inputs.items()}
