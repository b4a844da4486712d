"""The what-if page itself: HoloViz Panel widgets laid out over :class:`fsp_risk.app.whatif.WhatIf`.

Panel serves the page and every script, style and font it needs from this process (no CDN), on localhost
unless told otherwise. Each browser tab gets its own widgets; the live model is shared. Each widget carries a
class naming its input (``mode-NAME``, ``pin-NAME``, ``shift-NAME``, ``range-NAME-PARAM``), and the headline
carries each figure's exact value in ``data-value``, for the browser tests and for anyone scripting the page.
"""
from __future__ import annotations

import threading

from fsp_risk.app.whatif import Control, FullRun, Setting, WhatIf
from fsp_risk.errors import ConfigError
from fsp_risk.outputs.live import density_svg, distribution_text, drivers_png, escaped, fan_png

CSS = """
.headline .big { font-size: 1.15em; margin: 0.2em 0; }
.headline table.years { border-collapse: collapse; margin: 0.5em 0; }
.headline table.years th, .headline table.years td { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
.headline table.years th[scope=row], .headline table.years thead th:first-child { text-align: left; }
.headline .precision, .control .why, .control .dist { color: #555; font-size: 0.9em; }
.headline .change { color: #12436D; }
.problems, .problem { color: #a00; font-weight: bold; white-space: pre-wrap; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin: 0.6em 0 0.2em; }
"""


def _html(pn, text: str = "", **kwargs):
    """An HTML pane with the page's styles (each pane draws in its own shadow root, so they do not cascade)."""
    return pn.pane.HTML(text, stylesheets=[CSS], **kwargs)


#: What the Range fields are called on the page (the config's key in brackets, as a saved scenario writes it).
PARAM_WORDS = {"low": "lowest (low)", "mode": "most likely (mode)", "high": "highest (high)", "mean": "average (mean)",
               "sd": "standard deviation (sd)", "p": "chance (p)", "min": "minimum (min)", "max": "maximum (max)"}


class Page:
    """One browser tab's page: its widgets, wired to the shared :class:`WhatIf` state."""

    def __init__(self, state: WhatIf):
        import panel as pn

        self.pn, self.state, cfg = pn, state, state.config
        self.generation = 0  # the settings' version: a drivers chart for older settings is not shown
        self.widgets: dict[str, dict] = {}
        cards = []
        for c in state.controls:
            cards.append(self._control(c))
        self.problems = _html(pn, "", css_classes=["problems"], sizing_mode="stretch_width")
        self.headline = _html(pn, state.headline(state.base), sizing_mode="stretch_width")
        base_fan, base_drivers = state.base_charts()
        self.fan = pn.pane.PNG(base_fan, width=640, css_classes=["fan"])
        self.drivers = pn.pane.PNG(base_drivers, width=640, css_classes=["drivers"])
        self.drivers_note = _html(pn, "", sizing_mode="stretch_width")
        reset = pn.widgets.Button(label="Reset all to as set", color="default")
        reset.on_click(self._reset)
        self.name = pn.widgets.TextInput(label="Scenario name (letters, digits and _)", value="whatif_1",
                                      css_classes=["scenario-name"])
        self.title = pn.widgets.TextInput(label="Scenario title (blank: the settings in words)", value="")
        save = pn.widgets.Button(label="Save as scenario", color="primary", css_classes=["save"])
        save.on_click(self._save)
        self.run = pn.widgets.Button(label="Run in full", color="success", disabled=not state.save_to.exists(),
                                    css_classes=["run"])
        self.run.on_click(self._run)
        self.saved = _html(pn, f"<p>Saves to <code>{escaped(state.save_to)}</code> (a copy of the config with each saved "
                                  "scenario added); “Run in full” runs <code>fsp-risk run</code> on it.</p>",
                                  sizing_mode="stretch_width")
        self.progress = _html(pn, "", sizing_mode="stretch_width")
        self.full: FullRun | None = None
        intro = _html(
            pn,
            f"<h1>What if? {escaped(cfg.title)}</h1><p>{escaped(cfg.council)}. A live view of {state.live.iterations:,} "
            f"simulated outcomes (the first {state.live.iterations:,} of a full run with seed {state.live.seed}; a full "
            f"run uses {cfg.run.iterations:,}), drawn once: moving an assumption moves the answer, not the sampling "
            "noise. Every figure is after the register's mitigations.</p>", sizing_mode="stretch_width")
        # The assumptions scroll on their own, so the headline and chart stay in view while they move.
        left = pn.Column(_html(pn, "<h2>Assumptions</h2>"), reset, *cards, width=440,
                         styles={"max-height": "88vh", "overflow-y": "auto"})
        right = pn.Column(self.problems, _html(pn, "<h2>Headline</h2>"), self.headline, self.fan,
                          _html(pn, "<h2>What drives the P80</h2>"), self.drivers_note, self.drivers,
                          _html(pn, "<h2>Keep it</h2>"), self.saved, self.name, self.title,
                          pn.Row(save, self.run), self.progress, sizing_mode="stretch_width")
        self.layout = pn.Column(intro, pn.Row(left, right, sizing_mode="stretch_width"), sizing_mode="stretch_width")

    def _control(self, c: Control):
        pn, cfg = self.pn, self.state.config
        item, orig = c.item(cfg), cfg.inputs[c.name]
        # Classes name each widget by its input, for tests and for anyone scripting the page.
        mode = pn.widgets.RadioButtonGroup(options=list(c.modes(cfg)), value="As set", css_classes=[f"mode-{c.name}"])
        options = c.pin_options(cfg)
        central = (cfg.years[int(item.dist.central)] if item.year_valued else f"{item.dist.central:g}")
        pin = (pn.widgets.Select(label="Pin at", options=options, value=central if central in options else options[0],
                                 css_classes=[f"pin-{c.name}"])
               if options else pn.widgets.TextInput(label=f"Pin at ({orig.units})", value=central,
                                                    css_classes=[f"pin-{c.name}"]))
        shift = pn.widgets.TextInput(label=f"Shift by ({orig.units})", value="0", css_classes=[f"shift-{c.name}"])
        params = {k: pn.widgets.TextInput(label=PARAM_WORDS.get(k, k), value=f"{item.dist.params[k]:g}", width=110,
                                          css_classes=[f"range-{c.name}-{k}"])
                  for k in c.range_keys(cfg)} if "Range" in c.modes(cfg) else {}
        self.widgets[c.name] = {"mode": mode, "pin": pin, "shift": shift, "params": params}
        after = (f" After the register's mitigation it follows “{cfg.inputs[c.in_force].title}”, which the page changes."
                 if c.in_force != c.name else "")
        as_set = ("As set" + (", after mitigation" if c.in_force != c.name else "") + ": "
                  + distribution_text(cfg, item))
        head = _html(pn, f"<div class='control' data-input='{escaped(c.name)}'><strong>{escaped(orig.title)}</strong> "
                            f"<code>{escaped(c.name)}</code><div class='dist'>{escaped(as_set)}</div>"
                            f"{density_svg(item)}"
                            f"<div class='why'>Shown because: {escaped(c.why)}.{escaped(after)}</div></div>",
                            sizing_mode="stretch_width")
        body = pn.Column(pin, visible=False)
        shift_box = pn.Column(shift, visible=False)
        range_box = pn.Row(*params.values(), visible=False)

        def show(event=None):
            body.visible, shift_box.visible, range_box.visible = (mode.value == "Pin", mode.value == "Shift",
                                                                  mode.value == "Range")
        mode.param.watch(show, "value")
        for w in (mode, pin, shift, *params.values()):
            w.param.watch(self._changed, "value")
        return pn.Column(head, mode, body, shift_box, range_box, styles={"border-bottom": "1px solid #ddd"},
                         sizing_mode="stretch_width")

    def settings(self) -> dict[str, Setting]:
        return {name: Setting(w["mode"].value, str(w["pin"].value), str(w["shift"].value),
                              {k: str(v.value) for k, v in w["params"].items()}) for name, w in self.widgets.items()}

    def _changed(self, event=None) -> None:
        self.generation += 1
        view, errors = self.state.evaluate(self.settings())
        if errors:
            self.problems.object = ("<p>Not applied: the figures below still show the last valid settings.</p>"
                                    + "".join(f"<p class='problem'>{escaped(self._titled(line))}</p>" for line in errors))
            return
        self.problems.object = ""
        self.headline.object = self.state.headline(view)
        self.fan.object = fan_png(self.state.config, view.summary)
        self.drivers_note.object = "<p class='precision'>Updating…</p>"
        # The drivers take several evaluations: drawn in a thread after the headline and fan chart have gone
        # to the browser, and dropped as soon as the settings move on.
        generation, doc = self.generation, self.pn.state.curdoc
        if doc is None or doc.session_context is None:  # not served (a test): at once
            self._show_drivers(self.state.drivers(view), generation)
            return

        def work():
            table = self.state.drivers(view, stop=lambda: generation != self.generation)
            if table is not None:
                png = drivers_png(table)
                doc.add_next_tick_callback(lambda: self._show_drivers(png, generation))
        threading.Thread(target=work, daemon=True).start()

    def _titled(self, line: str) -> str:
        """A problem line led by the title of the control it is about (the config's wording follows)."""
        cfg = self.state.config
        for c in self.state.controls:
            if any(f".{name}:" in line for name in (c.name, c.in_force)):
                return f"{cfg.inputs[c.name].title}: {line}"
        return line

    def _show_drivers(self, drawn, generation: int) -> None:
        if generation != self.generation:  # settings moved on: a later change draws its own
            return
        self.drivers.object = drawn if isinstance(drawn, bytes) else drivers_png(drawn)
        self.drivers_note.object = ""

    def _reset(self, event=None) -> None:
        for w in self.widgets.values():
            w["mode"].value = "As set"

    def _save(self, event=None) -> None:
        try:
            path, added = self.state.save_scenario(self.name.value, self.title.value, self.settings())
        except ConfigError as exc:
            self.saved.object = f"<p class='problems'>Not saved: {escaped(exc)}</p>"
            return
        self.saved.object = (f"<p>Saved scenario <code>{escaped(self.name.value.strip())}</code> to <code>{escaped(path)}</code>:"
                             f"</p><pre class='yaml'>{escaped(added)}</pre>")
        self.run.disabled = False

    def _run(self, event=None) -> None:
        if self.full is not None and not self.full.done:
            return
        try:
            self.full = self.state.run_in_full()
        except ConfigError as exc:
            self.progress.object = f"<p class='problems'>{escaped(exc)}</p>"
            return
        self.run.disabled = True
        self._poll = self.pn.state.add_periodic_callback(self._show_progress, period=500)

    def _show_progress(self) -> None:
        full = self.full
        lines = full.lines[-12:]
        status = ("Finished." if full.ok else f"Stopped with an error (exit {full.proc.returncode}).") if full.done \
            else "Running…"
        self.progress.object = (f"<p class='run-status'>{status}</p><pre class='run-log'>" + escaped("\n".join(lines))
                                + "</pre>")
        if full.done:
            self._poll.stop()
            self.run.disabled = False


def serve(state: WhatIf, port: int = 8050, address: str = "127.0.0.1", show: bool = False, threaded: bool = False):
    """Serve the page at http://ADDRESS:PORT/ (localhost by default); every asset from this server."""
    import panel as pn

    pn.extension()
    origins = [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    return pn.serve(lambda: Page(state).layout, port=port, address=address, show=show, threaded=threaded,
                    websocket_origin=origins, title=f"What if? {state.config.title}")
