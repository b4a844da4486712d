"""``fsp-risk calibrate``: the demand model fitted to published history and hindcast, written to a new
folder (tables, a chart and a summary) that appears only complete."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from fsp_risk.analysis.calibrate import calibrate
from fsp_risk.app.folders import StagedFolder, utc_stamp
from fsp_risk.config.history import MEASURE_NAMES, read_history
from fsp_risk.errors import ConfigError
from fsp_risk.outputs import plots
from fsp_risk.outputs.escape import write_csv


def write_calibration(history_path: str | Path, measures: tuple[str, ...], until: int | None,
                      out_root: str | Path, n_boot: int = 200) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Fit each measure on the history up to 31 March ``until`` (what a forecast made then could use),
    hindcast it, and write ``level_parameters.csv``, ``hindcasts.csv``, ``coverage.csv``,
    ``calibration.md`` and ``charts/pit`` to a new folder under ``out_root``."""
    history = read_history(history_path)
    known = sorted(history["measure"].unique())
    for m in measures:
        if m not in known:
            raise ConfigError(f"no history of {m!r}; the file has {', '.join(known)}", file=str(history_path),
                              path="--measures")
    params, hc, coverage = calibrate(history, measures, until, n_boot)
    label = f"until {until}" if until is not None else "all years"
    with StagedFolder(out_root, f"calibration-{until or 'all'}-{utc_stamp()}") as staged:
        write_csv(params.round(5), staged.tmp / "level_parameters.csv")
        write_csv(hc.round(4), staged.tmp / "hindcasts.csv")
        write_csv(coverage.round(4), staged.tmp / "coverage.csv")
        one = hc[hc["h"] == 1]
        inside = float(one["inside_80"].mean())
        title = f"{inside:.0%} of one-year outcomes fell inside P10–P90"
        caption = (f"Where each published count fell in the forecast made a year before it (probability integral "
                   f"transform), {len(one)} rolling-origin hindcasts of "
                   f"{', '.join(MEASURE_NAMES.get(m, m).lower() for m in measures)} for "
                   f"{hc['council'].nunique()} councils, parameters fitted on the other councils' history ({label}). "
                   f"Source: {Path(history_path).name} (DfE local-authority tables).")
        pits = {MEASURE_NAMES.get(m, m): g["pit"].to_numpy() for m, g in one.groupby("measure")}
        plots.save_figure(plots.pit_histogram(pits, title, caption), staged.tmp / "charts", "pit")
        lines = [f"# Demand calibration ({label})", "",
                 "| measure | years ahead | hindcasts | inside P10–P90 (aim 80%) | inside P25–P75 (aim 50%) | "
                 "mean P10–P90 width |", "|---|---|---|---|---|---|"]
        lines += [f"| {r.measure} | {r.h} | {r.hindcasts} | {r.inside_p10_p90:.0%} ± {r.inside_p10_p90_se:.0%} | "
                  f"{r.inside_p25_p75:.0%} | ±{r.mean_width_p10_p90 / 2:.0%} |" for r in coverage.itertuples()]
        lines += ["", "## Level parameters (log scale; standard errors from resampling councils)", ""]
        lines += [f"- {r.measure}: shock sd {r.sigma:.3f} (s.e. {r.sigma_se:.3f}), persistence {r.persistence:.2f} "
                  f"(s.e. {r.persistence_se:.2f}), drift sd {r.drift_sd:.3f} a year (s.e. {r.drift_sd_se:.3f}); "
                  f"{r.forecasts} forecasts from {r.councils} councils, {r.first_year}–{r.last_year}"
                  for r in params.itertuples()]
        lines += ["", f"- `charts/pit.png` — **{title}**", ""]
        (staged.tmp / "calibration.md").write_text("\n".join(lines), encoding="utf-8")
    return staged.final, params, coverage
