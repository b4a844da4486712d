"""Results files written block by block: netCDF with every variable's full size laid out up front.

Variables are stored contiguously with fixed dimensions: HDF5 keeps chunked datasets' written chunks
in memory until the file closes, so a chunked or unlimited ``iteration`` dimension would hold the whole
run in memory after all. Laid out contiguously, each block's slice goes straight to disk.
"""
from __future__ import annotations

import os

import netCDF4
import numpy as np
import xarray as xr

from .errors import ConfigError


#: The layout of results.nc and scenarios.nc (variables, dimensions, attributes) that this version
#: writes and reads; raised whenever a change would make an older file read wrongly.
RESULTS_FORMAT = 2


def create(path: str | os.PathLike, skeleton: xr.Dataset, iterations: int) -> netCDF4.Dataset:
    """A new netCDF file shaped like ``skeleton`` (whose ``iteration`` dimension may be empty) with
    ``iterations`` iterations; everything without an ``iteration`` dimension is written now, the rest
    is left for the caller to fill block by block. Returns the file open for writing."""
    nc = netCDF4.Dataset(path, "w", format="NETCDF4")
    try:
        for dim, size in skeleton.sizes.items():
            nc.createDimension(dim, iterations if dim == "iteration" else size)
        # Non-index coordinates are named in each data variable's "coordinates" attribute, as xarray does.
        extra = [c for c in skeleton.coords if c not in skeleton.dims]
        for name, var in skeleton.variables.items():
            text = var.dtype.kind in "UO"
            out = nc.createVariable(name, str if text else var.dtype, var.dims,
                                    contiguous=not text, fill_value=False)
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
                    resume: bool = False) -> netCDF4.Dataset:
    """The file a run fills block by block: new (:func:`create`), or with ``resume`` an interrupted run's
    file reopened to write its remaining blocks, refused unless shaped as ``skeleton`` with
    ``iterations`` iterations (the same run)."""
    if not resume:
        return create(path, skeleton, iterations)
    nc = netCDF4.Dataset(path, "a")
    want = {dim: iterations if dim == "iteration" else size for dim, size in skeleton.sizes.items()}
    have = {dim: len(d) for dim, d in nc.dimensions.items()}
    if have != want or set(nc.variables) != set(skeleton.variables):
        nc.close()
        raise ConfigError(f"the partial results are not this run's (dimensions {have}, expected {want}); "
                          "run without --resume to start again", file=str(path), path="--resume")
    return nc


def block_written(nc: netCDF4.Dataset, pos: int, size: int, block, on_block=None) -> None:
    """Finish a block whose values are in ``nc``: number its iterations, flush it to disk and only then
    report it done (``on_block(block)``), so a record of done blocks never runs ahead of the file."""
    nc["iteration"][pos : pos + size] = np.arange(pos, pos + size)
    nc.sync()
    if on_block is not None:
        on_block(block)
