"""What a run shows on the terminal while it works: a progress bar and a line for each phase."""
from __future__ import annotations

import sys
import time


class ProgressBar:
    """A one-line progress bar on stderr, shown only on a terminal."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width, self.start = stream, width, time.perf_counter()
        self.enabled = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 65_536:
            return
        filled = int(self.width * done / total)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r[{'#' * filled}{' ' * (self.width - filled)}] {done:,}/{total:,} iterations, {elapsed:.0f}s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class PhaseLog:
    """Each phase of a run as it starts, on stderr: on a terminal with the time the last one took, in a
    pipe or a log file one plain line a phase. Quiet prints nothing; verbose adds the timings at the end."""

    def __init__(self, stream=None, quiet: bool = False, verbose: bool = False):
        self.stream = stream or sys.stderr  # looked up now, so a redirected stderr is the one written to
        self.quiet, self.verbose = quiet, verbose
        self.start = self.last = time.perf_counter()
        self.timings: list[tuple[str, float]] = []
        self.current: str | None = None

    def __call__(self, name: str) -> None:
        self._close()
        self.current = name
        if not self.quiet:
            print(f"fsp-risk: {name} ({time.perf_counter() - self.start:.0f}s in)", file=self.stream, flush=True)

    def step(self, name: str) -> None:
        """A step within the phase: on a terminal, shown in place on one line (so no part of a phase is
        silent); in a pipe or log, nothing (one line a phase)."""
        if self.quiet or not getattr(self.stream, "isatty", lambda: False)():
            return
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r\033[K  {name} ({elapsed:.0f}s in)")
        self.stream.flush()
        self.stepped = True

    def _close(self) -> None:
        if getattr(self, "stepped", False):  # end the line of steps before the next phase's line
            self.stream.write("\r\033[K")
            self.stepped = False
        now = time.perf_counter()
        if self.current is not None:
            self.timings.append((self.current, now - self.last))
        self.last = now

    def finish(self) -> None:
        self._close()
        self.current = None
        if self.verbose and not self.quiet:
            for name, seconds in self.timings:
                print(f"fsp-risk: {seconds:6.1f}s  {name}", file=self.stream)
            print(f"fsp-risk: {time.perf_counter() - self.start:6.1f}s  in all", file=self.stream)
