"""The ``scenarios`` section and pinned inputs (a scenario's ``pin``, a stress test)."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np
import yaml

from fsp_risk.config.distributions import DistributionError, make_distribution
from fsp_risk.config.fields import _kind, _Node
from fsp_risk.config.limits import KEY_PATTERN
from fsp_risk.config.schema import Config, Input, Scenario
from fsp_risk.config.shape import DIST_KEYS, keys
from fsp_risk.errors import ConfigError, did_you_mean, excerpt

RESERVED_SCENARIOS = ("base", "without_fsp")


def _scenarios(node: _Node, data: dict, base: Config, validate) -> dict[str, Scenario]:
    """The ``scenarios`` section: each scenario ``set``s fields (dotted paths into the config, ``null``
    to remove one) and ``pin``s inputs; its config is validated in full here by ``validate`` (the base
    config's validator, with ``all_inputs_used`` and ``attachments``), before any work."""
    if not isinstance(node.data, dict) or not node.data:
        raise node.error("expected a mapping of scenario names to {title, source, set, pin}")
    out = {}
    for name in node.keys("a scenario name"):
        sc = node.child(name).mapping(*keys("scenario"))
        if name in RESERVED_SCENARIOS:
            raise sc.error(f"expected a name of letters, digits and _ other than {' and '.join(RESERVED_SCENARIOS)} "
                           "(kept for the config as written and the counterfactual)")
        changed = {k: v for k, v in data.items() if k != "scenarios"}
        changes = sc.data.get("set") or {}
        if not isinstance(changes, dict):
            raise sc.error("expected a mapping of dotted field paths to new values, like "
                           "{'demand.measures.lac.fsp.floor': null}", "set")
        for path, value in changes.items():
            changed = _set_path(sc.child("set"), str(path), changed, value)
        try:
            config = validate(changed, base.text, base.path, all_inputs_used=False, attachments=dict(base.attachments))
        except ConfigError as exc:
            raise sc.error(f"with this scenario's changes the config is invalid at {exc.path or 'the top'}: "
                           f"{exc.reason}", "set") from None
        pins = sc.data.get("pin") or {}
        if not isinstance(pins, dict):
            raise sc.error("expected a mapping of input names to values", "pin")
        out[str(name)] = Scenario(str(name), sc.text("title"), sc.text("source"), config,
                                  check_pins(config, pins, sc.child("pin").path, base.path))
    return out


def check_pins(config: Config, pins: dict, field: str, file: str | None = None) -> dict[str, float]:
    """Inputs pinned to a value (a scenario's ``pin``, a stress test): known names, finite numbers within
    each input's range; errors name ``field``.NAME."""
    node = _Node(pins, field, file if file is not None else config.path)
    out = {}
    for name, value in pins.items():
        if name not in config.inputs:
            raise node.error(f"unknown input {excerpt(name)}{did_you_mean(name, config.inputs)}", str(name))
        item = config.inputs[name]
        bounds = config.input_bounds.get(name, item.dist.support())
        out[str(name)] = _pin_value(node, str(name), item, value, bounds, config.years)
    p = config.placements
    if p is not None and any(t.share in out for t in p.types):
        # Each share may be 0 alone, but not all at once: the mix would be undefined.
        if all(out.get(t.share, config.inputs[t.share].dist.support()[1]) <= 0 for t in p.types):
            raise node.error("expected at least one placement type's share above 0 (they weight the cost of a "
                             "placement), got 0 for every type", next(t.share for t in p.types if t.share in out))
    return out


def _set_path(node: _Node, path: str, data: dict, value: Any) -> dict:
    """A copy of ``data`` with the field at dotted ``path`` set to ``value`` (removed when None)."""
    keys = path.split(".")
    out = dict(data)
    here = out
    for i, key in enumerate(keys[:-1]):
        child = here.get(key)
        if not isinstance(child, dict):
            raise node.error(f"no field {excerpt('.'.join(keys[: i + 1]))} to change in the config"
                             f"{did_you_mean(key, here) if isinstance(here, dict) else ''}", path)
        here[key] = dict(child)
        here = here[key]
    if value is None:
        if keys[-1] not in here:
            raise node.error(f"no field {excerpt(path)} to remove{did_you_mean(keys[-1], here)}", path)
        del here[keys[-1]]
    else:
        here[keys[-1]] = value
    return out


def _pin_bounds(inputs: dict[str, Input], bounds: dict[str, tuple[float, float]], years) -> dict[str, tuple[float, float]]:
    """What each input may be pinned to: within the bounds of the fields that use it, never negative for a
    quantity whose distribution is, and within the horizon for a year."""
    return {name: _pin_range(item, bounds.get(name, (-np.inf, np.inf)), years) for name, item in inputs.items()}


def _pin_range(item: Input, bounds: tuple[float, float], years) -> tuple[float, float]:
    lo, hi = bounds
    if item.year_valued:
        lo, hi = max(lo, 0), min(hi, len(years) - 1)
    elif item.dist.support()[0] >= 0:
        lo = max(lo, 0.0)
    return float(lo), float(hi)


def _pin_value(node: _Node, key: str, item: Input, value: Any, bounds: tuple[float, float], years) -> float:
    """A value an input is held at (a pin, a stress test, a risk link's switch-off value): a finite number
    within ``bounds`` (what the model can take), a year given as its label or a whole index."""
    if item.year_valued and isinstance(value, str):
        if value not in years:
            raise node.error(f"expected a year within the horizon ({years[0]} to {years[-1]}), got {excerpt(value)}", key)
        value = years.index(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise node.error(f"expected a number, got {_kind(value)}", key)
    if not np.isfinite(value):
        raise node.error(f"expected a finite number, got {_kind(value)}", key)
    if item.year_valued and value != int(value):
        raise node.error(f"expected a year label like {years[0]}, got {value:g}", key)
    lo, hi = bounds
    if not lo <= value <= hi:
        span = f"[{lo:g}, {hi:g}]" if np.isfinite(hi) else f">= {lo:g}"
        raise node.error(f"expected a value the model can take for this input, {span}, got {value:g}", key)
    return float(value)




# --------------------------------------------------------------------------- changes made outside a file


def changed_input(config: Config, name: str, params: dict[str, Any]) -> Input:
    """Input ``name`` with its distribution's parameters changed (``params``: some of its kind's, e.g.
    ``{'low': 0.15, 'mode': 0.25}``), validated as the config validates an input, with the same messages,
    and within the range the model's fields accept for it (what a scenario's ``set`` would be refused for).
    """
    if name not in config.inputs:
        raise ConfigError(f"unknown input {excerpt(name)}{did_you_mean(name, config.inputs)}", file=config.path,
                          path="inputs")
    item = config.inputs[name]
    if item.year_valued or item.dist.kind in ("fixed", "discrete"):
        raise ConfigError(f"expected a pinned value: a {item.dist.kind} input keeps its values (pin it instead)",
                          file=config.path, path=f"inputs.{name}")
    spec = {**item.dist.written_params, **params}
    try:
        dist = make_distribution({"dist": item.dist.kind, **spec})
    except DistributionError as exc:
        raise ConfigError(str(exc), file=config.path, path=f"inputs.{name}") from None
    lo, hi = config.input_bounds.get(name, (-np.inf, np.inf))
    low, largest = dist.support()[0], dist.largest()
    if low < lo or largest > hi:
        span = f"[{lo:g}, {hi:g}]" if np.isfinite(lo) and np.isfinite(hi) else (f">= {lo:g}" if np.isfinite(lo)
                                                                                 else f"<= {hi:g}")
        raise ConfigError(f"this input can take values in [{low:g}, {largest:g}], but the model's fields that use "
                          f"it expect values {span}", file=config.path, path=f"inputs.{name}")
    return replace(item, dist=dist)


def scenario_entry(config: Config, title: str, source: str, inputs: dict[str, Input],
                   pins: dict[str, float]) -> dict[str, Any]:
    """A ``scenarios:`` entry (as YAML data) that changes ``inputs``' distributions to theirs and pins
    ``pins``: each changed parameter ``set`` by its dotted path (the fields the input's mapping had and
    its new distribution does not, such as an expert's p10/p50/p90, removed), years pinned by label."""
    raw = (yaml.safe_load(config.text) or {}).get("inputs", {})
    changes: dict[str, Any] = {}
    for name, item in inputs.items():
        was = raw.get(name, {})
        new = item.dist.written_params
        for key in was:
            if key in DIST_KEYS and key != "dist" and key not in new:
                changes[f"inputs.{name}.{key}"] = None
        for key, value in new.items():
            if was.get(key) != value:
                changes[f"inputs.{name}.{key}"] = _plain(value)
    entry: dict[str, Any] = {"title": title, "source": source}
    if changes:
        entry["set"] = changes
    if pins:
        entry["pin"] = {name: (config.years[int(v)] if config.inputs[name].year_valued else _plain(v))
                        for name, v in pins.items()}
    return entry


def _plain(value):
    """A number as YAML writes it plainly (a whole float as an int)."""
    value = float(value)
    return int(value) if value.is_integer() else value


def scenario_block(name: str, entry: dict[str, Any]) -> str:
    """Scenario ``name`` as the lines of a ``scenarios:`` section (YAML, indented two spaces)."""
    block = yaml.safe_dump({name: entry}, sort_keys=False, allow_unicode=True, width=10_000)
    return "".join(f"  {line}\n" for line in block.splitlines())


def add_scenario(text: str, name: str, entry: dict[str, Any], file: str = "<config>") -> str:
    """Config ``text`` with scenario ``name`` added to its ``scenarios:`` section (or a new one at the end),
    every other line as it was (comments and layout kept)."""
    if not KEY_PATTERN.fullmatch(name):
        raise ConfigError(f"expected letters, digits and _, starting with a letter, at most 64 characters, "
                          f"got {excerpt(name)}", file=file, path="scenarios")
    if name in RESERVED_SCENARIOS:
        raise ConfigError(f"expected a name other than {' and '.join(RESERVED_SCENARIOS)}", file=file,
                          path=f"scenarios.{name}")
    existing = (yaml.safe_load(text) or {}).get("scenarios") or {}
    if name in existing:
        raise ConfigError(f"a scenario {excerpt(name)} is already in the config: expected a new name", file=file,
                          path=f"scenarios.{name}")
    block = scenario_block(name, entry)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if re.match(r"scenarios:\s*(#.*)?$", line)), None)
    if start is None:
        if "scenarios" in (yaml.safe_load(text) or {}):
            raise ConfigError("expected the scenarios section as a block mapping (one scenario per indented "
                              "entry), to add one to it", file=file, path="scenarios")
        return "".join(lines) + "\nscenarios:\n" + block
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"[^\s#]", lines[i])), len(lines))
    while end > start + 1 and not lines[end - 1].strip():  # before the blank lines that end the section
        end -= 1
    return "".join(lines[:end]) + block + "".join(lines[end:])
