"""What a run hands its readers, rendered from its stored results and analyses: tables for finance (CSV
and the workbook), charts and quotable findings for a cabinet paper, and one HTML page. Rendering never
computes an analysis or runs the model: :func:`fsp_risk.analysis.run.analyse` did that once.
"""
from __future__ import annotations

import multiprocessing
import sys
import threading
from pathlib import Path
from typing import Callable

import pandas as pd
import xarray as xr

from fsp_risk.config import Config
from fsp_risk.outputs import charts as draw
from fsp_risk.outputs import findings
from fsp_risk.outputs.charts import Chart
from fsp_risk.outputs.escape import write_csv

#: The analyses written as CSV, by table name (the file is ``<name>.csv``), in the order written.
CSV_TABLES = ("summary", "cumulative", "backtest", "switching_values", "sensitivity", "grouped_sensitivity",
              "variance_sensitivity", "convergence", "value_for_money", "scenarios", "risk_register", "risk_portfolio")


def write_outputs(ds: xr.Dataset, config: Config, folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write every table, chart, the workbook, the findings and the HTML report of a run into ``folder``
    (which must exist).

    ``tables`` are the run's analyses (:func:`fsp_risk.analysis.run.analyse`, as stored), the scenarios'
    among them: nothing here reads a run's per-iteration scenarios.
    """
    from fsp_risk.outputs.html import html_report
    from fsp_risk.outputs.workbook import write_workbook

    for name in CSV_TABLES:
        if name in tables:
            write_csv(tables[name], folder / f"{name}.csv")
    charts_dir = folder / "charts"
    backtest = tables.get("backtest")
    extra = [findings.money_over_time_sentence(ds, tables["summary"])]
    if backtest is not None:
        from fsp_risk.analysis.backtest import backtest_sentence

        extra.append(backtest_sentence(backtest))
    # Chart jobs in the order listed; True where a job reads per-iteration data from ds (drawn here), False
    # where it draws from the stored tables alone (drawn in a second process where that is safe).
    jobs: list[tuple[bool, Callable[[], list[Chart]]]] = [
        (True, lambda: draw.net_savings_charts(ds, config, charts_dir, backtest)),
        (True, lambda: draw.demand_charts(ds, config, charts_dir, tables["plan"], backtest))]
    if "sensitivity" in tables:
        jobs.append((True, lambda: [draw.tornado_chart(ds, config, charts_dir, tables["sensitivity"])]))
    if "grouped_sensitivity" in tables:
        jobs.append((False, lambda: [draw.grouped_tornado_chart(ds, config, charts_dir, tables["grouped_sensitivity"])]))
    if "variance_sensitivity" in tables:
        jobs.append((False, lambda: [draw.total_effects_chart(ds, config, charts_dir, tables["variance_sensitivity"])]))
        extra.append(findings.variance_sentence(ds, tables["variance_sensitivity"]))
    if "convergence" in tables:
        jobs.append((False, lambda: [draw.convergence_chart(ds, config, charts_dir, tables["convergence"])]))
        extra.append(findings.convergence_sentence(ds, tables["convergence"]))
    if "value_for_money" in tables:
        jobs.append((False, lambda: [draw.value_for_money_chart(ds, config, charts_dir, tables["value_for_money"],
                                                                tables["npv"]["npv"].to_numpy())]))
        extra.append(findings.value_for_money_sentence(ds, config, tables["value_for_money"]))
        extra.append(findings.target_and_value_for_money(tables["summary"], tables["value_for_money"]))
    if "scenarios" in tables:
        jobs.append((False, lambda: [draw.scenario_chart(ds, config, charts_dir, tables["scenarios"])]))
        improvement = tables["mtfp_improvement"]["improvement"].to_numpy() if "mtfp_improvement" in tables else None
        extra += findings.scenario_sentences(ds, tables["scenarios"], improvement)
    reserve = None
    if config.risk_register is not None:
        reserve = findings.reserve_statement(ds, config, tables["risk_portfolio"])
        (folder / "risk_reserve.txt").write_text(reserve + "\n", encoding="utf-8")
        extra.append(findings.reserve_and_contingency(config, tables["summary"], tables["risk_portfolio"]))
        extra += [x for x in [findings.register_differences(ds, tables["risk_register"])] if x]
        jobs.append((False, lambda: [draw.risk_heat_map_chart(ds, config, charts_dir, tables["risk_register"])]))
    charts = [c for drawn in render_charts(jobs, also=lambda: write_workbook(folder / "summary.xlsx", ds, config,
                                                                              tables)) for c in drawn]

    headline = findings.Headline.of(tables["summary"])
    (folder / "findings.md").write_text(findings.findings_text(ds, config, charts, reserve, extra, headline),
                                        encoding="utf-8")
    paragraphs = [findings.headline_paragraph(ds, config, headline), *([reserve] if reserve else []), *extra]
    (folder / "report.html").write_text(html_report(ds, config, folder, charts, paragraphs, tables), encoding="utf-8")


def render_charts(jobs: list[tuple[bool, Callable[[], list[Chart]]]], also: Callable[[], None] = lambda: None) -> list:
    """Each job's charts, in the jobs' order, and ``also()`` done meanwhile.

    Drawing is a third of a run's wait and matplotlib draws on one core. Where it is safe, a forked
    process (Linux, and no other thread in this one, whose locks a fork would copy mid-use) draws the
    jobs that read no per-iteration data (second element False: nothing from the results files, which
    stay with this process) while this one draws the rest and does ``also()``. Elsewhere, one after
    another. The files are the same bytes either way.
    """
    light = [i for i, (reads, _) in enumerate(jobs) if not reads]
    fork = "fork" in multiprocessing.get_all_start_methods() and sys.platform.startswith("linux")
    if not fork or len(light) < 2 or threading.active_count() > 1:
        out = [job() for _, job in jobs]
        also()
        return out
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("done", [jobs[i][1]() for i in light]))
        except BaseException as exc:  # sent back whole, to be raised here
            send.send(("failed", exc))

    proc = ctx.Process(target=child, name="fsp-risk-charts", daemon=True)
    proc.start()
    send.close()
    results: dict[int, list] = {}
    try:
        for i, (reads, job) in enumerate(jobs):
            if reads:
                results[i] = job()
        also()
        try:
            status, value = receive.recv()
        except EOFError:
            raise RuntimeError(f"the process drawing the charts stopped (exit code {proc.exitcode})") from None
    except BaseException:
        proc.terminate()
        raise
    finally:
        proc.join()
        receive.close()
    if status == "failed":
        raise value
    results.update(zip(light, value))
    return [results[i] for i in range(len(jobs))]
