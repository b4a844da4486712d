"""Run folders: written to a temporary folder and renamed when complete; never overwritten."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import netCDF4
import xarray as xr

from .report import write_outputs
from .store import RESULTS_FORMAT


def utc_stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _unique_dir(root: Path, stem: str) -> Path:
    path, k = root / stem, 2
    while path.exists():
        path, k = root / f"{stem}-{k}", k + 1
    return path


class StagedFolder:
    """A new output folder written in full under a hidden temporary name, then renamed into place.

    ``with StagedFolder(root, stem) as staged:`` write into ``staged.tmp``; on leaving the block the
    folder is renamed to ``root/stem`` (``stem-2``, ``stem-3``... if that exists: nothing is ever
    overwritten) and ``staged.final`` is set. On any error, or Ctrl-C, the temporary folder is removed.
    """

    def __init__(self, root: str | Path, stem: str):
        self.root, self.stem = Path(root), stem
        self.final: Path | None = None

    def __enter__(self) -> "StagedFolder":
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp = self.root / f".tmp-{self.stem}-{os.getpid()}"
        self.tmp.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            try:
                final = _unique_dir(self.root, self.stem)
                os.rename(self.tmp, final)  # atomic on one file system; fails rather than replace a non-empty folder
                self.final = final
                return False
            except BaseException:
                shutil.rmtree(self.tmp, ignore_errors=True)
                raise
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


class PartialRun:
    """The simulated blocks of a run not yet finished, kept so that an interrupted run can be resumed.

    They live in ``<out>/.partial/<config name>-<key hash>/`` (hidden: never mistaken for a run folder):
    ``results.nc`` and ``scenarios.nc`` filled block by block, and ``progress.json`` listing the blocks
    on disk, rewritten atomically after each one is flushed. ``key`` is everything the numbers depend
    on (config hash, seed, sampler, iterations, stress tests, version): only the same run resumes.
    """

    def __init__(self, out_root: str | Path, name: str, key: dict):
        self.key = json.loads(json.dumps(key, sort_keys=True))
        digest = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:12]
        self.folder = Path(out_root) / ".partial" / f"{name}-{digest}"
        self.progress_file = self.folder / "progress.json"
        self.blocks: dict[str, set[int]] = {"results": set(), "scenarios": set()}

    def exists(self) -> bool:
        return self.progress_file.is_file()

    @contextmanager
    def lock(self):
        """Held while the run works: a second run of the same config, seed and iterations is refused
        rather than let it write into the same partial files. A lock left by a dead process is taken over."""
        from .errors import ConfigError

        self.folder.parent.mkdir(parents=True, exist_ok=True)
        lock = self.folder.parent / f"{self.folder.name}.lock"
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                break
            except FileExistsError:
                try:
                    pid = int(lock.read_text() or 0)
                    os.kill(pid, 0)  # raises if no such process
                except (ValueError, ProcessLookupError, FileNotFoundError):
                    lock.unlink(missing_ok=True)  # stale: its run died
                    continue
                except PermissionError:  # alive, another user's
                    pass
                raise ConfigError(f"another fsp-risk run of this config, seed and iterations is working (process "
                                  f"{pid}); expected it to finish first, or a different --seed or --out",
                                  path=str(lock)) from None
        else:
            raise ConfigError("could not take the lock of this run's partial folder", path=str(lock))
        try:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            yield
        finally:
            lock.unlink(missing_ok=True)
            try:
                self.folder.parent.rmdir()  # .partial itself, once nothing is left in it
            except OSError:
                pass

    def load(self) -> None:
        """Read the blocks already on disk; a record for another run or damaged files is refused."""
        from .errors import ConfigError

        try:
            saved = json.loads(self.progress_file.read_text(encoding="utf-8"))
            if saved["key"] != self.key:
                raise ValueError("it was made by another run")
            self.blocks = {phase: set(saved[phase]) for phase in self.blocks}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot resume from {self.folder} ({exc}); expected the record of an interrupted "
                              "run of this config; run without --resume to start again", path="--resume") from None
        for phase, done in self.blocks.items():
            if done and not (self.folder / f"{phase}.nc").is_file():
                raise ConfigError(f"cannot resume: {phase}.nc is missing from {self.folder}; run without --resume "
                                  "to start again", path="--resume")

    def start_afresh(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.blocks = {phase: set() for phase in self.blocks}
        self._save()

    def record(self, phase: str, block: int | None) -> None:
        self.blocks[phase].add(0 if block is None else int(block))  # None: a deterministic run's one block
        self._save()

    def _save(self) -> None:
        data = {"key": self.key, **{phase: sorted(done) for phase, done in self.blocks.items()}}
        tmp = self.progress_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.progress_file)  # atomic: the record is the old one or the new one, never half

    def done(self) -> int:
        return len(self.blocks["results"]) + len(self.blocks["scenarios"])

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def check_disk_space(out_root: str | Path, needed_bytes: int, what: str) -> None:
    """Refuse, before any work, a run whose files would not fit on the disk of ``out_root``."""
    from .errors import ConfigError

    where = Path(out_root).resolve()
    while not where.exists():  # the folder is made later: look at the disk it will be on
        where = where.parent
    free = shutil.disk_usage(where).free
    margin = 64 * 2**20 + needed_bytes // 50  # room for the tables, charts and workbook
    if needed_bytes + margin > free:
        raise ConfigError(f"{what} need about {_gb(needed_bytes + margin)} of disk under {out_root}, and "
                          f"{_gb(free)} is free; expected fewer iterations, or an --out on a disk with room",
                          path="--iterations")


def _gb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


def run_folder_name(name: str, seed: int) -> str:
    """``<config name>-<UTC time>-seed<seed>``: the name of a new run folder."""
    return f"{name}-{utc_stamp()}-seed{seed}"


def add_attrs(path: Path, attrs: dict) -> None:
    """Add global attributes to a netCDF file in place (provenance known only after simulating)."""
    if attrs:
        with netCDF4.Dataset(path, "a") as nc:
            nc.setncatts(attrs)


def finish_run(ds: xr.Dataset, config, folder: Path, scenarios: xr.Dataset | None = None) -> None:
    """Write the tables, charts, workbook, report and ``run.json`` of a run whose results are in ``folder``."""
    write_outputs(ds, config, folder, scenarios)
    meta = {k: ds.attrs[k] for k in ("config_name", "config_path", "config_sha256", "seed", "sampler", "iterations")}
    meta.update({k: ds.attrs[k] for k in ("precision_target", "stop_reason") if k in ds.attrs})
    meta["created_utc"] = utc_stamp()
    meta["versions"] = {k[len("version_"):]: v for k, v in ds.attrs.items() if k.startswith("version_")}
    # Attributes read back from netCDF are NumPy scalars.
    text = json.dumps(meta, indent=2, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    (folder / "run.json").write_text(text + "\n", encoding="utf-8")


def write_run(ds: xr.Dataset, out_root: str | Path, name: str, config=None, scenarios: xr.Dataset | None = None) -> Path:
    """Write ``results.nc``, ``summary.csv`` and ``run.json`` to a new folder under ``out_root``.

    With a ``config``, the charts and ``findings.md`` too, and the risk outputs when it has a register
    (see :func:`fsp_risk.report.write_outputs`).

    The files are written into a hidden temporary folder first and the folder is renamed into place
    only when all of them are complete; on any error (or Ctrl-C) the temporary folder is removed.
    An existing run folder is never overwritten: a clash gets a ``-2``, ``-3``... suffix.
    """
    with StagedFolder(out_root, run_folder_name(name, ds.attrs["seed"])) as staged:
        ds.to_netcdf(staged.tmp / "results.nc", engine="netcdf4")
        if scenarios is not None:
            scenarios.to_netcdf(staged.tmp / "scenarios.nc", engine="netcdf4")
        finish_run(ds, config, staged.tmp, scenarios)
    return staged.final


#: Files a run folder holds besides results.nc and run.json; all are derived from results.nc.
DERIVED = ("summary.csv", "cumulative.csv", "sensitivity.csv", "grouped_sensitivity.csv", "switching_values.csv", "risk_register.csv",
           "risk_portfolio.csv", "risk_reserve.txt", "backtest.csv", "scenarios.csv", "convergence.csv", "summary.xlsx", "findings.md", "report.html")


@contextmanager
def open_results(run_dir: str | Path, needs: tuple[str, ...] = ()):
    """A run folder's ``results.nc`` (opened lazily) and the config stored in it, checked first.

    ``needs`` names variables the caller reads; a file without them, or without a config, is refused
    with the file named.
    """
    from .config import parse_config
    from .errors import ConfigError
    from .model import _versions

    results = Path(run_dir) / "results.nc"
    if not results.is_file():
        raise ConfigError("expected a run folder holding results.nc (written by 'fsp-risk run')", file=str(run_dir))
    with xr.open_dataset(results, engine="netcdf4", cache=False) as ds:  # variables read when used
        missing = [k for k in needs if k not in ds]
        if "config_text" not in ds.attrs or missing:
            raise ConfigError("results.nc was not written by fsp-risk (no config_text attribute"
                              + "".join(f" or {k}" for k in missing) + ")", file=str(results))
        written = ds.attrs.get("results_format")
        if written != RESULTS_FORMAT:
            made_by = ds.attrs.get("version_fsp_risk", "an unknown version")
            raise ConfigError(f"results.nc is in results format {written if written is not None else 1} (written by "
                              f"fsp-risk {made_by}), and this fsp-risk ({_versions()['fsp-risk']}) reads format "
                              f"{RESULTS_FORMAT}; expected a run written by this version: run 'fsp-risk run' on its "
                              "config again", file=str(results))
        attachments = json.loads(ds.attrs.get("config_attachments", "{}"))
        yield ds, parse_config(ds.attrs["config_text"], file=f"{results} (config_text)", attachments=attachments)


def rebuild_outputs(run_dir: str | Path) -> Path:
    """Rebuild a run folder's derived files from its ``results.nc``, without simulating again.

    The config is read back from the Dataset's attributes. The new files are written to a temporary
    folder first and then moved over the old ones one by one (each move atomic).
    """
    folder = Path(run_dir)
    tmp = folder / f".tmp-report-{os.getpid()}"
    with open_results(folder) as (ds, config):
        tmp.mkdir()
        try:
            scenarios = None
            if (folder / "scenarios.nc").is_file():
                scenarios = xr.open_dataset(folder / "scenarios.nc", engine="netcdf4", cache=False)
            try:
                write_outputs(ds, config, tmp, scenarios)
            finally:
                if scenarios is not None:
                    scenarios.close()
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    try:
        (folder / "charts").mkdir(exist_ok=True)
        for path in sorted(tmp.rglob("*")):
            if path.is_file():
                target = folder / path.relative_to(tmp)
                os.replace(path, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
