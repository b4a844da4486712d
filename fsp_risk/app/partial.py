"""The simulated blocks of a run not yet finished, kept (sealed) so that an interrupted run can resume."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import netCDF4

from fsp_risk.app.folders import file_lock
from fsp_risk.engine import store
from fsp_risk.errors import ModelError
from fsp_risk.files import check_inside, fsync_dir, is_regular, remove_unless_regular, user_key


class PartialRun:
    """The simulated blocks of a run not yet finished, kept so that an interrupted run can be resumed.

    They live in ``<out>/.partial/<config name>-<key hash>/`` (hidden: never mistaken for a run folder):
    ``results.nc`` with ``detail.nc`` and ``scenarios.nc`` filled block by block, and ``progress.json`` recording each
    block on disk with its checksum, rewritten atomically (and synced) after the block itself is synced.
    ``key`` is everything the numbers depend on (config hash, seed, sampler, iterations, stress tests,
    version): only the same run resumes, and each block's checksum is bound to the key, its file and its
    number, so a block cannot pass for another. :meth:`verify` checks every kept block before a resume
    uses it; a damaged one is named and simulated again.
    """

    PHASES = ("results", "scenarios")
    #: The files each phase fills block by block (a block's checksum covers all of them).
    FILES = {"results": ("results.nc", "detail.nc"), "scenarios": ("scenarios.nc",)}

    def __init__(self, out_root: str | Path, name: str, key: dict):
        self.key = json.loads(json.dumps(key, sort_keys=True))
        self.key_digest = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()
        self.root = Path(out_root)
        self.folder = check_inside(self.root, self.root / ".partial" / f"{name}-{self.key_digest[:12]}")
        self.progress_file = self.folder / "progress.json"
        self._secret = user_key()
        #: Phase -> {block number: sealed checksum} of the blocks on disk.
        self.blocks: dict[str, dict[int, str]] = {phase: {} for phase in self.PHASES}

    def exists(self) -> bool:
        return self.progress_file.is_file()

    @contextmanager
    def lock(self):
        """Held while the run works: a second run of the same config, seed and iterations is refused
        rather than let it write into the same partial files. Lock files left by killed runs (of any
        config) are removed here when free."""
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        check_inside(self.root, self.folder.parent)
        for stale in self.folder.parent.glob("*.lock"):
            if remove_unless_regular(stale):
                continue  # a link or anything but a file: removed, not followed
            if stale.name != f"{self.folder.name}.lock":
                try:
                    with file_lock(stale, ""):
                        pass  # free: taken and removed
                except Exception:
                    pass  # in use by a working run
        try:
            with file_lock(self.folder.parent / f"{self.folder.name}.lock",
                           "another fsp-risk run of this config, seed and iterations is working"):
                yield
        finally:
            try:
                self.folder.parent.rmdir()  # .partial itself, once nothing is left in it
            except OSError:
                pass

    def load(self) -> list[str]:
        """Read the record of kept blocks; a record that cannot be read, or is another run's, is discarded
        (the run starts afresh). Returns what was discarded, in words."""
        try:
            if not is_regular(self.progress_file):
                raise ValueError("it is not a regular file")
            saved = json.loads(self.progress_file.read_text(encoding="utf-8"))
            if saved.get("key") != self.key:
                raise ValueError("it was made by another run")
            self.blocks = {phase: {int(b): str(seal) for b, seal in saved[phase].items()} for phase in self.PHASES}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self.start_afresh()
            return [f"the record of kept blocks in {self.progress_file} cannot be used ({exc}); every block will be "
                    "simulated again"]
        return []

    def _seal(self, phase: str, block: int, digest: str) -> str:
        """A block's checksum bound to this run's key, its file and its number, keyed (HMAC) with the user's
        secret (:func:`fsp_risk.files.user_key`) so that it cannot be recomputed for edited values."""
        message = f"{self.key_digest}/{phase}/{block}/{digest}".encode()
        if self._secret is None:
            return hashlib.sha256(message).hexdigest()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def verify(self, phase: str, check=None) -> list[str]:
        """Check every kept block of ``phase`` against its checksum, and with ``check(values, pos)`` (the
        model's invariants) against what the model can produce; discard those that fail, and the whole
        file when it cannot be read. Returns what was discarded, in words."""
        from fsp_risk.engine.sampling import BLOCK, block_sizes
        from fsp_risk.engine.store import block_digest, read_block

        done, paths = self.blocks[phase], [self.folder / name for name in self.FILES[phase]]
        paths = [p for p in paths if p.exists() or p.is_symlink()] or paths[:1]
        if not done:
            for path in paths:
                remove_unless_regular(path)
            return []
        files, problems = [], []
        for path in paths:
            why = "is not a regular file"  # a link (perhaps out of --out) or a folder: never opened
            if is_regular(path):
                try:
                    with store.small_chunk_cache():
                        files.append(netCDF4.Dataset(path, "r"))
                    continue
                except (OSError, RuntimeError, ValueError) as exc:
                    why = f"cannot be read ({exc})"
            problems.append(f"{path} {why}")
        if problems:  # the phase's files go, and every block they held is simulated again
            for nc in files:
                nc.close()
            n = len(done)
            done.clear()
            for path in paths:
                if not remove_unless_regular(path):
                    path.unlink(missing_ok=True)
            self._save()
            return [f"{'; '.join(problems)}; its {n} kept block(s) will be simulated again"]
        sizes = block_sizes(self.key["iterations"])
        bad = []
        try:
            for block, seal in sorted(done.items()):
                pos = block * BLOCK
                try:
                    if block >= len(sizes):
                        raise ValueError("there is no such block in this run")
                    values = read_block(files, pos, sizes[block])
                    if self._seal(phase, block, block_digest(values)) != seal:
                        raise ValueError("its values do not match the checksum recorded when it was written")
                    if check is not None:
                        try:
                            check({k: v for k, v in values.items() if k != "iteration"}, pos)
                        except ModelError as exc:
                            raise ValueError(f"it breaks a model invariant: {exc.variable} in {exc.year}, iteration "
                                             f"{exc.iteration:,}") from None
                except (OSError, RuntimeError, ValueError, IndexError) as exc:
                    bad.append(block)
                    problems.append(f"kept block {block} of {paths[0]} is damaged ({exc}); it will be simulated again")
        finally:
            for nc in files:
                nc.close()
        for block in bad:
            del done[block]
        if bad:
            self._save()
        return problems

    def start_afresh(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.blocks = {phase: {} for phase in self.PHASES}
        self._save()

    def record(self, phase: str, block: int | None, digest: str) -> None:
        block = 0 if block is None else int(block)  # None: a deterministic run's one block
        self.blocks[phase][block] = self._seal(phase, block, digest)
        self._save()

    def _save(self) -> None:
        data = {"key": self.key, **{phase: {str(b): seal for b, seal in sorted(done.items())}
                                    for phase, done in self.blocks.items()}}
        tmp = self.progress_file.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)  # whatever is there (a planted link) goes; the record is a new file
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=1) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.progress_file)  # atomic: the record is the old one or the new one, never half
        fsync_dir(self.folder)

    def done(self) -> int:
        return len(self.blocks["results"]) + len(self.blocks["scenarios"])

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


