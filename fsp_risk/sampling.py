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


def input_uniforms(item: Input, seed: int, blocks: list[tuple[int, int]], n_years: int, sampler: str) -> np.ndarray:
    """The uniforms behind one input for the given ``(block index, size)`` list.

    Shape ``(n, n_years)`` for a per-year input, ``(n, 1)`` otherwise, so that values broadcast
    against ``(iteration, year)`` arrays.
    """
    ncols = n_years if item.per_year else 1
    return np.concatenate([block_uniforms(seed, f"input:{item.name}", b, size, ncols, sampler) for b, size in blocks])


def sample_input(item: Input, seed: int, blocks: list[tuple[int, int]], n_years: int, sampler: str) -> np.ndarray:
    """Values of one input for the given ``(block index, size)`` list (see :func:`input_uniforms`)."""
    return item.dist.ppf(input_uniforms(item, seed, blocks, n_years, sampler))


def central_inputs(config: Config) -> dict[str, np.ndarray]:
    """Every input at its central value, as one iteration: shape ``(1, 1)``."""
    return {name: np.array([[item.dist.central]]) for name, item in config.inputs.items()}


def sample_inputs(config: Config, seed: int, blocks: list[tuple[int, int]], sampler: str) -> dict[str, np.ndarray]:
    """Sample every input of the assumption book for the given blocks."""
    n_years = len(config.years)
    return {name: sample_input(item, seed, blocks, n_years, sampler) for name, item in config.inputs.items()}
