"""Running blocks of iterations on all cores.

Every block's random numbers come from the seed and the block's position (see :mod:`fsp_risk.sampling`),
so blocks can be computed in any order, on any number of workers, and give bitwise the same results.
NumPy releases the GIL in its array loops, so threads use both cores without copying inputs or results
between processes; at most two blocks per worker are in flight, which bounds memory.
"""
from __future__ import annotations

import ctypes
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

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


def map_blocks(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> Iterator[R]:
    """``fn`` over ``items`` on ``workers`` threads (default: every core), results in the items' order."""
    items = list(items)
    workers = min(workers or default_workers(), len(items))
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    release_memory()
