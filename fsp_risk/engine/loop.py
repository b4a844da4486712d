"""The block loop, written once for plain runs and scenario runs: blocks computed by an executor and
placed into arrays in memory, into a netCDF file block by block (resumable), or left as lazy dask arrays.
"""
from __future__ import annotations

import os
from typing import Callable, Collection, NamedTuple

import numpy as np
import xarray as xr

from fsp_risk.engine import store
from fsp_risk.engine.executors import lazy_blocks, map_blocks
from fsp_risk.engine.sampling import BLOCK, block_sizes


class Chunk(NamedTuple):
    """One block of a run: its number (None for the single deterministic iteration), first iteration and size."""

    block: int | None
    pos: int
    size: int


def chunks(iterations: int, deterministic: bool = False) -> list[Chunk]:
    """The blocks of a run of ``iterations``, each of at most :data:`BLOCK` iterations."""
    if deterministic:
        return [Chunk(None, 0, 1)]
    return [Chunk(b, b * BLOCK, size) for b, size in enumerate(block_sizes(iterations))]


def run_blocks(compute: Callable[[Chunk], dict[str, np.ndarray]], todo: list[Chunk],
               shapes: dict[str, tuple[int, ...]], dataset: Callable[[dict], xr.Dataset], *, axis: int = 0,
               dtypes: dict[str, type] | None = None, path: str | os.PathLike | None = None,
               engine: str = "threads", workers: int | None = None, scheduler: str | None = None,
               done_blocks: Collection[int] = (), on_block: Callable[[int, str], None] | None = None,
               progress: Callable[[int, int], None] | None = None) -> xr.Dataset:
    """Compute every chunk and gather the results as the Dataset ``dataset`` builds from the arrays.

    ``compute(chunk)`` returns each variable's values for the chunk, with the iteration axis at
    ``axis``; ``shapes`` gives each variable's shape without it, ``dtypes`` the dtype it is stored in
    (default float64). With ``path`` the results go to that new netCDF file block by block (memory
    bounded by the blocks in flight), ``done_blocks`` already in it are skipped and ``on_block`` is
    called once each block is flushed; the Dataset returned is opened lazily from the file. With
    ``engine`` dask and no ``path`` nothing runs yet: the arrays are dask arrays, one task per block.
    ``progress(done, total)`` is called after each block. Results never depend on the executor or
    the number of workers.
    """
    dtypes = dtypes or {}
    total = sum(c.size for c in todo)

    def with_iterations(key: str, n: int) -> tuple[int, ...]:
        shape = shapes[key]
        return (*shape[:axis], n, *shape[axis:])

    if engine == "dask" and path is None:
        return dataset(lazy_blocks(compute, todo, [c.size for c in todo], shapes, axis=axis))
    sink = None
    if path is None:
        results = {k: np.empty(with_iterations(k, total), dtypes.get(k, np.float64)) for k in shapes}
    else:
        empty = {k: np.empty(with_iterations(k, 0), dtypes.get(k, np.float64)) for k in shapes}
        with store.writing(path):
            sink = store.open_for_blocks(path, dataset(empty), total, resume=bool(done_blocks))
        results = {k: sink[k] for k in shapes}
        done_blocks = set(done_blocks)
        todo = [c for c in todo if (c.block or 0) not in done_blocks]

    done = total - sum(c.size for c in todo)
    lead = (slice(None),) * axis
    try:
        for chunk, values in zip(todo, map_blocks(compute, todo, workers, engine, scheduler)):
            written = {k: np.asarray(values[k], dtypes.get(k, np.float64)) for k in shapes}
            where = (*lead, slice(chunk.pos, chunk.pos + chunk.size))
            with store.writing(path):
                for k, arr in results.items():
                    arr[where] = written[k]
                if sink is not None:
                    store.block_written(sink, chunk.pos, chunk.size, chunk.block, on_block, written)
            done += chunk.size
            if progress is not None:
                progress(done, total)
    finally:
        if sink is not None:
            with store.writing(path):  # closing flushes: it can meet a full disk too
                sink.close()
    if path is not None:
        return xr.open_dataset(path, engine="netcdf4", cache=False)  # each variable read when used, not kept
    return dataset(results)
