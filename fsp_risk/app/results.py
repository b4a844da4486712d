"""A run folder read back: its results, scenarios and analyses, checked to be one run's files as
'fsp-risk run' wrote them, and its outputs rendered again from them (``fsp-risk report``)."""
from __future__ import annotations

import json
import os
import shutil
from contextlib import ExitStack, contextmanager
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from fsp_risk.app.folders import remove_stale_temporaries
from fsp_risk.engine import store
from fsp_risk.engine.store import RESULTS_FORMAT
from fsp_risk.errors import ConfigError, ModelError
from fsp_risk.files import check_inside, remove_unless_regular
from fsp_risk.outputs.report import write_outputs

@contextmanager
def open_results(run_dir: str | Path, needs: tuple[str, ...] = ()):
    """A run folder's ``results.nc`` (opened lazily; with ``detail.nc``'s variables too where the run kept
    it) and the config stored in it, checked first.

    ``needs`` names variables the caller reads; a file without them, or without a config, is refused
    with the file named.
    """
    from fsp_risk.config import parse_config
    from fsp_risk.engine.simulate import _versions

    results = Path(run_dir) / "results.nc"
    if not results.is_file():
        if _kept(Path(run_dir)) == "summaries":
            raise ConfigError("this run kept only its summaries (--keep summaries), not results.nc; expected a "
                              "run folder with its results: run 'fsp-risk run' on its config again",
                              file=str(run_dir))
        raise ConfigError("expected a run folder holding results.nc (written by 'fsp-risk run')", file=str(run_dir))
    with _open_netcdf(results) as ds:  # variables read when used
        missing = [k for k in needs if k not in ds]
        if "config_text" not in ds.attrs or missing:
            raise ConfigError("results.nc was not written by fsp-risk (no config_text attribute"
                              + "".join(f" or {k}" for k in missing) + ")", file=str(results))
        written = ds.attrs.get("results_format")
        if isinstance(written, str) or written != RESULTS_FORMAT:
            made_by = ds.attrs.get("version_fsp_risk", "an unknown version")
            raise ConfigError(f"results.nc is in results format {written if written is not None else 1} (written by "
                              f"fsp-risk {made_by}), and this fsp-risk ({_versions()['fsp-risk']}) reads format "
                              f"{RESULTS_FORMAT}; expected a run written by this version: run 'fsp-risk run' on its "
                              "config again", file=str(results))
        run_json = Path(run_dir) / "run.json"
        if run_json.is_file():
            try:
                recorded = json.loads(run_json.read_text(encoding="utf-8")).get("run_id")
            except (OSError, ValueError, AttributeError) as exc:
                raise ConfigError(f"cannot read run.json ({exc}); expected the record 'fsp-risk run' wrote",
                                  file=str(run_json)) from None
            _same_run(ds, recorded, run_json)
        scenarios = Path(run_dir) / "scenarios.nc"
        if scenarios.is_file():
            with _open_netcdf(scenarios) as scen:
                _same_run(ds, scen.attrs.get("run_id"), scenarios)
        attachments = _check_provenance(ds, results)
        config = parse_config(ds.attrs["config_text"], file=f"{results} (config_text)", attachments=attachments)
        with ExitStack() as stack:
            detail = Path(run_dir) / "detail.nc"
            if detail.is_file():  # kept with --keep all: its variables join results.nc's
                more = stack.enter_context(_open_netcdf(detail))
                _same_run(ds, more.attrs.get("run_id"), detail)
                try:
                    ds = store.with_detail(ds, more)
                except ValueError as exc:
                    raise ConfigError(f"detail.nc does not match results.nc ({exc}); expected the files of one run "
                                      "folder, as 'fsp-risk run' wrote them", file=str(detail)) from None
            try:
                yield ds, config
            except RuntimeError as exc:  # netCDF's own read errors ("NetCDF: HDF error") while the caller reads
                if isinstance(exc, ModelError) or "NetCDF" not in str(exc):
                    raise
                raise ConfigError(f"cannot read results.nc ({exc}); expected an undamaged file: run 'fsp-risk run' "
                                  "on its config again", file=str(results)) from None


def _kept(folder: Path) -> str | None:
    """What run.json says the folder kept ("all" or "summaries"), if it says."""
    try:
        return json.loads((folder / "run.json").read_text(encoding="utf-8")).get("kept")
    except (OSError, ValueError, AttributeError):
        return None


def _check_provenance(ds: xr.Dataset, results: Path) -> dict[str, str]:
    """Refuse a results file whose attributes are not what fsp-risk writes (edited, or another tool's),
    and one whose main result holds a value no run can produce: the report would otherwise print it.
    Returns the texts of the files its config read (``config_attachments``)."""
    import numbers

    from fsp_risk.config import MAX_ITERATIONS, MAX_SEED, SAMPLERS

    a = ds.attrs
    checks = {
        "config_text": isinstance(a.get("config_text"), str),
        "seed": isinstance(a.get("seed"), numbers.Integral) and 0 <= a["seed"] <= MAX_SEED,
        "sampler": a.get("sampler") in (*SAMPLERS, "central"),
        "iterations": isinstance(a.get("iterations"), numbers.Integral) and 1 <= a["iterations"] <= MAX_ITERATIONS,
        "discount_rate": isinstance(a.get("discount_rate", 0.035), numbers.Real),
        "price_base_year": isinstance(a.get("price_base_year", ""), str),
    }
    try:
        attachments = json.loads(a.get("config_attachments", "{}"))
        checks["config_attachments"] = isinstance(attachments, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in attachments.items())
    except (TypeError, ValueError):
        attachments, checks["config_attachments"] = {}, False
    bad = [k for k, ok in checks.items() if not ok]
    if bad:
        raise ConfigError(f"cannot read results.nc: its {bad[0]} attribute is not one fsp-risk writes; expected the "
                          "file as 'fsp-risk run' wrote it", file=str(results))
    if "net_change_to_mtfp" not in ds:
        return attachments
    n = ds.sizes["iteration"]
    if n != a["iterations"]:
        raise ConfigError(f"cannot read results.nc: it holds {n:,} iterations but says {a['iterations']:,}; expected "
                          "the file as 'fsp-risk run' wrote it", file=str(results))
    step = 1_048_576  # a slice at a time: a large run's file need not fit in memory
    for start in range(0, n, step):
        if not np.isfinite(ds["net_change_to_mtfp"].isel(iteration=slice(start, start + step)).values).all():
            raise ConfigError("cannot read results.nc: its net change to the MTFP holds a value that is not a finite "
                              "number, which no run writes; expected an undamaged file", file=str(results))
    return attachments


@contextmanager
def _open_netcdf(path: Path):
    """A results or scenarios file opened lazily, refused with 'cannot read' when it is not a readable
    netCDF file (damaged, truncated, or something else renamed)."""
    try:
        ds = store.open_lazily(path)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot read {path.name} ({exc}); expected a file written by 'fsp-risk run'",
                          file=str(path)) from None
    with ds:
        yield ds


def _same_run(ds: xr.Dataset, other_id, other: Path) -> None:
    """Refuse a file of another run beside results.nc (a results.nc dropped into another run's folder)."""
    mine = ds.attrs.get("run_id")
    if mine is not None and other_id is not None and str(mine) == str(other_id):
        return
    if mine is None and other_id is None:
        return  # neither carries an id (written by simulate() and saved by hand): nothing to compare
    raise ConfigError(f"{other.name} belongs to run {other_id or 'unknown'} but results.nc to run {mine or 'unknown'}; "
                      "expected the files of one run folder, as 'fsp-risk run' wrote them", file=str(other))


def read_analyses(run_dir: str | Path, ds: xr.Dataset) -> dict:
    """The analyses a run stored (``analysis.nc``), checked to be this run's."""
    path = Path(run_dir) / store.ANALYSIS_FILE
    if not path.is_file():
        raise ConfigError(f"expected the run's analyses in {store.ANALYSIS_FILE} beside results.nc (written by "
                          "'fsp-risk run'); run 'fsp-risk run' on its config again", file=str(run_dir))
    try:
        with netCDF4.Dataset(path) as nc:
            stored_id = nc.getncattr("run_id") if "run_id" in nc.ncattrs() else None
        tables = store.read_tables(path)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ConfigError(f"cannot read {path.name} ({exc}); expected the file 'fsp-risk run' wrote",
                          file=str(path)) from None
    _same_run(ds, stored_id or None, path)
    return tables


def rebuild_outputs(run_dir: str | Path) -> Path:
    """Rebuild a run folder's derived files from its stored results and analyses, running nothing again.

    The config is read back from the Dataset's attributes. The new files are written to a temporary
    folder first and then moved over the old ones one by one (each move atomic).
    """
    folder = Path(run_dir)
    tmp = folder / f".tmp-report-{os.getpid()}"
    with open_results(folder) as (ds, config):
        remove_stale_temporaries(folder)
        tmp.mkdir()
        try:
            write_outputs(ds, config, tmp, read_analyses(folder, ds))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    try:
        charts = folder / "charts"
        remove_unless_regular(charts, folder=True)
        charts.mkdir(exist_ok=True)
        for path in sorted(tmp.rglob("*")):
            if path.is_file():
                target = check_inside(folder, folder / path.relative_to(tmp), "the run folder")
                os.replace(path, target)  # replaces a link at that name, never writes through it
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
