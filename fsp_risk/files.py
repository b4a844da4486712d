"""The edges where fsp-risk touches the file system: input files read within a size limit, and output
paths that must stay inside the folder the user chose.

Config text never decides where a file goes: names are validated as slugs at load
(:mod:`fsp_risk.config`), and every folder a run creates is checked here to resolve inside ``--out``
as well, so that a symbolic link or a future field cannot lead a write elsewhere.
"""
from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

from fsp_risk.errors import ConfigError

#: Limits on what is read before any parsing (a config is a few tens of KB; a register or actuals CSV
#: of a few hundred rows is well under 100 KB). They stop a mistaken path (``/dev/zero``, a database
#: dump) from exhausting memory.
MAX_CONFIG_BYTES = 1 * 2**20
MAX_CSV_BYTES = 4 * 2**20
#: Rows in a register or actuals CSV, and characters in one field of it.
MAX_CSV_ROWS = 10_000
MAX_CSV_FIELD = 10_000


def size_text(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n / 2**10:,.0f} KiB" if n >= 2**10 else f"{n} bytes"


def read_text(path: str | os.PathLike, *, what: str, limit: int, encoding: str = "utf-8",
              not_utf8: str = "expected a UTF-8 text file") -> str:
    """The text of a user's input file, refused with one line naming the file when it is missing,
    unreadable, not a regular file (a device such as ``/dev/zero``, a folder, a pipe), larger than
    ``limit`` bytes or not UTF-8. ``what`` names the file in messages ("config file", "actuals file")."""
    file = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} ({exc.strerror})", file=file) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device or pipe"
        raise ConfigError(f"expected the {what} to be a regular file, got {kind}", file=file)
    if info.st_size > limit:
        raise ConfigError(f"the {what} is {info.st_size:,} bytes, over the limit of {limit:,} bytes "
                          f"({size_text(limit)}); expected a smaller file", file=file)
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} ({exc.strerror})", file=file) from None
    if len(data) > limit:  # it grew after the size was read
        raise ConfigError(f"the {what} is over the limit of {size_text(limit)}; expected a smaller file", file=file)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise ConfigError(not_utf8, file=file) from None


def csv_records(text: str, file: str) -> tuple[list[str], list[dict]]:
    """The header and rows of a user's CSV, refused with one line (naming the file and row) when a row
    is malformed, a field is longer than :data:`MAX_CSV_FIELD` characters or there are more than
    :data:`MAX_CSV_ROWS` rows."""
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict] = []
    try:
        for row in reader:
            if len(rows) >= MAX_CSV_ROWS:
                raise ConfigError(f"expected at most {MAX_CSV_ROWS:,} rows", file=file, path=f"row {len(rows) + 2}")
            long = next((k for k, v in row.items() if isinstance(v, str) and len(v) > MAX_CSV_FIELD), False)
            if long is not False:
                raise ConfigError(f"expected fields of at most {MAX_CSV_FIELD:,} characters", file=file,
                                  path=f"row {len(rows) + 2}.{long}"[:80])
            rows.append(row)
        header = list(reader.fieldnames or [])
    except csv.Error as exc:
        raise ConfigError(f"cannot read it as CSV ({exc}); expected fields of at most {MAX_CSV_FIELD:,} characters, "
                          "quoted as Excel writes them", file=file, path=f"row {len(rows) + 2}") from None
    return header, rows


def is_inside(root: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether ``path`` resolves (links followed) to ``root`` or somewhere below it."""
    return Path(path).resolve().is_relative_to(Path(root).resolve())


def check_inside(root: str | os.PathLike, path: str | os.PathLike, what: str = "--out") -> Path:
    """``path``, refused unless it resolves inside ``root``: no output is written outside the folder
    the user named."""
    if not is_inside(root, path):
        raise ConfigError(f"refused to write {Path(path).name!r} outside {root} (it resolves to "
                          f"{Path(path).resolve()}); expected every output inside {what}", file=str(root), path=what)
    return Path(path)


def is_regular(path: str | os.PathLike) -> bool:
    """Whether ``path`` is itself a regular file: not a symbolic link (even to a file), folder or device."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def remove_unless_regular(path: str | os.PathLike, folder: bool = False) -> bool:
    """Remove ``path`` when it is a symbolic link or anything else but a regular file (with ``folder``, a
    real folder): the link itself, never what it points at. Returns whether something was removed. Used
    before fsp-risk writes to a name inside an output folder that someone else could have planted a link at."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode):
        return False
    if stat.S_ISDIR(mode):
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        os.unlink(path)
    return True


def user_key() -> bytes | None:
    """This user's secret key for sealing kept blocks (``$XDG_CONFIG_HOME/fsp-risk/resume.key``, else
    ``~/.config/fsp-risk/resume.key``, made on first use, readable by the user alone). With it, a block's
    record cannot be forged by anyone who can write the output folder but not read the key. None where
    no key can be kept (a read-only home): checksums then detect damage, not deliberate edits."""
    import secrets
    from pathlib import Path

    folder = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "fsp-risk"
    path = folder / "resume.key"
    try:
        if is_regular(path):
            key = path.read_bytes()
            if len(key) == 32:
                return key
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = folder / f".resume.key.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
        if is_regular(path):  # another process made one meanwhile: use that
            tmp.unlink()
        else:
            os.replace(tmp, path)
        key = path.read_bytes()
        return key if len(key) == 32 else None
    except OSError:
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id is running (a process of another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    return True


def fsync_file(path: str | os.PathLike) -> None:
    """Flush a written file's data to stable storage (a library wrote it through its own handle)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename or a new file in ``path`` durable: fsync the folder itself."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not sync folders; the data itself was synced
    finally:
        os.close(fd)
