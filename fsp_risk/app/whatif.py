"""``fsp-risk whatif``: a page on localhost where moving an assumption moves the P50, P80 and fan chart.

The model's random numbers are drawn once when the page starts (:class:`fsp_risk.engine.live.LiveModel`);
each change re-maps only the changed inputs and re-evaluates the main result, so the answer moves and
not the sampling noise. What the page shows comes from the same functions as a full run's tables, and
"Save as scenario" writes the settings as a ``scenarios:`` entry that a full run reproduces to the penny.

The settings logic (:class:`Control`, :func:`apply_settings`, :class:`WhatIf`) needs no browser; the
Panel page (:class:`fsp_risk.app.page.Page`) only lays it out. Panel serves every asset itself (no CDN) and binds to
localhost unless told otherwise.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from fsp_risk.analysis.live import LiveSummary, live_drivers, live_summary, top_inputs
from fsp_risk.config import Config, Input, parse_config
from fsp_risk.config.scenarios import add_scenario, changed_input, check_pins, scenario_block, scenario_entry
from fsp_risk.config.shipped import is_shipped
from fsp_risk.engine.live import LiveModel
from fsp_risk.errors import ConfigError
from fsp_risk.outputs.live import drivers_png, fan_png, headline_html

#: Iterations the page evaluates at each change: one block, about 0.1 s on a 2-core laptop, a P80 to within
#: about ±£0.5m (95%) for the default config.
PAGE_ITERATIONS = 65_536
#: Inputs shown by rank correlation with the total net change, before the named ones.
TOP_INPUTS = 8
MODES = ("As set", "Pin", "Shift", "Range")
#: The parameters a shift moves: each distribution's location (its spread kept).
_LOCATION = {"uniform": ("low", "high"), "pert": ("low", "mode", "high"), "triangular": ("low", "mode", "high"),
             "normal": ("mean", "min", "max"), "lognormal": ("mean",)}


# --------------------------------------------------------------------------- the controls
@dataclass(frozen=True)
class Control:
    """One input the page lets the user move.

    ``name`` is the input as the config names it; ``in_force`` the input whose distribution the main
    result (after the register's mitigations) reads in its place: itself, or the mitigation's
    replacement. A pin holds both; a shift or a new range changes the one in force.
    """

    name: str
    in_force: str
    why: str  # why it is on the page

    def item(self, config: Config) -> Input:
        return config.inputs[self.in_force]

    def modes(self, config: Config) -> tuple[str, ...]:
        kind = self.item(config).dist.kind
        if kind in ("fixed", "discrete") or self.item(config).year_valued:
            return MODES[:2]
        if kind in _LOCATION:
            return MODES
        return ("As set", "Pin", "Range")

    def range_keys(self, config: Config) -> tuple[str, ...]:
        """The parameters the Range mode edits: the distribution's, less infinite bounds."""
        return tuple(self.item(config).dist.written_params)

    def pin_options(self, config: Config) -> list[str] | None:
        """The values a discrete input can be pinned to (year labels for a year), else None (typed)."""
        item = self.item(config)
        if item.dist.kind == "bernoulli":
            return ["0", "1"]
        if item.dist.kind == "discrete":
            return [config.years[int(v)] if item.year_valued else f"{v:g}" for v in item.dist.params["values"]]
        return None


def control_inputs(config: Config, live: LiveModel, net_change: np.ndarray, top: int = TOP_INPUTS) -> list[Control]:
    """The page's controls: the ``top`` inputs most rank-correlated with the total net change, then the
    funding streams' end and replacement, demand growth, social-worker turnover and the FSP effect."""
    replaced = {}
    reg = config.risk_register
    for m in (reg.mitigations if reg is not None else ()):
        for orig, repl in m.replace:
            replaced[orig] = repl
    wanted: list[tuple[str, str]] = [(name, "one of the inputs that move the total most (rank correlation)")
                                     for name in top_inputs(live, net_change, top)]
    for s in config.funding:
        wanted += [(s.ends, f"{s.title}: whether it ends"), (s.end_year, f"{s.title}: the year it ends"),
                   (s.replaced, f"{s.title}: the share partners replace")]
    wanted += [(m.growth, f"{m.title}: demand growth") for m in config.demand.values()]
    weakening = [g for g in config.workforce if g.weakens_effect] or list(config.workforce)
    wanted += [(g.turnover, f"{g.title}: turnover") for g in weakening]
    wanted += [(m.fsp.effect, f"{m.title}: the FSP effect") for m in config.demand.values()]
    out, seen = [], set()
    for name, why in wanted:
        if name in seen or name not in config.inputs:
            continue
        seen.add(name)
        out.append(Control(name, replaced.get(name, name), why))
    return out


@dataclass
class Setting:
    """What the user has typed or chosen for one control (text, as typed)."""

    mode: str = "As set"
    pin: str = ""
    shift: str = "0"
    params: dict[str, str] = field(default_factory=dict)


def _number(text: str):
    """A typed number, or the text itself (refused with the config's wording by the check that reads it)."""
    text = str(text).strip().replace(",", "")
    try:
        return float(text)
    except ValueError:
        return text


def apply_settings(config: Config, controls: list[Control], settings: dict[str, Setting]
                   ) -> tuple[dict[str, Input], dict[str, float], list[str]]:
    """The changed inputs and the pins the settings ask for, and one line per problem (as a bad config's).

    A pin holds the input and its mitigation replacement (so before and after mitigation agree, as the
    shipped scenarios pin both); a shift adds to the location parameters of the input in force; a range
    sets its parameters."""
    inputs: dict[str, Input] = {}
    pins: dict[str, object] = {}
    errors: list[str] = []
    for c in controls:
        s = settings.get(c.name)
        if s is None or s.mode == "As set":
            continue
        try:
            if s.mode == "Pin":
                value = s.pin if c.item(config).year_valued else _number(s.pin)
                pins.update({c.name: value, c.in_force: value})
                check_pins(config, {c.name: value}, "pin")
            elif s.mode == "Shift":
                delta = _number(s.shift)
                if not isinstance(delta, float) or not np.isfinite(delta):
                    raise ConfigError(f"shift: expected a number, got {s.shift!r}", file=config.path,
                                      path=f"inputs.{c.in_force}")
                params = c.item(config).dist.params
                moved = {k: params[k] + delta for k in _LOCATION[c.item(config).dist.kind]
                         if k in params and np.isfinite(params[k])}
                inputs[c.in_force] = changed_input(config, c.in_force, moved)
            elif s.mode == "Range":
                inputs[c.in_force] = changed_input(config, c.in_force, {k: _number(v) for k, v in s.params.items()})
        except ConfigError as exc:
            errors.append(str(exc))
    if not errors:
        try:
            pins = check_pins(config, pins, "pin")
        except ConfigError as exc:
            errors.append(str(exc))
    return inputs, (pins if not errors else {}), errors


# --------------------------------------------------------------------------- the session
@dataclass(frozen=True)
class View:
    """One evaluation of the page's settings."""

    summary: LiveSummary
    inputs: dict[str, Input]
    pins: dict[str, float]
    net_change: np.ndarray
    seconds: float


class WhatIf:
    """The what-if state shared by every browser tab: the live model, its base case and its controls.

    Parameters
    ----------
    config : Config
    iterations : int
        Iterations evaluated at each change (the first of a run with the config's seed and sampler).
    save_to : path, optional
        Where "Save as scenario" writes: a copy of the config with the scenarios added (default: beside
        the config, ``NAME-whatif.yaml``, so that files the config reads beside it are found; in the working
        folder for a config shipped inside an installed fsp-risk).
    out : path
        The folder "Run in full" writes its run folder into.
    run_args : list of str
        More options for "Run in full"'s ``fsp-risk run`` (e.g. ``["--iterations", "20000"]``).
    """

    def __init__(self, config: Config, iterations: int = PAGE_ITERATIONS, seed: int | None = None,
                 sampler: str | None = None, save_to: str | os.PathLike | None = None,
                 out: str | os.PathLike = "outputs", run_args: list[str] = ()):
        t = time.perf_counter()
        self.config = config
        self.live = LiveModel(config, iterations, seed, sampler)
        base = self.live.net_change()
        self.controls = control_inputs(config, self.live, base)
        self.base = View(live_summary(self.live, base), {}, {}, base, time.perf_counter() - t)
        path = Path(config.path)
        # Beside the config (files it attaches are found there), unless that is inside an installed fsp-risk.
        beside = Path.cwd() / path.name if is_shipped(path) else path
        self.save_to = Path(save_to) if save_to else beside.with_name(f"{path.stem}-whatif.yaml")
        self.out, self.run_args = Path(out), list(run_args)
        self.lock = threading.Lock()  # one evaluation at a time: the live model's caches are shared
        self._base_charts: tuple[bytes, bytes] | None = None

    def evaluate(self, settings: dict[str, Setting]) -> tuple[View | None, list[str]]:
        """The view for ``settings``, or None and the problems with them."""
        t = time.perf_counter()
        inputs, pins, errors = apply_settings(self.config, self.controls, settings)
        if errors:
            return None, errors
        if not inputs and not pins:
            return self.base, []
        with self.lock:
            net = self.live.net_change(inputs, pins)
            summary = live_summary(self.live, net)
        return View(summary, inputs, pins, net, time.perf_counter() - t), []

    def base_charts(self) -> tuple[bytes, bytes]:
        """The fan chart and drivers chart of every assumption as set (drawn once, for every tab)."""
        if self._base_charts is None:
            self._base_charts = (fan_png(self.config, self.base.summary),
                                 drivers_png(self.drivers(self.base)))
        return self._base_charts

    def headline(self, view: View) -> str:
        """The headline of ``view`` as HTML, against every assumption as set."""
        return headline_html(self.config, view.summary, self.base.summary, view is not self.base, view.seconds)

    def drivers(self, view: View, stop: Callable[[], bool] = lambda: False):
        """The grouped drivers of ``view`` (None if ``stop()`` turns true first: the settings moved on)."""
        return live_drivers(self.live, view.inputs, view.pins, view.net_change, self.lock, stop)

    def describe(self, settings: dict[str, Setting]) -> str:
        """The settings in words, for a scenario's default title."""
        parts = []
        for c in self.controls:
            s = settings.get(c.name)
            if s is None or s.mode == "As set":
                continue
            if s.mode == "Pin":
                parts.append(f"{c.name} pinned at {s.pin}")
            elif s.mode == "Shift":
                parts.append(f"{c.name} shifted by {s.shift}")
            else:
                parts.append(f"{c.name} " + ", ".join(f"{k} {v}" for k, v in s.params.items()))
        return "What-if: " + ("; ".join(parts) if parts else "every assumption as set")

    def save_scenario(self, name: str, title: str, settings: dict[str, Setting]) -> tuple[Path, str]:
        """Add the settings as scenario ``name`` to :attr:`save_to` (made from the config the first time)
        and return the file and the YAML added. Refused, with the config's wording, if the settings have
        problems, the name is taken or the config with the scenario does not validate."""
        inputs, pins, errors = apply_settings(self.config, self.controls, settings)
        if errors:
            raise ConfigError("; ".join(errors))
        source = (f"fsp-risk whatif on {Path(self.config.path).name}, {dt.date.today().isoformat()}: the page's "
                  f"settings ({self.live.iterations:,} live iterations, seed {self.live.seed}, {self.live.sampler})")
        entry = scenario_entry(self.config, title.strip() or self.describe(settings), source, inputs, pins)
        base_text = self.save_to.read_text(encoding="utf-8") if self.save_to.exists() else self.config.text
        text = add_scenario(base_text, name.strip(), entry, str(self.save_to))
        parse_config(text, str(self.save_to), attachments=dict(self.config.attachments))  # it must load
        self.save_to.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.save_to.parent, delete=False,
                                         prefix=f".{self.save_to.name}.", suffix=".tmp") as tmp:
            tmp.write(text)
        os.replace(tmp.name, self.save_to)  # whole or not at all
        return self.save_to, scenario_block(name.strip(), entry)

    def run_in_full(self) -> "FullRun":
        """Start ``fsp-risk run`` on the saved file (every scenario in it, the one just saved included)."""
        if not self.save_to.exists():
            raise ConfigError("expected a saved scenario first: press 'Save as scenario'", file=str(self.save_to))
        return FullRun(self.save_to, self.out, self.run_args)


class FullRun:
    """A full ``fsp-risk run`` in a child process, its phase lines kept for the page to show."""

    def __init__(self, config_path: Path, out: Path, args: list[str] = ()):
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "fsp_risk", "run", str(config_path), "--out", str(out), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                     encoding="utf-8", errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def done(self) -> bool:
        return self.proc.poll() is not None and not self._reader.is_alive()

    @property
    def ok(self) -> bool:
        return self.done and self.proc.returncode == 0
