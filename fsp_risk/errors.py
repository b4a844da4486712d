"""Errors raised for bad input, each naming the file, the field path and what was expected."""
from __future__ import annotations

import difflib
import reprlib

#: Longest message and field path an error prints: a value is shown as a bounded excerpt, never whole.
MAX_MESSAGE = 600
MAX_PATH = 160

_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxlevel = 60, 60, 6, 4, 2


def excerpt(value) -> str:
    """``repr(value)`` cut to a readable length (a text to 60 characters, a list to its first items),
    without building the whole representation of a huge value first."""
    return _REPR.repr(value)


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in str(text))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FspRiskError(Exception):
    """Every error fsp-risk raises on purpose; the command line turns each kind into its exit code.

    ==========================  ==========  =============================================================
    error                       exit code   meaning
    ==========================  ==========  =============================================================
    :class:`ConfigError`        2           bad input: a config, a CSV, an option, a run folder
    :class:`RunError`           2           the run cannot go on here: disk, a held lock, the dask engine
    :class:`ModelError`         3           the model produced an impossible value: a bug
    ==========================  ==========  =============================================================

    The message has a fixed shape: ``FILE: FIELD.PATH: what was expected; got what instead``, followed by
    ``(line N)`` where the field's line in the file is known.
    """

    def __init__(self, message: str, *, file: str | None = None, path: str | None = None, line: int | None = None):
        # One line, whatever a path or value holds: control characters (a newline in a file name could
        # forge a second message) are shown escaped.
        message, path = _shorten(_printable(message), MAX_MESSAGE), None if path is None else _shorten(_printable(path), MAX_PATH)
        file = None if file is None else _printable(file)
        self.file = file
        self.path = path
        self.reason = message
        self.line = line
        where = ": ".join(p for p in (file, path) if p)
        text = f"{where}: {message}" if where else message
        super().__init__(f"{text} (line {line})" if line else text)


class ConfigError(FspRiskError, ValueError):
    """A config (or other input) is invalid."""


class RunError(FspRiskError, RuntimeError):
    """The input is fine but the run cannot go on here: too little disk, another run holding the same
    folder, or a dask engine that is missing or out of reach."""


def did_you_mean(name: str, options) -> str:
    """A ' (did you mean 'x'?)' hint for a misspelt name, or '' when nothing is close."""
    if len(str(name)) > 100:  # nothing is close to a long text, and comparing it would be slow
        return ""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class ModelError(FspRiskError, RuntimeError):
    """The model produced an impossible value (see :mod:`fsp_risk.engine.invariants`): a bug, not bad input.

    Carries the ``variable``, ``year`` and an example ``iteration`` for tests and callers.
    """

    def __init__(self, message: str, *, file: str | None = None, variable: str, year, iteration: int):
        self.variable, self.year, self.iteration = variable, year, iteration
        super().__init__(message, file=file)
