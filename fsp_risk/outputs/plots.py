"""Charts for a printed cabinet paper: active titles, £ labels, colour-blind-safe, readable in greyscale.

House style follows the UK Government Analysis Function's data visualisation guidance (colours, 2021):
dark blue ``#12436D``, turquoise ``#28A197``, dark pink ``#801650``, orange ``#F46A25``; sequential
``#12436D``, ``#2073BC``, ``#6BACE6``. Colour never carries meaning alone: shapes and labels do too.

Over 400 lines: one drawing function per chart type, all sharing the house style's private helpers
(title and caption, open frame, money axes), which keeps the style in one place. Functions here draw a
figure from numbers given to them; :mod:`fsp_risk.outputs.charts` chooses the numbers and the words.
"""
from __future__ import annotations

import functools
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fsp_risk.outputs.formatting import format_money as _format_money  # noqa: E402


def format_money(value: float, decimals: int = 1) -> str:
    """Money on a chart: as in the text, with a true minus sign (as the axes have)."""
    return _format_money(value, decimals).replace("-", "\u2212")

from afcharts.af_colours import get_af_colours  # noqa: E402

# The Analysis Function's palettes and matplotlib style (afcharts), set for a printed 16 cm column: the
# figure is that wide and no text is smaller than 9 pt at that size.
DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, GREY_TEXT = get_af_colours("categorical", number_of_colours=5)
SEQUENTIAL = tuple(reversed(get_af_colours("sequential", number_of_colours=3)))  # light to dark
#: Chart width [inches]: inside a 16 cm column, with room for labels at the edges.
WIDTH = 15.5 / 2.54
TEXT_PT, TITLE_PT = 9, 11
#: The house style: afcharts' matplotlib style with the sizes for print. Applied around each chart (see
#: :func:`_styled`), never to the process, so a notebook's own plots keep their style.
STYLE = ["afcharts.afcharts",
         {"font.size": TEXT_PT, "axes.titlesize": TITLE_PT, "axes.titleweight": "bold", "axes.labelsize": TEXT_PT,
          "xtick.labelsize": TEXT_PT, "ytick.labelsize": TEXT_PT, "legend.fontsize": TEXT_PT,
          "figure.titlesize": TITLE_PT, "axes.spines.left": True,
          # SVG text stays text (a tenth of the size, searchable, read by screen readers); a fixed salt for the
          # SVG's element ids, so the same chart gives the same file.
          "svg.fonttype": "none", "svg.hashsalt": "fsp-risk"}]


def _styled(draw):
    """Draw a chart in the house style (and only it)."""
    @functools.wraps(draw)
    def styled(*args, **kwargs):
        with plt.style.context(STYLE):
            return draw(*args, **kwargs)
    return styled


@dataclass(frozen=True)
class Rendering:
    """How charts are written: PNG at ``dpi`` for print and the web, plus SVG unless ``formats`` leaves it out;
    ``tight`` crops each to its contents (which draws it twice)."""

    dpi: int = 300
    formats: tuple[str, ...] = ("png", "svg")
    tight: bool = True


#: The rendering every chart uses. Runs keep the default; tests that do not look at the pictures swap in
#: a draft one (an uncropped PNG at low dpi), since drawing charts is most of a small run's time.
RENDERING = Rendering()


def save_figure(fig, folder: Path, name: str) -> list[Path]:
    """Write ``name`` into ``folder`` in each of :data:`RENDERING`'s formats (PNG at 300 dpi and SVG by
    default); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.{fmt}" for fmt in RENDERING.formats]
    with plt.style.context(STYLE):  # drawing happens here: in the style the figure was made in
        box = _laid_out(fig)
        for path in paths:
            # No creation date in the SVG, so a run or a report rebuilt from it gives the same bytes; PNG at
            # zlib level 1 (lossless; level 6 takes four times as long for files a fifth smaller).
            extra = {"metadata": {"Date": None}} if path.suffix == ".svg" else {"pil_kwargs": {"compress_level": 1}}
            fig.savefig(path, dpi=RENDERING.dpi, bbox_inches=box, **extra)
    plt.close(fig)
    return paths


def figure_png(fig, dpi: float = 110) -> bytes:
    """The figure as PNG bytes at ``dpi`` (a page's live chart), laid out as :func:`save_figure` lays it out."""
    with plt.style.context(STYLE):
        box = _laid_out(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches=box, pil_kwargs={"compress_level": 1})
    plt.close(fig)
    return buf.getvalue()


def _laid_out(fig):
    """Lay ``fig`` out once and fix it; returns its tight box (None unless :data:`RENDERING` asks for one).

    Titles, labels and ticks carry text from configs: drawn as typed, never parsed as TeX-like math (a '$'
    in a scenario title would otherwise fail the drawing after the whole simulation ran). Each savefig would
    otherwise lay the figure out and measure it again (four draws a format, not one).
    """
    for text in fig.findobj(matplotlib.text.Text):
        text.set_parse_math(False)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    return fig.get_tightbbox(fig.canvas.get_renderer()).padded(0.02) if RENDERING.tight else None


def _legend_top(ax, ncol: int = 2) -> int:
    """The legend in rows above the plot, under the title (inside the 16 cm width); returns its rows."""
    labels = [label for label in ax.get_legend_handles_labels()[1] if not label.startswith("_")]
    if not labels:
        return 0
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=ncol, frameon=False)
    return -(-len(labels) // ncol)


def _title(ax, title: str, legend_rows: int = 0) -> None:
    """The active title, at the chart's left edge above any legend rows, wrapped to the chart's width."""
    ax.figure.suptitle(textwrap.fill(title, 68), x=0, ha="left", fontweight="bold")


def _caption(fig, caption: str) -> None:
    """Measure, source and period under the chart, wrapped to its width."""
    fig.text(0, 0, _wrap(caption, fig.get_figwidth() * 72, TEXT_PT), fontsize=TEXT_PT, color=GREY_TEXT, ha="left",
             va="top")


def _wrap(text: str, width_pt: float, size_pt: float) -> str:
    """``text`` in lines no wider than ``width_pt`` at ``size_pt`` in the chart's font, breaking between words.

    Measured once a word (matplotlib's own ``wrap=True`` measures each line afresh at every draw: about a
    fifth of the time a run spends on its charts)."""
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(size=size_pt)
    renderer = _measurer()
    space = renderer.get_text_width_height_descent("a a", prop, ismath=False)[0] - \
        2 * renderer.get_text_width_height_descent("a", prop, ismath=False)[0]
    lines, line, used = [], [], 0.0
    for word in text.split():
        w = renderer.get_text_width_height_descent(word, prop, ismath=False)[0]
        # 2% to spare: a line measured word by word can be a little narrower than drawn whole (kerning)
        if line and (used + space + w) * 1.02 > width_pt:
            lines.append(" ".join(line))
            line, used = [], 0.0
        used += (space if line else 0.0) + w
        line.append(word)
    lines.append(" ".join(line))
    return "\n".join(lines)


@functools.cache
def _measurer():
    """A renderer at 72 dpi, so that text widths come out in points."""
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(1, 1, 72)


def _heat_title(table: pd.DataFrame) -> str:
    """What mitigation does to the risks, in the terms that moved: likelihood, size, or both."""
    likelier = table["res_row"] < table["inh_row"]
    smaller = table["res_col"] < table["inh_col"]
    moved, n = int((likelier | smaller).sum()), len(table)
    if moved == 0:
        return "Mitigation does not lower any risk's score"
    what = ("less likely" if not smaller.any() else "smaller" if not likelier.any() else "less likely or smaller")
    return f"Mitigation makes {moved} of {n} risks {what}"


@_styled
def risk_heat_map(table: pd.DataFrame, bands: tuple[str, ...], caption: str):
    """Probability band x impact score, each risk before (circle) and after (square) mitigation.

    ``table`` is :func:`fsp_risk.analysis.register.risk_table`'s output. Returns the figure.
    """
    n_bands = len(bands)
    scores = np.arange(1, 6)
    band_index = {b: i for i, b in enumerate(bands)}
    t = table.copy()
    t["inh_row"] = t["simulated_probability_band"].map(band_index)
    t["res_row"] = t["residual_probability_band"].map(band_index)
    t["inh_col"] = t["simulated_impact_score"].clip(1, 5) - 1
    t["res_col"] = t["residual_impact_score"].clip(1, 5) - 1
    t["inherent_rating"] = (t["inh_row"] + 1) * (t["inh_col"] + 1)
    t["residual_rating"] = (t["res_row"] + 1) * (t["res_col"] + 1)

    fig, ax = plt.subplots(figsize=(WIDTH, 4.32), layout="constrained")
    rating = (np.arange(n_bands)[:, None] + 1) * (scores[None, :])
    edges = np.array([0, n_bands * 5 / 4, n_bands * 5 / 2, np.inf])  # low, medium, high rating thirds
    for r in range(n_bands):
        for c in range(5):
            level = int(np.searchsorted(edges, rating[r, c], side="right") - 1)
            ax.add_patch(plt.Rectangle((c, r), 1, 1, facecolor=SEQUENTIAL[level], edgecolor="white", linewidth=2,
                                       alpha=0.35 + 0.2 * level))
    # Several markers can share a cell: spread them over slots inside it. Slots are handed out across
    # before and after markers together, so a risk's square never lands on another risk's circle.
    offsets = [(0.5, 0.5), (0.25, 0.75), (0.75, 0.25), (0.25, 0.25), (0.75, 0.75), (0.5, 0.2), (0.5, 0.8)]
    seen: dict[tuple[int, int], int] = {}

    def slot(row, col):
        k = seen.get((row, col), 0)
        seen[(row, col)] = k + 1
        dx, dy = offsets[k % len(offsets)]
        return col + dx, row + dy

    for r in t.itertuples():
        same = (r.inh_row, r.inh_col) == (r.res_row, r.res_col)
        x0, y0 = slot(r.inh_row, r.inh_col)
        x1, y1 = (x0, y0) if same else slot(r.res_row, r.res_col)
        rid = r.risk
        if same:
            x0, x1 = x0 - 0.1, x1 + 0.1  # unchanged: both markers, side by side in one slot
        else:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="->", color=GREY_TEXT, lw=1.4, shrinkA=7, shrinkB=7))
        ax.plot(x0, y0, "o", ms=13, color=ORANGE, markeredgecolor="black", zorder=3)
        ax.plot(x1, y1, "s", ms=12, color="white", markeredgecolor=DARK_BLUE, markeredgewidth=2, zorder=3)
        ax.annotate(rid, (x0, y0), xytext=(-9, 7), textcoords="offset points", ha="right", fontsize=10,
                    fontweight="bold", color="black", zorder=4)
        if not same:  # one label serves a risk whose markers sit side by side
            ax.annotate(rid, (x1, y1), xytext=(-9, -13), textcoords="offset points", ha="right", fontsize=TEXT_PT,
                        color=DARK_BLUE, zorder=4)
    ax.set_xlim(0, 5)
    ax.set_ylim(0, n_bands)
    ax.set_xticks(np.arange(5) + 0.5, [str(s) for s in scores])
    ax.set_yticks(np.arange(n_bands) + 0.5, list(bands))
    ax.set_xlabel("Impact score (from the simulated £ impact when the risk occurs)")
    ax.set_ylabel("Probability over the horizon")
    ax.plot([], [], "o", ms=10, color=ORANGE, markeredgecolor="black", label="Before mitigation")
    ax.plot([], [], "s", ms=10, color="white", markeredgecolor=DARK_BLUE, markeredgewidth=2, label="After mitigation")
    _title(ax, _heat_title(t), _legend_top(ax))
    ax.grid(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _caption(fig, caption)
    return fig


# --------------------------------------------------------------------------- money formatting
def money_scale(values) -> tuple[float, str]:
    """One scale for a whole chart: £m when any value reaches £1m, else £k."""
    peak = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    return (1e6, "£m") if peak >= 1e6 else (1e3, "£k")


def _money_axis(ax, scale: float, unit: str, axis: str = "y") -> None:
    def label(v, _):
        x = abs(v) / scale
        digits = 1 if unit == "£m" and abs(x - round(x)) > 1e-9 else 0  # £2.5m, but £5m, not £5.0m
        return f"{'−' if v < 0 else ''}£{x:,.{digits}f}{unit[1:]}"  # a true minus sign

    fmt = matplotlib.ticker.FuncFormatter(label)
    target = ax.yaxis if axis == "y" else ax.xaxis
    # Ticks at 1, 2 or 5 times a power of ten of the unit, so one decimal (£m) or none (£k) shows them
    # exactly: no £0.25m tick printed as "£0.2m".
    target.set_major_locator(_MoneyLocator(scale))
    target.set_major_formatter(fmt)


class _MoneyLocator(matplotlib.ticker.MaxNLocator):
    """Tick steps of 1, 2 or 5 x 10^k in units of ``scale`` (k >= -1 for £m, k >= 0 for £k)."""

    def __init__(self, scale: float):
        super().__init__(nbins="auto", steps=[1, 2, 5, 10])
        self.scale = scale

    def tick_values(self, vmin, vmax):
        ticks = super().tick_values(vmin / self.scale, vmax / self.scale)
        step = np.min(np.diff(ticks)) if len(ticks) > 1 else 1.0
        smallest = 0.1 if self.scale >= 1e6 else 1.0
        if step < smallest:  # too fine to print at this precision: coarser ticks
            ticks = np.arange(np.floor(vmin / self.scale / smallest), np.ceil(vmax / self.scale / smallest) + 1) * smallest
        return ticks * self.scale


def _finish(fig, ax, title: str, caption: str, legend: bool = False):
    """Active title, light grid and open frame, the legend right of the plot, and the caption below."""
    _tidy(ax)
    _title(ax, title, _legend_top(ax) if legend else 0)
    _caption(fig, caption)
    return fig


def _tidy(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#BFBFBF", linewidth=0.6)
    ax.set_axisbelow(True)


# --------------------------------------------------------------------------- net savings charts
def _actuals(ax, actual) -> None:
    """Actual outcomes as black diamonds in the legend as "Actual" (``actual``: {year position: value})."""
    if not actual:
        return
    xs, ys = zip(*sorted(actual.items()))
    ax.plot(xs, ys, "D", color="black", markersize=7, markeredgecolor="white", zorder=5, label="Actual")


@_styled
def fan_chart(years, pct: dict[int, np.ndarray], p_met: np.ndarray, title: str, caption: str, actual=None):
    """Net savings by year: P10-P90 and P25-P75 bands, the median, and the MTFP target (zero).

    ``pct`` maps 10, 25, 50, 75, 90 to arrays over ``years`` [GBP]; ``p_met`` is the chance each year's
    target is met. Net savings of zero or more meet the target. ``actual`` maps year positions to
    actual net savings, drawn as diamonds (a backtest).
    """
    x = np.arange(len(years))
    scale, unit = money_scale(np.concatenate([pct[10], pct[90]]))
    fig, ax = plt.subplots(figsize=(WIDTH, 3.84), layout="constrained")
    ax.fill_between(x, pct[10], pct[90], color=SEQUENTIAL[0], alpha=0.55, linewidth=0, label="10th to 90th percentile")
    ax.fill_between(x, pct[25], pct[75], color=SEQUENTIAL[1], alpha=0.65, linewidth=0, label="25th to 75th percentile")
    ax.plot(x, pct[50], color=DARK_BLUE, linewidth=2.4, marker="o", label="Median")
    ax.axhline(0, color=ORANGE, linewidth=2, linestyle="--", label="MTFP target (net savings of zero)")
    _actuals(ax, actual)
    for xi, p in zip(x, p_met):
        ax.annotate(f"{p:.0%}", (xi, pct[90][xi]), xytext=(0, 6), textcoords="offset points", ha="center",
                    fontsize=TEXT_PT, color=GREY_TEXT)
    ax.set_xticks(x, list(years))
    _money_axis(ax, scale, unit)
    ax.set_ylabel(f"Net savings against the MTFP ({unit})")
    _tidy(ax)
    _title(ax, title, _legend_top(ax))
    _caption(fig, "Percentages above the bands: the chance that year's MTFP target is met. " + caption)
    return fig


@_styled
def s_curve(total: np.ndarray, title: str, caption: str):
    """Cumulative distribution of total net savings with the target, the P50 and the 80%-confidence level.

    ``total`` is net savings over the horizon per iteration [GBP]. The 80%-confidence level is the
    20th percentile of net savings: savings exceed it in 80% of outcomes (the P80 of the pressure).
    """
    n = total.size
    if n > 2_001:  # 2,001 order statistics draw the same curve; millions of points would swell the SVG
        keep = np.linspace(0, n - 1, 2_001).astype(int)
        s, prob = np.partition(total, keep)[keep], (keep + 1) / n  # no whole sorted copy and its probabilities
    else:
        s, prob = np.sort(total), np.arange(1, n + 1) / n
    scale, unit = money_scale(s[[0, -1]])
    p50, p20 = np.percentile(total, [50, 20])
    fig, ax = plt.subplots(figsize=(WIDTH, 3.84), layout="constrained")
    ax.plot(s, prob, color=DARK_BLUE, linewidth=2.4)
    ax.axvline(0, color=ORANGE, linewidth=2, linestyle="--")
    ax.annotate("MTFP target", (0, 0.03), xytext=(5, 0), textcoords="offset points", color=GREY_TEXT)
    for value, q, label, style in ((p50, 0.5, "P50", "-"), (p20, 0.2, "P80, no worse in 80%", ":")):
        ax.plot([s[0], value], [q, q], color=GREY_TEXT, linewidth=1, linestyle=style)
        ax.plot(value, q, "o", color=DARK_BLUE, markersize=6)
        words = f"{format_money(abs(value))} {'saving' if value >= 0 else 'pressure'}"
        ax.annotate(f"{label}: {words}", (value, q), xytext=(-8, 4), textcoords="offset points",
                    fontsize=TEXT_PT, color=GREY_TEXT, ha="right", va="bottom")
    _money_axis(ax, scale, unit, axis="x")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(f"Total net savings over the horizon ({unit})")
    ax.set_ylabel("Chance net savings are at most this")
    return _finish(fig, ax, title, caption)


def _finish_bars(fig, ax, title: str, caption: str, xlabel: str):
    """Axis label, active title, open frame and caption of a horizontal bar chart."""
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)  # bars run across: gridlines down the value axis only
    ax.grid(axis="x", visible=True, color="0.8", linewidth=0.6)
    _title(ax, title, _legend_top(ax, ncol=1))  # one column: long row labels push the plot right
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _caption(fig, caption)
    return fig


@_styled
def tornado(table: pd.DataFrame, median: float, title: str, caption: str, top: int = 10):
    """The inputs that swing the total net change to the MTFP most, in £: for each, the median net change
    when the input is in its lowest tenth (light bar) and its highest tenth (dark bar), from the run's
    median (the vertical line). Largest swing at the top; the two tenths differ in shade and hatching,
    so they read in greyscale too."""
    t = table.reindex(table["swing"].abs().sort_values(ascending=False).index).head(top).iloc[::-1]
    k = np.arange(len(t))
    scale, unit = money_scale(np.concatenate([t["net_change_p50_input_low"], t["net_change_p50_input_high"],
                                              [median]]))
    fig, ax = plt.subplots(figsize=(WIDTH, (0.75 * len(t) + 2.0) * 0.8), layout="constrained")
    low, high = t["net_change_p50_input_low"] - median, t["net_change_p50_input_high"] - median
    ax.barh(k, low, left=median, height=0.6, color=SEQUENTIAL[0], edgecolor="black", linewidth=0.6, hatch="///",
            label="Input in its lowest tenth")
    ax.barh(k, high, left=median, height=0.6, color=DARK_BLUE, edgecolor="black", linewidth=0.6,
            label="Input in its highest tenth")
    ax.axvline(median, color="black", linewidth=0.8)
    for kk, v in zip(k, t["swing"]):
        ax.annotate(f"{format_money(abs(v))} swing", (max(t["net_change_p50_input_low"].iloc[kk],
                                                         t["net_change_p50_input_high"].iloc[kk]), kk),
                    xytext=(4, 0), textcoords="offset points", ha="left", va="center", fontsize=TEXT_PT,
                    color=GREY_TEXT)
    ax.set_yticks(k, [textwrap.fill(title_, 30) for title_ in t["title"]], fontsize=TEXT_PT)
    _money_axis(ax, scale, unit, axis="x")
    values = np.concatenate([t["net_change_p50_input_low"], t["net_change_p50_input_high"], [median]])
    lo, hi = float(values.min()), float(values.max())
    span = max(hi - lo, 1.0)
    ax.set_xlim(lo - 0.05 * span, hi + 0.45 * span)  # room inside the chart for the swing labels
    return _finish_bars(fig, ax, title, caption, f"Median total net change to the MTFP ({unit}; positive = pressure)")


@_styled
def grouped_tornado(table: pd.DataFrame, title: str, caption: str, top: int = 12):
    """Horizontal bars of what each driver group or risk adds to the P80 of total net change [GBP].

    Groups whose uncertainty raises the P80 pressure are dark blue and solid; those that lower it
    (their central value is a bad case) orange and hatched, so the direction reads in greyscale too.
    """
    t = table.head(top).iloc[::-1]
    values = t["adds_to_p80"].to_numpy(float)
    scale, unit = money_scale(values)
    fig, ax = plt.subplots(figsize=(WIDTH, (0.55 * len(t) + 1.9) * 0.8), layout="constrained")
    bars = ax.barh(np.arange(len(t)), values, color=[DARK_BLUE if v >= 0 else ORANGE for v in values],
                   edgecolor="black", linewidth=0.6)
    for bar, v in zip(bars, values):
        bar.set_hatch("" if v >= 0 else "///")
    for k, v in enumerate(values):
        # Every label to the right of its bar's outer end or of zero, clear of the category labels.
        ax.annotate(format_money(v), (max(v, 0.0), k), xytext=(4, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=TEXT_PT, color=GREY_TEXT)
    ax.set_yticks(np.arange(len(t)), [textwrap.fill(g, 30) for g in t["group"]], fontsize=TEXT_PT)
    ax.axvline(0, color="black", linewidth=0.8)
    lim = max(float(np.abs(values).max()), 1.0)
    low = min(float(values.min()) * 1.15, -lim * 0.05) if (values < 0).any() else -lim * 0.03
    ax.set_xlim(low, max(float(values.max()), 0.0) + lim * 0.18)
    _money_axis(ax, scale, unit, axis="x")
    return _finish_bars(fig, ax, title, caption,
                        f"Added to the P80 net change ({unit}; + raises the pressure)")


@_styled
def total_effects(years, effects: dict[str, np.ndarray], title: str, caption: str):
    """Total-effect Sobol' indices by year, one line per factor (at most four): which uncertainty matters when.

    ``effects`` maps a factor's label to its index in each of ``years`` (0 to 1; NaN where a year has no
    variance). Each line has its own colour, marker and dash, and is labelled at its right end, so it reads
    without the legend and in greyscale.
    """
    x = np.arange(len(years))
    fig, ax = plt.subplots(figsize=(WIDTH, 3.84), layout="constrained")
    looks = ((DARK_BLUE, "-", "o"), (TURQUOISE, "--", "s"), (DARK_PINK, "-.", "D"), (ORANGE, ":", "^"))
    ends = []
    for (label, values), (colour, dash, marker) in zip(effects.items(), looks):
        v = np.asarray(values, float) * 100
        ax.plot(x, v, dash, marker=marker, color=colour, linewidth=2, markersize=6, label=label)
        last = int(np.flatnonzero(np.isfinite(v))[-1]) if np.isfinite(v).any() else None
        if last is not None:
            ends.append([v[last], label, colour, last])
    # Right-end labels kept apart by at least 6 points of the axis, in the lines' order on the page.
    ends.sort(key=lambda e: e[0])
    for i in range(1, len(ends)):
        ends[i][0] = max(ends[i][0], ends[i - 1][0] + 6)
    for y, label, colour, last in ends:
        ax.annotate(textwrap.fill(label, 22), (x[-1], y), xytext=(8, 0), textcoords="offset points", va="center",
                    ha="left", fontsize=TEXT_PT, color=colour)
    ax.set_xticks(x, list(years))
    ax.set_xlim(-0.2, len(years) - 1 + 0.9)
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_ylabel("Share of the year's uncertainty (total effect)")
    return _finish(fig, ax, title, caption)


@_styled
def waterfall(labels, start: float, changes, end: float, title: str, caption: str, axis_label: str):
    """A horizontal bridge from ``start`` to ``end`` through ``changes`` [GBP], top to bottom.

    The first and last bars are totals (grey, from zero); a change that raises the pressure is orange
    and hatched, one that lowers it dark blue and solid, so the direction reads in greyscale too.
    ``labels`` name the start, each change and the end.
    """
    changes = np.asarray(changes, dtype=float)
    n = len(changes) + 2
    left = np.concatenate([[0.0], start + np.concatenate([[0.0], np.cumsum(changes)[:-1]]), [0.0]])
    width = np.concatenate([[start], changes, [end]])
    scale, unit = money_scale(np.concatenate([[start, end], start + np.cumsum(changes)]))
    fig, ax = plt.subplots(figsize=(WIDTH, (0.55 * n + 1.9) * 0.8), layout="constrained")
    y = np.arange(n)[::-1]
    colours = ["#BFBFBF"] + [ORANGE if c > 0 else DARK_BLUE for c in changes] + ["#BFBFBF"]
    bars = ax.barh(y, width, left=left, color=colours, edgecolor="black", linewidth=0.6)
    for k, bar in enumerate(bars):
        if 0 < k < n - 1 and changes[k - 1] > 0:
            bar.set_hatch("///")
    for k in range(n):
        value = width[k]
        text = format_money(value) if k in (0, n - 1) else ("+" if value > 0 else "") + format_money(value)
        x_end = max(left[k], left[k] + width[k])
        ax.annotate(text, (x_end, y[k]), xytext=(4, 0), textcoords="offset points", ha="left", va="center",
                    fontsize=TEXT_PT, color=GREY_TEXT)
    for k in range(n - 1):  # connectors between consecutive bars
        level = left[k] + width[k] if k < n - 1 else end
        ax.plot([level, level], [y[k] - 0.4, y[k + 1] + 0.4], color=GREY_TEXT, linewidth=0.6, linestyle=":")
    ax.set_yticks(y, [textwrap.fill(str(label), 30) for label in labels], fontsize=TEXT_PT)
    ax.axvline(0, color="black", linewidth=0.8)
    lo = min(0.0, float(np.min(left)), float(np.min(left + width)))
    hi = max(0.0, float(np.max(left)), float(np.max(left + width)))
    pad = 0.2 * max(hi - lo, 1.0)
    ax.set_xlim(lo - (0.05 * pad if lo < 0 else 0), hi + pad)
    _money_axis(ax, scale, unit, axis="x")
    return _finish_bars(fig, ax, title, caption, f"{axis_label} ({unit})")


@_styled
def demand_fan(years, as_is: dict[int, np.ndarray], fsp: dict[int, np.ndarray], plan: np.ndarray, measure: str,
               title: str, caption: str, actual=None):
    """A demand measure as is and with FSP (median and P10-P90 band each) against the planned trajectory.

    ``as_is`` and ``fsp`` map 10, 50 and 90 to arrays over ``years`` [children at 31 March]; ``plan``
    is the central case's with-FSP trajectory, the one the budget is built on. ``actual`` maps year
    positions to actual counts, drawn as diamonds (a backtest).
    """
    x = np.arange(len(years))
    fig, ax = plt.subplots(figsize=(WIDTH, 3.84), layout="constrained")
    ax.fill_between(x, as_is[10], as_is[90], color=ORANGE, alpha=0.18, hatch="//", edgecolor=ORANGE, linewidth=0,
                    label="As is: 10th to 90th percentile")
    ax.plot(x, as_is[50], color=ORANGE, linewidth=2.2, linestyle="--", marker="s", label="As is: median")
    ax.fill_between(x, fsp[10], fsp[90], color=SEQUENTIAL[0], alpha=0.5, linewidth=0,
                    label="With FSP: 10th to 90th percentile")
    ax.plot(x, fsp[50], color=DARK_BLUE, linewidth=2.4, marker="o", label="With FSP: median")
    ax.plot(x, plan, color="black", linewidth=1.4, linestyle=":", label="Planned trajectory (central case)")
    _actuals(ax, actual)
    ax.set_xticks(x, list(years))
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel(f"{measure} at 31 March")
    return _finish(fig, ax, title, caption, legend=True)


#: The share of outcomes at each end of a histogram counted in its end bar rather than drawn to scale.
HISTOGRAM_TAILS = 0.005


@_styled
def histogram(total: np.ndarray, title: str, caption: str,
              what: str = "Total net savings", zero: str = "MTFP target",
              median_words: tuple[str, str] = ("saving", "pressure")):
    """Histogram of a total over the horizon [GBP] with zero (by default the MTFP target) and the median marked;
    the median is labelled in words (``median_words``: what a positive and a negative value are).

    The axis spans the 0.5th to 99.5th percentiles (and zero): the rarest 1% of outcomes, which would
    stretch it to extremes no bar is tall enough to show, are counted in the end bars (:data:`HISTOGRAM_TAILS`)."""
    lo, hi = np.percentile(total, [100 * HISTOGRAM_TAILS, 100 * (1 - HISTOGRAM_TAILS)])
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale, unit = money_scale(np.array([lo, hi]))
    fig, ax = plt.subplots(figsize=(WIDTH, 3.84), layout="constrained")
    # Bars as shares of all outcomes, so ticks fall on round percentages (no "4%, 4%" from rounding counts).
    # Counted first (NumPy bins a large array a slice at a time), then drawn as 60 weighted bars: no weight per
    # outcome, which for 10,000,000 iterations is another 80 MB.
    counts, edges = np.histogram(np.clip(total, lo, hi), bins=np.linspace(lo, hi, 61))
    ax.hist(edges[:-1], bins=edges, weights=counts / total.size, color=SEQUENTIAL[1], edgecolor="white", linewidth=0.4)
    ax.axvline(0, color=ORANGE, linewidth=2, linestyle="--", label=zero)
    median = float(np.median(total))
    ax.axvline(median, color=DARK_BLUE, linewidth=2,
               label=f"Median: {format_money(abs(median))} {median_words[0] if median >= 0 else median_words[1]}")
    _money_axis(ax, scale, unit, axis="x")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=1))
    ax.set_xlabel(f"{what} ({unit}; positive = {median_words[0]})")
    ax.set_ylabel("Share of outcomes in each bar")
    return _finish(fig, ax, title, caption, legend=True)


@_styled
def scenario_ranges(table: pd.DataFrame, title: str, caption: str):
    """Each case's total net change over the horizon: P10 to P90 as a bar, P50 a circle, P80 a diamond [GBP].

    Rows top to bottom in the table's order; the MTFP target (zero) is a dashed line. Shapes, not
    colour, tell the statistics apart, so it reads in greyscale.
    """
    t = table.reset_index(drop=True)
    k = np.arange(len(t))[::-1]
    scale, unit = money_scale(t[["p10", "p90"]].to_numpy(float))
    fig, ax = plt.subplots(figsize=(WIDTH, (0.62 * len(t) + 2.0) * 0.8), layout="constrained")
    ax.barh(k, t["p90"] - t["p10"], left=t["p10"], height=0.45, color=SEQUENTIAL[0], edgecolor=DARK_BLUE,
            linewidth=0.6, label="P10 to P90")
    ax.plot(t["p50"], k, "o", color=DARK_BLUE, markersize=8, label="P50 (median)")
    ax.plot(t["p80"], k, "D", color=DARK_PINK, markersize=7, markeredgecolor="white",
            label="P80 (no worse in 80% of outcomes)")
    for kk, v in zip(k, t["p80"]):
        ax.annotate(format_money(v), (v, kk), xytext=(0, 9), textcoords="offset points", ha="center",
                    fontsize=TEXT_PT, color=GREY_TEXT)
    ax.axvline(0, color=ORANGE, linewidth=2, linestyle="--", label="MTFP target met at or below")
    # Each row by its short name (the title before its colon): the full titles are in the alt text and the
    # findings, and would not fit beside the bars.
    ax.set_yticks(k, [textwrap.fill(str(x).split(":")[0], 26) for x in t["title"]], fontsize=TEXT_PT)
    _money_axis(ax, scale, unit, axis="x")
    ax.grid(axis="x", color="#BFBFBF", linewidth=0.6)
    ax.set_axisbelow(True)
    lo, hi = float(t["p10"].min()), float(t["p90"].max())
    ax.set_xlim(min(lo, 0.0) - 0.05 * (hi - lo), max(hi, 0.0) + 0.05 * (hi - lo))  # every bar whole
    ax.grid(axis="y", visible=False)
    return _finish_bars(fig, ax, title, caption, f"Total net change to the MTFP ({unit}; positive = pressure)")


@_styled
def convergence(table: pd.DataFrame, title: str, caption: str):
    """Running P50 and P80 of the total net change against iterations, each with its 95% interval [GBP].

    P50 a solid line with circles, P80 a dashed line with diamonds, so they part in greyscale too.
    """
    n = table["iterations"].to_numpy()
    scale, unit = money_scale(table[["p50_low", "p80_high"]].to_numpy(float))
    fig, ax = plt.subplots(figsize=(WIDTH, 3.84), layout="constrained")
    for p, colour, style, marker in ((50, DARK_BLUE, "-", "o"), (80, DARK_PINK, "--", "D")):
        ax.fill_between(n, table[f"p{p}_low"], table[f"p{p}_high"], color=colour, alpha=0.18, linewidth=0,
                        label=f"P{p}: 95% interval")
        ax.plot(n, table[f"p{p}"], style, marker=marker, color=colour, linewidth=2, markersize=5, label=f"P{p}")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(n))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: f"{v / 1e6:g}m" if v >= 1e6 else (f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}")))
    ax.tick_params(axis="x", labelrotation=45 if len(n) > 8 else 0)
    _money_axis(ax, scale, unit)
    ax.set_xlabel("Iterations (log scale)")
    ax.set_ylabel(f"Total net change to the MTFP ({unit})")
    return _finish(fig, ax, title, caption, legend=True)


@_styled
def pit_histogram(pits: dict[str, np.ndarray], title: str, caption: str, bins: int = 10):
    """Probability integral transforms of hindcast outcomes, one bar series per measure: a calibrated
    forecast gives flat bars at 1/bins; a U shape means ranges too narrow, a hump too wide."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.52), layout="constrained")
    edges = np.linspace(0, 1, bins + 1)
    width = 1.0 / bins / (len(pits) + 0.5)
    colours = (DARK_BLUE, ORANGE, TURQUOISE, DARK_PINK)
    hatches = ("", "//", "..", "xx")
    for k, (label, pit) in enumerate(pits.items()):
        shares = np.histogram(pit, bins=edges)[0] / max(len(pit), 1)
        ax.bar(edges[:-1] + (k + 0.25) * width, shares, width=width, align="edge", color=colours[k % 4],
               hatch=hatches[k % 4], edgecolor="white", linewidth=0.4, label=f"{label} ({len(pit)} hindcasts)")
    ax.axhline(1.0 / bins, color="black", linewidth=1.2, linestyle="--", label="A calibrated forecast")
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_locator(matplotlib.ticker.MultipleLocator(0.05))  # whole percentages only
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Where the outcome fell in its forecast (percentile)")
    ax.set_ylabel("Share of hindcasts")
    return _finish(fig, ax, title, caption, legend=True)
