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


def reopen(path: str | os.PathLike, skeleton: xr.Dataset, iterations: int) -> netCDF4.Dataset:
    """An interrupted run's file, open to write its remaining blocks; refused unless shaped as ``skeleton``
    with ``iterations`` iterations (the same run)."""
    nc = netCDF4.Dataset(path, "a")
    want = {dim: iterations if dim == "iteration" else size for dim, size in skeleton.sizes.items()}
    have = {dim: len(d) for dim, d in nc.dimensions.items()}
    if have != want or set(nc.variables) != set(skeleton.variables):
        nc.close()
        raise ValueError(f"{path} is not this run's partial results (dimensions {have}, expected {want})")
    return nc
