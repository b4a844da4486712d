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
               progress: Callable[[int, int], None] | None = None, detail_path: str | os.PathLike | None = None,
               detail: Collection[str] = (), compress: tuple[bool, bool] = (True, True)) -> xr.Dataset:
    """Compute every chunk and gather the results as the Dataset ``dataset`` builds from the arrays.

    ``compute(chunk)`` returns each variable's values for the chunk, with the iteration axis at
    ``axis``; ``shapes`` gives each variable's shape without it, ``dtypes`` the dtype it is stored in
    (default float64). With ``path`` the results go to that new netCDF file block by block (memory
    bounded by the blocks in flight), ``done_blocks`` already in it are skipped and ``on_block`` is
    called once each block is flushed; the Dataset returned is opened lazily from the file. With
    ``detail_path`` too, the variables named in ``detail`` go to that second file instead (a run folder
    keeps it only when asked) and the Dataset returned holds both files' variables. ``compress`` says
    whether each file's chunks are compressed (a file that will not be kept need not be). With
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
    sinks: list = []
    if path is None:
        results = {k: np.empty(with_iterations(k, total), dtypes.get(k, np.float64)) for k in shapes}
    else:
        empty = dataset({k: np.empty(with_iterations(k, 0), dtypes.get(k, np.float64)) for k in shapes})
        names = list(empty.data_vars)
        split = {path: [k for k in names if detail_path is None or k not in detail]}
        if detail_path is not None:
            split[detail_path] = [k for k in names if k in detail]
        results = {}
        try:
            for (file, kept), squeeze in zip(split.items(), compress):
                with store.writing(file):
                    sinks.append(store.open_for_blocks(file, empty[kept], total, resume=bool(done_blocks),
                                                       compress=squeeze))
                results.update({k: sinks[-1][k] for k in kept if k in shapes})
        except BaseException:
            for sink in sinks:
                sink.close()
            raise
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
                if sinks:
                    store.block_written(sinks, chunk.pos, chunk.size, chunk.block, on_block, written)
            done += chunk.size
            if progress is not None:
                progress(done, total)
    finally:
        for sink in sinks:
            with store.writing(sink.filepath()):  # closing flushes: it can meet a full disk too
                sink.close()
    if path is not None:
        return store.open_split(path, detail_path)
    return dataset(results)
