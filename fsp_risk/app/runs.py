"""A whole run, as 'fsp-risk run' makes it, from Python or the command line: simulate, the scenarios,
the analyses (once, stored), every output, in a new run folder that appears only complete."""
from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Callable

import xarray as xr

from fsp_risk.analysis.run import analyse
from fsp_risk.app.folders import StagedFolder, add_attrs, check_disk_space, run_folder_name, utc_stamp
from fsp_risk.app.partial import PartialRun
from fsp_risk.engine import store
from fsp_risk.engine.executors import release_memory
from fsp_risk.errors import ConfigError, ModelError

#: What a run folder keeps of its per-iteration data, beside its tables, analyses, charts and report:
#: "results" (the default) results.nc, each iteration's main figures, which 'report' and 'compare' read;
#: "all" also detail.nc (the breakdowns by line and risk, and figures computed exactly from results.nc)
#: and scenarios.nc (each scenario's net change); "summaries" none of it.
KEEP = ("results", "all", "summaries")
#: The files of each level of ``KEEP``, as the partial folder holds them.
KEPT_FILES = {"results": ("results.nc",), "all": ("results.nc", "detail.nc", "scenarios.nc"), "summaries": ()}
#: What a run folder's scenarios.nc keeps of each case: what the scenario analyses read. (Python callers
#: of simulate_scenarios get every variable.)
SCENARIO_VARIABLES = ("net_change_to_mtfp",)


def finish_run(ds: xr.Dataset, config, folder: Path, scenarios: xr.Dataset | None = None,
               phase: Callable[[str], None] = lambda name: None, kept: str = "results",
               step: Callable[[str], None] = lambda name: None) -> dict:
    """Analyse a run whose results are in ``folder`` once, store the analyses (``analysis.nc``), and write
    its tables, charts, workbook, report and ``run.json`` from what is stored; returns the analyses.
    ``phase(name)`` is called as each of the two phases starts, ``step(name)`` as each analysis does."""
    phase("analyses: summaries, sensitivity, switching values and what-if re-runs")
    analysis = folder / store.ANALYSIS_FILE
    store.write_tables(analysis, analyse(ds, config, scenarios, step), {"run_id": str(ds.attrs.get("run_id", ""))})
    tables = store.read_tables(analysis)  # rendered from the stored copy, exactly as 'fsp-risk report' will
    release_memory()  # the analyses' run-sized arrays are freed: hand them back before the charts
    phase("outputs: tables, charts, workbook, findings and report")
    from fsp_risk.outputs.report import write_outputs

    write_outputs(ds, config, folder, tables)
    meta = {k: ds.attrs[k] for k in ("config_name", "config_path", "config_sha256", "seed", "sampler", "iterations")}
    meta.update({k: ds.attrs[k] for k in ("run_id", "precision_target", "stop_reason") if k in ds.attrs})
    meta["kept"] = kept
    meta["created_utc"] = utc_stamp()
    meta["versions"] = {k[len("version_"):]: v for k, v in ds.attrs.items() if k.startswith("version_")}
    # Attributes read back from netCDF are NumPy scalars.
    text = json.dumps(meta, indent=2, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    (folder / "run.json").write_text(text + "\n", encoding="utf-8")
    return tables


def _import_outputs() -> None:
    """Import what the outputs need (matplotlib, afcharts, openpyxl) ahead of use."""
    try:
        for module in ("fsp_risk.outputs.report", "fsp_risk.outputs.workbook"):
            importlib.import_module(module)
    except Exception:  # imported again where used, which raises it there
        pass


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def run(config, *, out: str | Path = "outputs", iterations: int | None = None, seed: int | None = None,
        sampler: str | None = None, deterministic: bool = False, stresses: list[dict[str, float]] = (),
        actuals: str | Path | None = None, precision: str | None = None, workers: int | None = None,
        engine: str = "threads", scheduler: str | None = None, resume: bool = False,
        progress: Callable[[], Callable[[int, int], None]] | None = None,
        say: Callable[[str], None] = print, warn: Callable[[str], None] = _stderr,
        phase: Callable[[str], None] | None = None, summarise: Callable | None = None,
        keep: str = "results") -> tuple[Path, list[str]]:
    """A whole run, as ``fsp-risk run`` makes it: simulate, the scenarios and counterfactual, every table,
    chart and report, in a new folder under ``out``; returns the folder and ``summarise(ds, tables,
    config)``'s lines (none without it; ``tables`` the run's analyses), computed while the results are open.

    Bad input is refused before any work. Simulated blocks are kept in ``out/.partial`` as they are
    written, so an interrupted run continues with ``resume=True``; the run folder appears only complete.
    ``stresses`` are pinned inputs (:func:`fsp_risk.engine.scenarios.parse_stress`), ``actuals`` a CSV of outturns,
    ``precision`` a target such as "£50k" that sets the iterations. ``progress`` makes a progress
    callback for each simulation; ``say`` and ``warn`` take the lines a terminal shows on stdout and stderr,
    ``phase(name)`` the start of each phase (simulation, scenarios, analyses, outputs) and, where it has a
    ``step`` method (the command line's phase log), ``phase.step(name)`` each analysis within its phase. ``keep`` says which
    per-iteration files the folder keeps (:data:`KEEP`): "results" by default, "all" for the breakdowns and
    scenarios too, "summaries" none (a few megabytes a run, which 'fsp-risk report' and 'compare' cannot
    read back).
    """
    from fsp_risk.engine.sampling import BLOCK
    from fsp_risk.engine.scenarios import scenario_bytes_per_iteration
    from fsp_risk.engine.simulate import _versions, result_bytes_per_iteration

    # The charts, workbook and report need matplotlib and openpyxl only at the end: imported meanwhile, on
    # another thread, while the simulation (NumPy, which releases the interpreter) runs.
    threading.Thread(target=_import_outputs, name="fsp-risk-imports", daemon=True).start()
    actuals_text = None
    if actuals is not None:
        from fsp_risk.config.actuals import parse_actuals, read_actuals

        actuals_text = read_actuals(actuals)
        parse_actuals(actuals_text, config, file=str(actuals))  # refuse a bad file before simulating
    if keep not in KEEP:
        raise ConfigError(f"expected one of {', '.join(KEEP)}, got {keep!r}", path="--keep")
    seed = config.run.seed if seed is None else seed
    sampler = sampler or config.run.sampler
    stop_reason = None
    if precision is not None:
        from fsp_risk.analysis.convergence import DEFAULT_PRECISION_CAP, iterations_for_precision, parse_precision

        if deterministic:
            raise ConfigError("a deterministic run has one iteration; --precision needs a simulation",
                              path="--precision")
        target = parse_precision(precision)
        iterations, stop_reason, _ = iterations_for_precision(
            config, seed, sampler, target, iterations or DEFAULT_PRECISION_CAP, progress() if progress else None)
        say(stop_reason[0].upper() + stop_reason[1:] + ".")
    # One id in results.nc, scenarios.nc and run.json: 'report' and 'compare' refuse files of two runs.
    extra_attrs = {"run_id": uuid.uuid4().hex}
    if stop_reason is not None:
        extra_attrs.update(precision_target=precision, stop_reason=stop_reason)
    if actuals_text is not None:
        # Kept with the results, so that 'fsp-risk report' rebuilds the backtest too.
        extra_attrs.update(actuals_csv=actuals_text, actuals_file=str(actuals))
    iterations = 1 if deterministic else (iterations or config.run.iterations)
    # Simulated blocks are kept in a hidden partial folder as they are written, so an interrupted run can
    # be resumed; they move into the run folder only once everything else is written.
    partial = PartialRun(out, config.name, {
        "config_sha256": config.sha256, "seed": seed, "sampler": sampler, "iterations": iterations,
        "deterministic": deterministic, "stresses": stresses, "precision": precision,
        "version": _versions()["fsp-risk"], "block": BLOCK})
    per_iteration = result_bytes_per_iteration(config)
    if not deterministic:
        per_iteration += scenario_bytes_per_iteration(config, stresses, SCENARIO_VARIABLES)
    kept = sum(f.stat().st_size for f in partial.folder.glob("*.nc")) if resume else 0
    check_disk_space(out, max(iterations * per_iteration - kept, 0),
                     f"{iterations:,} iterations ({per_iteration:,} bytes each in results.nc and scenarios.nc)")
    case = dict(config=config, iterations=iterations, seed=seed, sampler=sampler, deterministic=deterministic,
                stresses=stresses, out=out, workers=workers, engine=engine, scheduler=scheduler,
                extra_attrs=extra_attrs, progress=progress, summarise=summarise, phase=phase or (lambda name: None),
                keep=keep)
    with partial.lock():
        try:
            folder, lines = _simulate_and_write(partial, resume, say, warn, **case)
        except BaseException as exc:
            # Blocks are kept for --resume after Ctrl-C or a crash (a full disk...), not after bad input or
            # a broken invariant, which the same run would meet again, nor for a one-iteration run.
            if partial.done() and not deterministic and not isinstance(exc, (ConfigError, ModelError)):
                warn(f"fsp-risk: {partial.done()} simulated block(s) are kept in {partial.folder}; run the same "
                     "command with --resume to continue from them")
            else:
                partial.remove()
            raise
    from fsp_risk.outputs.findings import late_evidence_lines

    for line in late_evidence_lines(config):
        warn(f"fsp-risk: warning: {line}")
    return folder, lines


def _simulate_and_write(partial, resume, say, warn, *, config, iterations, seed, sampler, deterministic, stresses,
                        out, workers, engine, scheduler, extra_attrs, progress, summarise,
                        phase, keep) -> tuple[Path, list[str]]:
    from fsp_risk.engine.blocks import reusing_draws
    from fsp_risk.engine.executors import cluster
    from fsp_risk.engine.scenarios import simulate_scenarios
    from fsp_risk.engine.simulate import simulate

    if resume and partial.exists():
        # Nothing on disk is trusted: each kept block must match its checksum and the model's invariants,
        # or it is named here and simulated again.
        from fsp_risk.engine.invariants import check_block
        from fsp_risk.engine.scenarios import check_stored_block

        problems = partial.load()
        problems += partial.verify("results", lambda values, pos: check_block(config, values, pos))
        problems += partial.verify("scenarios", lambda values, pos: check_stored_block(config, stresses, values, pos))
        for problem in problems:
            warn(f"fsp-risk: {problem[0].upper()}{problem[1:]}.")
        say(f"Resuming: {len(partial.blocks['results'])} block(s) of results and {len(partial.blocks['scenarios'])} "
            f"of scenarios already simulated are kept from {partial.folder}.")
    else:
        if resume:
            say("Nothing to resume for this config, seed and iterations: starting afresh.")
        elif partial.exists():
            say(f"An interrupted run of this config left its blocks in {partial.folder}; starting afresh "
                "(--resume would have continued from them).")
        partial.start_afresh()
    # Blocks run on the dask client the cluster opens (when asked for), so no scheduler is passed down; one
    # cluster serves the main run and the scenarios. Results are written to disk block by block, so memory
    # stays bounded whatever the iterations.
    blocks = dict(engine=engine, workers=workers)
    lines: list[str] = []
    # One block's draws serve the main run, every scenario and the what-if re-runs (common random numbers):
    # made once and kept, up to a limit, rather than drawn again for each.
    with cluster(engine, scheduler, workers), StagedFolder(out, run_folder_name(config.name, seed)) as staged, \
            reusing_draws():
        results, detail = partial.folder / "results.nc", partial.folder / "detail.nc"
        phase("simulation: " + ("the central case" if deterministic else f"{iterations:,} iterations"))
        simulate(config, iterations=iterations, seed=seed, sampler=sampler, deterministic=deterministic,
                 progress=progress() if progress else None, path=results, done_blocks=partial.blocks["results"],
                 on_block=lambda b, digest: partial.record("results", b, digest), detail_path=detail,
                 compress_detail="detail.nc" in KEPT_FILES[keep], **blocks).close()
        for f in (results, detail):
            add_attrs(f, extra_attrs)
        scenarios_file = partial.folder / "scenarios.nc"
        scenarios = None
        with store.open_split(results, detail) as ds:  # read variable by variable
            if not deterministic:
                # Scenarios, stress tests and the counterfactual without FSP, on the run's own random numbers.
                phase("scenarios, stress tests and the counterfactual without FSP")
                scenarios = simulate_scenarios(config, iterations, seed, sampler, stresses, path=scenarios_file,
                                               progress=progress() if progress else None,
                                               variables=SCENARIO_VARIABLES,
                                               compress="scenarios.nc" in KEPT_FILES[keep],
                                               done_blocks=partial.blocks["scenarios"],
                                               on_block=lambda b, digest: partial.record("scenarios", b, digest),
                                               **blocks)
            tables = finish_run(ds, config, staged.tmp, scenarios, phase, keep, getattr(phase, "step", lambda name: None))
            if summarise is not None:
                lines = summarise(ds, tables, config)
            if scenarios is not None:
                scenarios.close()
                add_attrs(scenarios_file, {"run_id": extra_attrs["run_id"]})
        for name in KEPT_FILES[keep]:
            if (partial.folder / name).exists():
                os.replace(partial.folder / name, staged.tmp / name)
    partial.remove()
    return staged.final, lines
