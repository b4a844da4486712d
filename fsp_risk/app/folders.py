"""Run folders: written to a hidden temporary folder and renamed into place when complete, never
overwritten; a lock so two runs never write the same files; a disk-space check before any work."""
from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import netCDF4

from fsp_risk.errors import RunError
from fsp_risk.files import check_inside, fsync_dir, pid_alive, remove_unless_regular


def utc_stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _unique_dir(root: Path, stem: str) -> Path:
    path, k = root / stem, 2
    while os.path.lexists(path):  # a dangling link counts: its name is taken
        path, k = root / f"{stem}-{k}", k + 1
    return path


class StagedFolder:
    """A new output folder written in full under a hidden temporary name, then renamed into place.

    ``with StagedFolder(root, stem) as staged:`` write into ``staged.tmp``; on leaving the block the
    folder is renamed to ``root/stem`` (``stem-2``, ``stem-3``... if that exists: nothing is ever
    overwritten) and ``staged.final`` is set. On any error, Ctrl-C or SIGTERM the temporary folder is
    removed; one left by a killed process (``kill -9``) is removed by the next run into ``root``. Both
    names are checked to resolve inside ``root``.
    """

    def __init__(self, root: str | Path, stem: str):
        self.root, self.stem = Path(root), stem
        self.final: Path | None = None

    def __enter__(self) -> "StagedFolder":
        self.root.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.root)
        self.tmp = check_inside(self.root, self.root / f".tmp-{self.stem}-{os.getpid()}")
        self.tmp.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            try:
                final = check_inside(self.root, _unique_dir(self.root, self.stem))
                os.rename(self.tmp, final)  # atomic on one file system; fails rather than replace a non-empty folder
                fsync_dir(self.root)
                self.final = final
                return False
            except BaseException:
                shutil.rmtree(self.tmp, ignore_errors=True)
                raise
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the ``.tmp-...-<pid>`` folders in ``folder`` whose process has died (a run or report
    killed before it could clean up); returns them."""
    removed = []
    for path in folder.glob(".tmp-*-*"):
        pid = path.name.rsplit("-", 1)[1]
        if path.is_dir() and not path.is_symlink() and pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextmanager
def file_lock(path: Path, busy: str):
    """Hold an exclusive kernel lock (``flock``) on ``path`` while the block runs; refused at once with a
    RunError saying ``busy`` (and the holder's process id) while another process holds it.

    The kernel releases the lock when its holder dies however it dies, so a killed run never blocks
    the next; the file is removed on release, and a lock file found free is reused.
    """
    import fcntl

    while True:
        remove_unless_regular(path)  # a link planted at the lock's name is removed, never followed
        try:
            fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a link appeared since: remove it and try again
                continue
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise RunError(f"{busy} (process {holder}); expected it to finish first, or a different --seed or "
                              "--out", path=str(path)) from None
        try:  # the previous holder may have removed the file between our open and flock: lock the one there now
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        path.unlink(missing_ok=True)  # while still held, so no one else takes a file about to go
        os.close(fd)


def check_disk_space(out_root: str | Path, needed_bytes: int, what: str) -> None:
    """Refuse, before any work, a run whose files would not fit on the disk of ``out_root``."""
    where = Path(out_root).resolve()
    while not where.exists():  # the folder is made later: look at the disk it will be on
        where = where.parent
    free = shutil.disk_usage(where).free
    margin = 64 * 2**20 + needed_bytes // 50  # room for the tables, charts and workbook
    if needed_bytes + margin > free:
        raise RunError(f"{what} need about {_gb(needed_bytes + margin)} of disk under {out_root}, and "
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



def copy_config(config, folder: Path, name: str) -> list[Path]:
    """Copy ``config``'s text as it is (every source and comment kept) to ``folder``/NAME.yaml, with each file
    it attaches (a register CSV) beside it as the config names it; refused, with nothing written, where any
    of them exists already or would land outside ``folder``. Returns the files written, the config first."""
    from fsp_risk.errors import ConfigError, excerpt

    stem = name[:-5] if name.endswith(".yaml") else name
    if not stem or Path(stem).name != stem or stem.startswith("."):
        raise ConfigError(f"expected a file name for the new config, with no folder, got {excerpt(name)}", path="NAME")
    files = {folder / f"{stem}.yaml": config.text}
    for written, text in config.attachments.items():
        files[check_inside(folder, folder / written, what="this folder")] = text
    for path in files:
        if path.exists():
            raise ConfigError("already exists; expected a new name (nothing is overwritten)", file=str(path))
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8", newline="") as f:  # "x": never over a file made meanwhile
            f.write(text)
    return list(files)
