"""What changed since the last report: the movement in P50 and P80 attributed to each change.

Two run folders are compared through the configs stored in their ``results.nc``. Starting from the old
config, the changes (each input of the assumption book, each cost, saving or funding line, each other
section) are applied one at a time, in the order the new config lists them, and the model is re-run
after each on the old run's random numbers (common random numbers), so each step measures its own
change and no sampling noise. The steps form a bridge (waterfall) that adds up exactly: from the
stored old result, through a re-run of the old config with this version of fsp-risk (non-zero only if
the model changed), each change, and finally the change of random numbers (seed, iterations or
sampler), to the stored new result. A sequential bridge depends on the order of the steps when
changes interact; the order is stated with it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from fsp_risk.config import Config, parse_config
from fsp_risk.errors import ConfigError
from fsp_risk.outputs.escape import markdown, write_csv

#: Fields that document a number but do not change it: edits to them are not changes to the result.
METADATA = frozenset({"title", "short", "units", "source", "owner", "evidence", "date", "review", "go_live_source",
                      "name", "council", "papers", "schema_version"})
#: Sections compared item by item (each named entry is its own change); others are compared whole.
ITEMISED = ("inputs", "costs", "savings", "funding")
#: Sections that never change the numbers of a run: run settings are taken from the stored results, and
#: scenarios run beside the main result without changing it.
IGNORED = ("name", "title", "council", "papers", "schema_version", "run", "scenarios")


@dataclass(frozen=True)
class Run:
    folder: Path
    config: Config
    data: dict
    total: np.ndarray  # total net change to the MTFP per iteration [GBP]
    seed: int
    sampler: str
    iterations: int


def load_run(folder: str | Path) -> Run:
    """A run folder's config (from its results.nc) and its total net change per iteration."""
    from fsp_risk.app.results import open_results

    folder = Path(folder)
    with open_results(folder, needs=("net_change_to_mtfp",)) as (ds, config):
        total = ds["net_change_to_mtfp"].sum("year").values
        attrs = dict(ds.attrs)
    return Run(folder, config, yaml.safe_load(attrs["config_text"]), total, int(attrs["seed"]),
               str(attrs["sampler"]), int(attrs["iterations"]))


def _numbers(obj):
    """``obj`` without its documentation fields: what the model reads."""
    if isinstance(obj, dict):
        return {k: _numbers(v) for k, v in obj.items() if k not in METADATA}
    if isinstance(obj, list):
        return [_numbers(v) for v in obj]
    return obj


def _flat(obj, prefix: str = "") -> dict[str, object]:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj}


def _show(v) -> str:
    if isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool)):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"
    return "none" if v is None else str(v)


def describe(old, new, limit: int = 3) -> str:
    """The changed values of one entry, like ``mode 0.1 to 0.08``."""
    a, b = _flat(_numbers(old or {})), _flat(_numbers(new or {}))
    diffs = [f"{k} {_show(a.get(k))} to {_show(b.get(k))}" for k in dict.fromkeys([*b, *a]) if a.get(k) != b.get(k)]
    more = f" and {len(diffs) - limit} more" if len(diffs) > limit else ""
    return ", ".join(diffs[:limit]) + more


def changes(old: dict, new: dict) -> list[tuple[tuple[str, ...], str]]:
    """The changes from one config's data to another's: (key path, description), in the new config's order.

    Inputs and cost, saving and funding lines are compared entry by entry; other sections whole. Edits
    only to sources, titles, owners or dates are not changes.
    """
    out = []
    keys = list(dict.fromkeys([*new, *old]))
    for key in keys:
        if key in IGNORED:
            continue
        a, b = old.get(key), new.get(key)
        if key in ITEMISED and isinstance(a, dict) and isinstance(b, dict):
            for name in dict.fromkeys([*b, *a]):
                ea, eb = a.get(name), b.get(name)
                if _numbers(ea) == _numbers(eb):
                    continue
                title = (eb or ea).get("title", name) if isinstance(eb or ea, dict) else name
                kind = key[:-1] if key.endswith("s") else key
                if ea is None or eb is None:
                    label = f"{kind} {name} ({title}) {'added' if ea is None else 'removed'}"
                else:
                    label = f"{kind} {name} ({title}): {describe(ea, eb)}"
                out.append(((key, str(name)), label))
        elif _numbers(a) != _numbers(b):
            if a is None or b is None:
                out.append(((key,), f"section {key} {'added' if a is None else 'removed'}"))
            else:
                out.append(((key,), f"{key}: {describe(a, b)}"))
    return out


def _apply(data: dict, path: tuple[str, ...], new: dict) -> None:
    source, target = new, data
    for k in path[:-1]:
        source, target = source[k], target.setdefault(k, {})
    if path[-1] in source:
        target[path[-1]] = copy.deepcopy(source[path[-1]])
    else:
        target.pop(path[-1], None)


def _totals(config: Config, iterations: int, seed: int, sampler: str) -> np.ndarray:
    from fsp_risk.engine.blocks import central_net_savings
    from fsp_risk.engine.simulate import net_change_totals

    if sampler == "central":  # a deterministic run: the central case
        return np.array([-float(central_net_savings(config).sum())])
    return net_change_totals(config, iterations, seed, sampler)


def bridge(old: Run, new: Run) -> pd.DataFrame:
    """The steps from the old run's P50 and P80 of total net change to the new run's [GBP].

    Columns: ``step`` (description), ``kind`` (start, model, change, random numbers, end), ``p50``
    and ``p80`` after the step, and ``p50_change`` and ``p80_change`` due to it.
    """
    def row(step, kind, total):
        p50, p80 = np.percentile(total, [50, 80])
        return {"step": step, "kind": kind, "p50": p50, "p80": p80}

    from fsp_risk.engine.blocks import reusing_draws

    with reusing_draws():  # steps that leave the inputs alone re-run on the same draws: made once
        return _bridge(old, new, row)


def _bridge(old: Run, new: Run, row) -> pd.DataFrame:
    n, seed, sampler = old.iterations, old.seed, old.sampler
    rows = [row(f"Last report: {old.folder.name}", "start", old.total)]
    rows.append(row("Re-run of the last report's config with this version of fsp-risk", "model",
                    _totals(old.config, n, seed, sampler)))
    data, pending = copy.deepcopy(old.data), []
    todo = changes(old.data, new.data)
    for k, (path, label) in enumerate(todo):
        _apply(data, path, new.data)
        pending.append(label)
        try:
            config = parse_config(yaml.safe_dump(data, sort_keys=False), file=f"{new.folder} (step {len(rows) - 1})",
                                  attachments={**old.config.attachments, **new.config.attachments})
        except ConfigError:
            if k < len(todo) - 1:
                continue  # not valid alone (e.g. a new input and the line that uses it): take with the next change
            config = new.config
        rows.append(row("; ".join(pending), "change", _totals(config, n, seed, sampler)))
        pending = []
    settings = [f"{name} {a} to {b}" for name, a, b in (("seed", old.seed, new.seed),
                                                       ("iterations", f"{old.iterations:,}", f"{new.iterations:,}"),
                                                       ("sampler", old.sampler, new.sampler)) if a != b]
    rows.append(row("Random numbers: " + ("; ".join(settings) if settings else "unchanged"), "random numbers",
                    new.total))
    rows.append(row(f"This report: {new.folder.name}", "end", new.total))
    table = pd.DataFrame(rows)
    for p in ("p50", "p80"):
        table[f"{p}_change"] = table[p].diff().fillna(0.0)
        table.loc[table["kind"] == "end", f"{p}_change"] = 0.0
    money = ["p50", "p80", "p50_change", "p80_change"]
    table[money] = table[money].round(2)
    return table


def write_comparison(old_dir: str | Path, new_dir: str | Path, out_root: str | Path = "outputs") -> Path:
    """Write ``compare.csv``, ``compare.md`` and waterfall charts of P50 and P80 to a new folder under ``out_root``."""
    from fsp_risk.app.folders import StagedFolder, utc_stamp
    from fsp_risk.outputs import plots
    from fsp_risk.outputs.formatting import format_money, lower_first

    old, new = load_run(old_dir), load_run(new_dir)
    table = bridge(old, new)
    steps = table[~table["kind"].isin(["start", "end"])]
    lines = [f"# What changed: {markdown(old.folder.name)} to {markdown(new.folder.name)}", ""]
    charts = []
    for p, label in (("p80", "P80"), ("p50", "P50")):
        start, end = float(table[p].iloc[0]), float(table[p].iloc[-1])
        moved = end - start
        biggest = steps.loc[steps[f"{p}_change"].abs().idxmax()] if len(steps) else None
        direction = "rose" if moved > 0 else "fell" if moved < 0 else "did not move"
        title = f"The {label} pressure {direction}" + (f" by {format_money(abs(moved))}" if moved else "")
        caption = (f"{label} of the total net change to the MTFP (positive = pressure) in the last report and this one, "
                   "and the movement due to each change, applied one at a time in the order listed on the last "
                   f"report's {old.iterations:,} random draws (common random numbers); changes that interact "
                   "would split differently in another order. Source: fsp-risk compare.")
        fig = plots.waterfall(["Last report"] + list(steps["step"]) + ["This report"], start,
                              steps[f"{p}_change"].to_numpy(float), end, title, caption,
                              f"{label} of total net change to the MTFP")
        charts.append((f"waterfall_{p}", title, fig))
        main = ""
        if biggest is not None and biggest[f"{p}_change"] != 0:
            main = (f" The largest single movement, {format_money(float(biggest[f'{p}_change']))}, comes from "
                    f"{lower_first(biggest['step'])}.")
        lines.append(markdown(f"The {label} of the total net change to the MTFP {direction} from "
                              f"{format_money(start)} to {format_money(end)}.{main}"))
        lines.append("")
    lines += ["## Steps", ""]
    for r in steps.itertuples():
        lines.append(f"- {markdown(r.step)}: P50 {format_money(r.p50_change)}, P80 {format_money(r.p80_change)}")
    lines += ["", "## Charts and alt text", ""]
    with StagedFolder(out_root, f"compare-{old.config.name}-{utc_stamp()}") as staged:
        write_csv(table, staged.tmp / "compare.csv")
        for name, title, fig in charts:
            plots.save_figure(fig, staged.tmp / "charts", name)
            p = name.split("_")[1]
            parts = [f"{lower_first(r.step)} {format_money(getattr(r, f'{p}_change'))}" for r in steps.itertuples()
                     if getattr(r, f"{p}_change") != 0]
            alt = (f"Waterfall chart of the {p.upper()} of the total net change to the MTFP from "
                   f"{format_money(float(table[p].iloc[0]))} to {format_money(float(table[p].iloc[-1]))}: "
                   + ("; ".join(parts) if parts else "no step moves it") + ".")
            lines += [f"- `charts/{name}.png` — **{markdown(title)}**  ", f"  Alt text: {markdown(alt)}"]
        (staged.tmp / "compare.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return staged.final
