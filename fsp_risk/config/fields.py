"""Field validation: a YAML mapping with its field path, and the checks every section uses, each raising a
ConfigError that names the file, the field and what was expected."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np

from fsp_risk.config.distributions import MAX_PARAMETER
from fsp_risk.config.limits import CONTROL_CHARACTERS, KEY_PATTERN, MAX_TEXT, NAME_RULES
from fsp_risk.errors import ConfigError, did_you_mean, excerpt


# --------------------------------------------------------------------------- reading helpers
class _Node:
    """A mapping from the YAML with its field path, for error messages."""

    def __init__(self, data: Any, path: str, file: str):
        self.data, self.path, self.file = data, path, file

    def error(self, message: str, key: str | None = None) -> ConfigError:
        path = f"{self.path}.{key}" if key and self.path else (key or self.path)
        return ConfigError(message, file=self.file, path=path)

    def mapping(self, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> "_Node":
        if not isinstance(self.data, dict):
            raise self.error(f"expected a mapping of fields, got {_kind(self.data)}")
        for key in self.data:
            if key not in allowed:
                raise self.error(
                    f"unknown field (expected one of: {', '.join(allowed)}){did_you_mean(key, allowed)}", str(key)
                )
        for key in required:
            if key not in self.data:
                raise self.error("required field is missing", key)
        return self

    def child(self, key: str) -> "_Node":
        return _Node(self.data.get(key), f"{self.path}.{key}" if self.path else key, self.file)

    def has(self, key: str) -> bool:
        return isinstance(self.data, dict) and key in self.data

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"expected a non-empty text, got {_kind(value)}", key)
        if len(value) > MAX_TEXT:
            raise self.error(f"expected a text of at most {MAX_TEXT:,} characters, got {len(value):,}", key)
        bad = CONTROL_CHARACTERS.search(value)
        if bad:
            raise self.error(f"expected printable text, got the control character {bad.group()!r} at character "
                             f"{bad.start() + 1}", key)
        return value.strip()

    def keys(self, what: str) -> list[str]:
        """The keys of this mapping, each a name of :data:`KEY_PATTERN` (``what`` they name, for the message)."""
        for key in self.data:
            _check_name(self, key, KEY_PATTERN, what, "it names variables and columns of the results")
        return [str(k) for k in self.data]

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {_kind(value)}", key)
        return value

    def integer(self, key: str, minimum: int, maximum: int) -> int:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, got {_kind(value)}", key)
        if not minimum <= value <= maximum:
            raise self.error(f"expected a whole number from {minimum:,} to {maximum:,}, got {value:,}", key)
        return value

    def date(self, key: str, required: bool = True) -> dt.date | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(f"expected a date like 2024-04-10, got {_kind(value)}", key)

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value not in options:
            raise self.error(
                f"expected one of {', '.join(options)}, got {excerpt(value)}{did_you_mean(value, options)}", key
            )
        return value


def _check_name(node: _Node, key: Any, pattern: re.Pattern, what: str, why: str, field: str | None = None) -> str:
    """``key`` if it matches ``pattern`` in full; else an error naming the rule (``field`` is where it is
    written: the key itself by default)."""
    if not isinstance(key, str) or not pattern.fullmatch(key):
        where = field if field is not None else excerpt(key).strip("'")
        raise node.error(f"expected {what} of {NAME_RULES[pattern]} ({why}), got {_kind(key)}", where)
    return key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"{excerpt(value)} (a number)"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value.isoformat()} (a date)"
    if isinstance(value, str):
        return f"{excerpt(value)} (a text)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _number(node: _Node, key: str, value: Any, *, nonnegative: bool = False, limit: float = MAX_PARAMETER,
            what: str = "a number") -> float:
    """A finite number within ±``limit`` (``what`` it is, for the message: "an amount of money")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise node.error(f"expected a number, got {_kind(value)}", key)
    if isinstance(value, float) and not np.isfinite(value):
        raise node.error(f"expected a finite number, got {_kind(value)}", key)
    if not -limit <= value <= limit:
        raise node.error(f"expected {what} within ±{limit:,.0f}, got {value:g}", key)
    if nonnegative and value < 0:
        raise node.error(f"expected an amount >= 0 (no negative cost here), got {value:,}", key)
    return float(value)


