"""Running blocks of iterations: on this machine's cores, or as dask tasks on a cluster.

Every block's random numbers come from the seed and the block's position (see :mod:`fsp_risk.engine.sampling`),
so blocks can be computed in any order, on any number of workers, by either engine, and give bitwise
the same results.

- ``threads`` (default): NumPy releases the GIL in its array loops, so threads use every core without
  copying inputs or results between processes.
- ``dask``: each block is a task on a ``dask.distributed`` cluster (a local one by default, or the
  scheduler at an address); the cluster's workers need fsp-risk installed.

Either way at most two blocks per worker thread are in flight, which bounds memory.
"""
from __future__ import annotations

import ctypes
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Callable, Iterable, Iterator, TypeVar

import numpy as np

from fsp_risk.errors import ConfigError, RunError

ENGINES = ("threads", "dask")
#: How long to keep trying to reach a dask scheduler before giving up.
CONNECT_TIMEOUT = "20s"

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def release_memory() -> None:
    """Hand freed memory back to the operating system (glibc keeps each thread's freed arenas otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def map_blocks(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None,
               engine: str = "threads", scheduler: str | None = None) -> Iterator[R]:
    """``fn`` over ``items``, results in the items' order.

    ``threads``: on ``workers`` threads (default: every core). ``dask``: as tasks on the dask client
    in use, else on the scheduler at ``scheduler``, else on a local cluster of ``workers`` processes
    started for the call.
    """
    items = list(items)
    if engine == "dask":
        with dask_client(scheduler, workers) as client:
            yield from _map_dask(client, fn, items)
        return
    if engine != "threads":
        raise ConfigError(f"expected one of {', '.join(ENGINES)}, got {engine!r}", path="engine")
    workers = min(workers or default_workers(), len(items))
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers) as pool:
        yield from _in_order(lambda item: pool.submit(fn, item), items, 2 * workers)
    release_memory()


def _in_order(submit, items, in_flight: int):
    """Results of ``submit(item)`` futures (concurrent.futures or dask), in the items' order, with at most
    ``in_flight`` submitted and not yet taken."""
    pending: deque = deque()
    try:
        for item in items:
            pending.append(submit(item))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException:  # an error, Ctrl-C or the caller stopping: stop after the blocks running now
        for future in pending:
            future.cancel()
        raise


def _distributed():
    try:
        import distributed
    except ImportError:
        raise RunError("the dask engine needs dask.distributed; install it with "
                       "python -m pip install 'fsp-risk[dask]'", path="engine") from None
    return distributed


def cluster(engine: str, scheduler: str | None, workers: int | None):
    """The dask client for a whole run (main results and scenarios), or nothing for threads."""
    return dask_client(scheduler, workers) if engine == "dask" else nullcontext()


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None):
    """A ``dask.distributed`` client: connected to ``scheduler`` when given, else the one already in use,
    else a new local cluster of ``workers`` single-threaded processes (default: one per core), shut
    down on exit."""
    distributed = _distributed()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise RunError(f"cannot reach a dask scheduler at {scheduler!r} ({exc}); expected the address "
                           "of a running scheduler, e.g. tcp://10.0.0.5:8786", path="--scheduler") from None
        with client:
            yield client
        return
    try:
        client = distributed.default_client()
    except ValueError:  # none in use
        client = None
    if client is not None:
        # Yielded outside the try: an error in the caller's work is not taken for "no client in use".
        yield client
        return
    import dask

    # Processes, not threads: each worker is a separate interpreter, as on a real cluster. dask sets
    # glibc's MALLOC_TRIM_THRESHOLD_ in its workers, which also fixes malloc's mmap threshold, so every
    # block-sized array would be mapped and faulted in afresh: blocks ran twice as slowly. Not set here.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
            distributed.LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                                     dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        yield client


def _map_dask(client, fn: Callable[[T], R], items: list[T]) -> Iterator[R]:
    """``fn`` over ``items`` as tasks, at most two per worker thread in flight, results in order."""
    in_flight = 2 * max(sum(client.nthreads().values()), 1)
    # The model (config, plan, sampler) goes to each worker once and stays there, not with every task.
    model = client.scatter(fn, broadcast=True, hash=False)
    # pure=False: a block is named by its position, not by hashing the config into a task key.
    yield from _in_order(lambda item: client.submit(_call, model, item, pure=False), items, in_flight)


def _call(fn, item):
    return fn(item)


def _as_float(fn, item):
    return {k: np.asarray(v, dtype=np.float64) for k, v in fn(item).items()}


def lazy_blocks(fn: Callable[[T], dict[str, np.ndarray]], items: list[T], sizes: list[int],
                shapes: dict[str, tuple[int, ...]], axis: int = 0) -> dict:
    """Dask arrays, one per key of ``fn``'s result, each the blocks ``fn(item)`` joined along ``axis``
    (the iteration axis, of length ``sizes[i]`` in block ``i``; ``shapes`` gives the other axes).

    Nothing is computed until asked: each block is one task, shared by every variable, run by
    whatever scheduler computes the arrays (a ``dask.distributed`` client when one is in use).
    """
    _distributed()
    import dask
    import dask.array as da

    model = dask.delayed(fn, pure=False)  # one copy of the model (config and all) in the graph, not one a block
    blocks = [dask.delayed(_as_float, pure=False)(model, item) for item in items]
    out = {}
    for key, shape in shapes.items():
        parts = []
        for block, size in zip(blocks, sizes):
            full = (*shape[:axis], size, *shape[axis:])
            parts.append(da.from_delayed(block[key], shape=full, dtype=np.float64))
        out[key] = da.concatenate(parts, axis=axis)
    return out
