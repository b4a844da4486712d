"""Results files written block by block: netCDF with every variable's full size laid out up front.

Variables with an ``iteration`` dimension are stored compressed (zlib after byte shuffling, lossless) in
chunks of one block of iterations: each block the run writes fills whole chunks, which HDF5 compresses
and writes at once, so memory stays bounded by the blocks in flight whatever the iterations. Fixed
dimensions, not unlimited ones, so that a chunk is never resized.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
from contextlib import contextmanager

import netCDF4
import numpy as np
import xarray as xr

from fsp_risk.engine.sampling import BLOCK  # a chunk is one block: each block fills whole chunks
from fsp_risk.errors import ConfigError
from fsp_risk.files import fsync_file

#: The layout of results.nc, scenarios.nc and analysis.nc (variables, dimensions, attributes) that this
#: version writes and reads; raised whenever a change would make an older file read wrongly. Format 5: a
#: run's analyses are stored in analysis.nc, which 'fsp-risk report' renders from. Format 6: a run folder's
#: results.nc holds each iteration's main figures; the breakdowns and derived figures are in detail.nc.
RESULTS_FORMAT = 6
#: zlib level of the results files: on shuffled float64, level 1 compresses within a few per cent of 9, and
#: zlib is what every netCDF reader can open. 0 stores the chunks uncompressed (the tests, for speed).
COMPRESSION = 1


def create(path: str | os.PathLike, skeleton: xr.Dataset, iterations: int, compress: bool = True) -> netCDF4.Dataset:
    """A new netCDF file shaped like ``skeleton`` (whose ``iteration`` dimension may be empty) with
    ``iterations`` iterations; everything without an ``iteration`` dimension is written now, the rest
    is left for the caller to fill block by block. ``compress`` False stores the chunks as they are (a
    file that will not be kept: compressing is most of the time writing takes). Returns the file open
    for writing."""
    nc = netCDF4.Dataset(path, "w", format="NETCDF4")
    try:
        for dim, size in skeleton.sizes.items():
            nc.createDimension(dim, iterations if dim == "iteration" else size)
        # Non-index coordinates are named in each data variable's "coordinates" attribute, as xarray does.
        extra = [c for c in skeleton.coords if c not in skeleton.dims]
        for name, var in skeleton.variables.items():
            text = var.dtype.kind in "UO"
            if "iteration" in var.dims and not text:
                chunks = [min(BLOCK, iterations) if d == "iteration" else skeleton.sizes[d] for d in var.dims]
                squeeze = dict(zlib=True, complevel=COMPRESSION, shuffle=True) if COMPRESSION and compress else {}
                out = nc.createVariable(name, var.dtype, var.dims, chunksizes=chunks, fill_value=False, **squeeze)
                # A chunk (one block) is larger than this 1 MiB cache, so HDF5 writes it straight to disk. (A cache
                # of size 0 is not 'no cache': its memory grew by about 70% of each block written, so a
                # 1,000,000-iteration run peaked at 2.2 GB and a 10,000,000 one would not have fitted.)
                out.set_var_chunk_cache(size=2**20, nelems=1)
            else:
                out = nc.createVariable(name, str if text else var.dtype, var.dims, contiguous=not text,
                                        fill_value=False)
            attrs = dict(var.attrs)
            if name in skeleton.data_vars:
                mine = [c for c in extra if set(skeleton[c].dims) <= set(var.dims)]
                if mine:
                    attrs["coordinates"] = " ".join(mine)
            out.setncatts(attrs)
            if "iteration" not in var.dims:
                out[...] = np.asarray(var.values, dtype=object) if text else var.values
        nc.setncatts(dict(skeleton.attrs))
    except BaseException:
        nc.close()
        raise
    return nc


def open_for_blocks(path: str | os.PathLike, skeleton: xr.Dataset, iterations: int,
                    resume: bool = False, compress: bool = True) -> netCDF4.Dataset:
    """The file a run fills block by block: new (:func:`create`), or with ``resume`` an interrupted run's
    file reopened to write its remaining blocks, refused unless shaped as ``skeleton`` with
    ``iterations`` iterations (the same run)."""
    if not resume:
        return create(path, skeleton, iterations, compress)
    nc = netCDF4.Dataset(path, "a")
    want = {dim: iterations if dim == "iteration" else size for dim, size in skeleton.sizes.items()}
    have = {dim: len(d) for dim, d in nc.dimensions.items()}
    if have != want or set(nc.variables) != set(skeleton.variables):
        nc.close()
        raise ConfigError(f"the partial results are not this run's (dimensions {have}, expected {want}); "
                          "run without --resume to start again", file=str(path), path="--resume")
    return nc


def block_written(files: list[netCDF4.Dataset], pos: int, size: int, block, on_block=None,
                  written: dict[str, np.ndarray] | None = None) -> None:
    """Finish a block whose values are in ``files`` (a run's results, split over one or more files):
    number its iterations in each, flush them to stable storage and only then report it done, as
    ``on_block(block, digest)`` with the :func:`block_digest` of the values ``written`` (each variable's
    slice of the block, as given to the files), so that a record of done blocks never runs ahead of the
    files and a resumed run can check each block it keeps."""
    iteration = np.arange(pos, pos + size)
    dtypes = {}
    for nc in files:
        nc["iteration"][pos : pos + size] = iteration
        nc.sync()
        fsync_file(nc.filepath())
        dtypes.update({k: v.dtype for k, v in nc.variables.items()})
    if on_block is not None:
        stored = {k: np.asarray(v, dtype=dtypes[k]) for k, v in (written or {}).items()}
        on_block(block, block_digest({**stored, "iteration": iteration}))


def block_digest(values: dict[str, np.ndarray]) -> str:
    """SHA-256 of one block's values (each variable's slice, in the file's dtype and layout): the same
    whether computed from the arrays written or from :func:`read_block` of the file."""
    h = hashlib.sha256()
    for name in sorted(values):
        a = np.ascontiguousarray(values[name])
        h.update(f"|{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def read_block(files: list[netCDF4.Dataset], pos: int, size: int) -> dict[str, np.ndarray]:
    """Every variable's slice of the block of ``size`` iterations at ``pos``, as stored (no masking), from
    the files a run's results are split over."""
    out = {}
    for nc in files:
        nc.set_auto_mask(False)
        for name, var in nc.variables.items():
            if "iteration" in var.dimensions:
                index = tuple(slice(pos, pos + size) if d == "iteration" else slice(None) for d in var.dimensions)
                values = np.asarray(var[index])
                if name in out and not np.array_equal(out[name], values):  # each file numbers the iterations
                    raise ValueError(f"its {name} differs between {files[0].filepath()} and {nc.filepath()}")
                out[name] = values
    return out


#: Each variable's HDF5 chunk cache when a file is read: a block's chunk or two. netCDF's default (64 MiB a
#: variable) filled as the analyses read each variable a year at a time and stayed full while the file was
#: open: about 750 MB held for the 40-odd variables of a run's two files, whatever its size.
READ_CHUNK_CACHE = 2**22


@contextmanager
def small_chunk_cache():
    """Files opened inside keep :data:`READ_CHUNK_CACHE` bytes of chunks a variable (netCDF sets each
    variable's cache from the defaults when it opens the file); the defaults are put back after."""
    size, nelems, preemption = netCDF4.get_chunk_cache()
    netCDF4.set_chunk_cache(READ_CHUNK_CACHE, 4, preemption)
    try:
        yield
    finally:
        netCDF4.set_chunk_cache(size, nelems, preemption)


def open_lazily(path: str | os.PathLike) -> xr.Dataset:
    """A netCDF file opened lazily by xarray (each variable read when used, not kept), with small chunk caches."""
    with small_chunk_cache():
        return xr.open_dataset(path, engine="netcdf4", cache=False)


def open_split(path: str | os.PathLike, detail: str | os.PathLike | None = None) -> xr.Dataset:
    """A results file opened lazily (each variable read when used, not kept), with the variables of its
    ``detail`` file beside it when given: one Dataset, whose ``close`` closes both."""
    ds = open_lazily(path)
    if detail is None:
        return ds
    more = None
    try:
        more = open_lazily(detail)
        both = with_detail(ds, more)
    except BaseException:
        ds.close()
        if more is not None:
            more.close()
        raise
    both.set_close(lambda: (ds.close(), more.close()))
    return both


def with_detail(ds: xr.Dataset, detail: xr.Dataset) -> xr.Dataset:
    """A run's results with its detail file's variables beside them, lazily; refused (ValueError) where the
    two do not number the same iterations."""
    return xr.merge([ds, detail], compat="override", join="exact", combine_attrs="override")


@contextmanager
def writing(path: str | os.PathLike | None):
    """Report a failed write to a results file as the OSError it is (netCDF says only 'NetCDF: HDF error'
    for a full disk), naming the file and, where the disk is full, saying so. No file: nothing changed."""
    try:
        yield
    except RuntimeError as exc:
        if path is None:
            raise
        folder = os.path.dirname(os.path.abspath(path))
        try:
            full = shutil.disk_usage(folder).free < 64 * 2**20
        except OSError:
            full = False
        if full:
            raise OSError(errno.ENOSPC, "No space left on device", str(path)) from None
        raise OSError(errno.EIO, f"the results file could not be written ({exc})", str(path)) from None


#: A run's analyses (tables by name), stored beside its results: one netCDF group a table.
ANALYSIS_FILE = "analysis.nc"


def write_tables(path: str | os.PathLike, tables: dict, attrs: dict | None = None) -> None:
    """Write tables (DataFrames by name) to a new netCDF file, one group each with a ``row`` dimension and
    the columns in order; ``attrs`` go on the root (the run's id). One file opening for all of them."""
    groups = {f"/{name}": xr.Dataset({str(col): _column(frame[col].to_numpy()) for col in frame.columns},
                                     attrs={"columns": [str(c) for c in frame.columns]})
              for name, frame in tables.items()}
    root = xr.Dataset(attrs={"results_format": RESULTS_FORMAT, "tables": list(tables), **(attrs or {})})
    with writing(path):
        xr.DataTree.from_dict({"/": root, **groups}).to_netcdf(path, engine="netcdf4")


def read_tables(path: str | os.PathLike) -> dict:
    """The tables of :func:`write_tables`, as DataFrames by name, columns in their stored order."""
    import pandas as pd

    with xr.open_datatree(path, engine="netcdf4") as tree:
        names = [str(n) for n in np.atleast_1d(tree.attrs.get("tables", []))]
        out = {}
        for name in names:
            ds = tree[name].to_dataset()
            columns = [str(c) for c in np.atleast_1d(ds.attrs.get("columns", []))]
            out[name] = pd.DataFrame({c: _values(ds[c]) for c in columns})
    return out


def _column(values: np.ndarray) -> tuple:
    """A table column for netCDF: whole numbers with gaps (a register's optional score) as floats with NaN,
    marked to come back as they were; other text as strings, a gap as ""."""
    if values.dtype != object:
        return ("row", values)
    present = [v for v in values if v is not None]
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in present):  # (or all gaps)
        return ("row", np.array([np.nan if v is None else float(v) for v in values]), {"optional": "int"})
    return ("row", np.array(["" if v is None else str(v) for v in values], dtype=object))


def _values(da: xr.DataArray) -> np.ndarray:
    if da.attrs.get("optional") == "int":
        return np.array([None if np.isnan(v) else int(v) for v in da.values], dtype=object)
    return da.values
