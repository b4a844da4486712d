"""The ``scenarios`` section and pinned inputs (a scenario's ``pin``, a stress test)."""
from __future__ import annotations

from typing import Any

import numpy as np

from fsp_risk.config.fields import _kind, _Node
from fsp_risk.config.schema import Config, Input, Scenario
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
        sc = node.child(name).mapping(("title", "source", "set", "pin"), ("title", "source"))
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


