"""Command line: ``fsp-risk run [CONFIG] [--iterations N] [--seed S] [--sampler mc|lhs|sobol] [--deterministic] [--out DIR] [--actuals FILE.csv] [--precision £X|X%] [--stress INPUT=VALUE] [--engine threads|dask] [--scheduler ADDRESS] [--resume]``."""
from __future__ import annotations

import argparse
import codecs
import os
import signal
import sys
import threading
from pathlib import Path

from fsp_risk import __version__
from fsp_risk.config import MAX_ITERATIONS, MAX_SEED, SAMPLERS, load_config
from fsp_risk.engine.executors import ENGINES
from fsp_risk.errors import ConfigError, ModelError, RunError, excerpt
from fsp_risk.app.terminal import PhaseLog, ProgressBar
from fsp_risk.outputs.formatting import pounds

#: What a config argument may be, for --help.
CONFIG_HELP = ("scenario config (YAML), or the name of a shipped config ('fsp-risk configs' lists them); default "
               "the shipped oxfordshire-2024-commissioning")


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {excerpt(text)}") from None
    if not 1 <= value <= MAX_ITERATIONS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_ITERATIONS:,}, got {value:,}")
    return value


def _year(text: str) -> int:
    if not text.isdigit() or not 1990 <= int(text) <= 2100:
        raise argparse.ArgumentTypeError(f"expected a calendar year like 2019, got {excerpt(text)}")
    return int(text)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_SEED:,}, got {excerpt(text)}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_SEED:,}, got {excerpt(value)}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fsp-risk", description=__doc__.split(":", 1)[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a scenario config and write a run folder under outputs/")
    run.add_argument("config", nargs="?", help=CONFIG_HELP)
    run.add_argument("--iterations", type=_positive_int, help="iterations (default: the config's run.iterations)")
    run.add_argument("--seed", type=_seed, help="root random seed (default: the config's run.seed)")
    run.add_argument("--sampler", choices=SAMPLERS, help="mc (plain Monte Carlo), lhs (Latin hypercube) or sobol (scrambled Sobol')")
    run.add_argument("--deterministic", action="store_true", help="one run with every input at its central value")
    run.add_argument("--out", default="outputs", help="folder for run folders (default: outputs)")
    run.add_argument("--keep", choices=("results", "all", "summaries"), default="results",
                     help="results (default) keeps results.nc, each iteration's main figures, which 'report' and "
                          "'compare' read; all adds detail.nc (breakdowns by line and risk) and scenarios.nc; "
                          "summaries keeps only the tables, analyses, charts and report: a few MB")
    loud = run.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true", help="no progress or phase lines (warnings and errors "
                                                                  "still show)")
    loud.add_argument("-v", "--verbose", action="store_true", help="also the time each phase took")
    run.add_argument("--actuals", metavar="FILE.csv",
                     help="actual outcomes (columns year, measure, value) to backtest against the forecast")
    run.add_argument("--precision", metavar="£X|X%",
                     help="add iterations in blocks of 65,536 until the P80 of the total net change is known to "
                          "this 95%% confidence half-width (pounds like £50k, or a percentage of the P80 like "
                          "0.5%%); --iterations then caps the run (default 2,000,000)")
    run.add_argument("--workers", type=_positive_int, help="blocks of iterations computed at once (default: every "
                     "core); the results do not depend on it")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run of the same config, seed and iterations from the blocks it "
                          "had simulated (kept under OUT/.partial); the results equal an uninterrupted run's")
    run.add_argument("--engine", choices=ENGINES,
                     help="threads (default: every core of this machine) or dask (each block of iterations a task "
                          "on a dask.distributed cluster: a local one, or the one at --scheduler); the results "
                          "do not depend on it")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="address of a running dask scheduler (e.g. tcp://10.0.0.5:8786) for --engine dask; "
                          "its workers need fsp-risk installed")
    run.add_argument("--stress", action="append", default=[], metavar="INPUT=VALUE[,INPUT=VALUE]",
                     help="a stress test run beside the base on the same random numbers, with inputs pinned "
                          "(e.g. public_health_ends=1 or sw_turnover=0.3); repeat for more stress tests")
    report = sub.add_parser("report", help="rebuild a run folder's tables, charts and report from its results.nc")
    report.add_argument("run_dir", help="a run folder written by 'fsp-risk run'")
    compare = sub.add_parser("compare", help="explain the movement in P50 and P80 between two run folders")
    compare.add_argument("old_run", help="the last report's run folder")
    compare.add_argument("new_run", help="this report's run folder")
    compare.add_argument("--out", default="outputs", help="folder for the comparison folder (default: outputs)")

    calibrate = sub.add_parser("calibrate", help="fit the demand model's level process to published history and "
                                                 "hindcast it")
    calibrate.add_argument("history", nargs="?", help="history CSV (council, measure, march_year, value, source); "
                                                      "default the DfE history shipped with fsp-risk")
    calibrate.add_argument("--measures", nargs="+", default=["lac", "cp", "cin"], metavar="MEASURE",
                           help="measures to fit (default: lac cp cin)")
    calibrate.add_argument("--until", type=_year, metavar="YEAR",
                           help="use only counts up to 31 March YEAR: what a forecast made then could know")
    calibrate.add_argument("--out", default="outputs", help="folder for the calibration folder (default: outputs)")
    whatif = sub.add_parser("whatif", help="a page on localhost: move an assumption, see the P50, P80 and fan chart move")
    whatif.add_argument("config", nargs="?", help=CONFIG_HELP)
    whatif.add_argument("--port", type=_port, default=8050, help="port to serve the page on (default 8050)")
    whatif.add_argument("--address", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    whatif.add_argument("--iterations", type=_positive_int, default=None,
                        help="iterations evaluated at each change (default 65,536: about 0.1 s)")
    whatif.add_argument("--seed", type=_seed, help="root random seed (default: the config's run.seed)")
    whatif.add_argument("--sampler", choices=SAMPLERS, help="default: the config's run.sampler")
    whatif.add_argument("--save-to", metavar="FILE.yaml",
                        help="where 'Save as scenario' writes (default: beside the config, NAME-whatif.yaml)")
    whatif.add_argument("--out", default="outputs", help="folder for 'Run in full' run folders (default: outputs)")
    whatif.add_argument("--open", action="store_true", help="open the page in the default browser")
    sub.add_parser("configs", help="list the configs shipped with fsp-risk")
    init = sub.add_parser("init", help="copy a shipped config into this folder as a starting point for another council")
    init.add_argument("name", help="the new config's file name (NAME.yaml in this folder)")
    init.add_argument("--from", dest="source", metavar="CONFIG",
                      help="the config to start from: a shipped config's name or a path (default "
                           "oxfordshire-2024-commissioning)")
    book = sub.add_parser("assumptions", help="the assumption book in Excel: export it, edit it, import it into a new config")
    book_sub = book.add_subparsers(dest="action", required=True)
    export = book_sub.add_parser("export", help="write the config's inputs to a new workbook, one row each")
    export.add_argument("config", help=CONFIG_HELP)
    export.add_argument("book", help="the workbook to write (.xlsx; never overwritten)")
    imp = book_sub.add_parser("import", help="apply an edited workbook to the config and write a new config")
    imp.add_argument("config", help=CONFIG_HELP)
    imp.add_argument("book", help="the edited workbook (.xlsx) that 'assumptions export' wrote")
    imp.add_argument("--out", metavar="NEW.yaml", help="the new config (never overwritten; default NAME-assumptions.yaml "
                                                         "beside the config)")
    return parser


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65_535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {excerpt(text)}")
    return int(text)


def _headline(ds, summary) -> list[str]:
    """The terminal's headline, from the stored summary table (the figures summary.csv and findings.md give)."""
    from fsp_risk.outputs.findings import Headline

    h = Headline.of(summary)
    after = " after mitigation" if "net_change_inherent" in ds else ""
    lines = [f"Net change to MTFP over {ds.year.values[0]} to {ds.year.values[-1]}{after} (positive = pressure):"]
    if ds.sizes["iteration"] == 1:
        lines.append(f"  central case: {pounds(h.p50)}")
    else:
        lines.append(f"  P50 {pounds(h.p50)}; P80 {pounds(h.p80)}; chance the MTFP target is met over the horizon "
                     f"{h.p_met:.0%}")
        lines.append("  chance met by year: " + ", ".join(f"{y} {p:.0%}" for y, p in zip(ds.year.values, h.by_year)))
    return lines


def _scenario_lines(table) -> list[str]:
    lines = ["Scenarios (total net change, on the same random numbers; difference from the base case):"]
    for _, r in table.iloc[1:].iterrows():
        what = "MTFP difference without FSP" if r["kind"] == "counterfactual" else "difference"
        label = f"{r['scenario']} ({r['pins']})" if r["kind"] == "stress test" else r["scenario"]
        lines.append(f"  {label}: P50 {pounds(r['p50'])}; P80 {pounds(r['p80'])}; "
                     f"mean {what} {pounds(r['diff_mean'])} (s.e. {pounds(r['diff_mean_se'])})")
    return lines


def _engine(args) -> str:
    """The engine asked for: a scheduler address means dask."""
    if args.scheduler and args.engine == "threads":
        raise ConfigError("--scheduler runs on a dask cluster; expected --engine dask (or no --engine)",
                          path="--scheduler")
    return args.engine or ("dask" if args.scheduler else "threads")


def _config(given: str | None) -> Path:
    """The config a command was given: a path, a shipped config's name, or by default the shipped default."""
    from fsp_risk.config.shipped import default_config, resolve_config, shipped_configs

    path = resolve_config(given) if given else default_config()
    if given and not path.exists() and Path(given).parent == Path(".") and not given.endswith((".yaml", ".yml")):
        names = ", ".join(p.stem for p in shipped_configs())
        raise ConfigError(f"config file not found; expected a YAML file or the name of a shipped config ({names})",
                          file=str(given))
    return path


def run_command(args) -> int:
    from fsp_risk.app.runs import run
    from fsp_risk.engine.scenarios import parse_stress

    config = load_config(_config(args.config))
    stresses = [parse_stress(config, text) for text in args.stress]  # refused before any work
    phases = PhaseLog(quiet=args.quiet, verbose=args.verbose)
    folder, lines = run(
        config, out=args.out, iterations=args.iterations, seed=args.seed, sampler=args.sampler,
        deterministic=args.deterministic, stresses=stresses, actuals=args.actuals, precision=args.precision,
        workers=args.workers, engine=_engine(args), scheduler=args.scheduler, resume=args.resume,
        progress=None if args.quiet else ProgressBar, say=print, warn=lambda line: print(line, file=sys.stderr),
        phase=phases, summarise=_summary, keep=args.keep)
    phases.finish()
    print("\n".join(lines))
    print(f"Outputs written to {folder}")
    return 0


def _summary(ds, tables, config) -> list[str]:
    """What the terminal shows of a finished run: the headline, each scenario, the register's reserve."""
    lines = _headline(ds, tables["summary"])
    if "scenarios" in tables:
        lines += _scenario_lines(tables["scenarios"])
    if "risk_portfolio" in tables:
        from fsp_risk.outputs.findings import reserve_statement

        lines.append(reserve_statement(ds, config, tables["risk_portfolio"]))
    return lines


def report_command(args) -> int:
    from fsp_risk.app.results import rebuild_outputs

    folder = rebuild_outputs(args.run_dir)
    print(f"Tables, charts, workbook and report rebuilt in {folder} from its stored results and analyses "
          "(nothing run again)")
    return 0


def compare_command(args) -> int:
    from fsp_risk.app.compare import write_comparison

    folder = write_comparison(args.old_run, args.new_run, args.out)
    print((folder / "compare.md").read_text(encoding="utf-8").split("\n## Steps")[0].strip())
    print(f"Comparison written to {folder}")
    return 0


def calibrate_command(args) -> int:
    from fsp_risk.app.calibrate import write_calibration

    from fsp_risk.config.shipped import default_history

    folder, _, _ = write_calibration(args.history or default_history(), tuple(args.measures), args.until, args.out)
    print((folder / "calibration.md").read_text(encoding="utf-8").split("\n- `charts")[0].strip())
    print(f"Calibration written to {folder}")
    return 0


def whatif_command(args) -> int:
    from fsp_risk.app.page import serve
    from fsp_risk.app.whatif import PAGE_ITERATIONS, WhatIf

    path = _config(args.config)
    config = load_config(path)
    print(f"fsp-risk: drawing {args.iterations or PAGE_ITERATIONS:,} iterations of {path} once", file=sys.stderr)
    state = WhatIf(config, args.iterations or PAGE_ITERATIONS, args.seed, args.sampler, args.save_to, args.out)
    state.base_charts()  # drawn before the first tab asks
    print(f"fsp-risk: what-if page at http://{args.address}:{args.port}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    serve(state, port=args.port, address=args.address, show=args.open)
    return 0


def configs_command(args) -> int:
    from fsp_risk.config.shipped import shipped_configs

    for path in shipped_configs():
        config = load_config(path)
        print(f"{path.stem}\n  {config.title}\n  {config.council}, {config.years[0]} to {config.years[-1]}; {path}")
    print("Run one with 'fsp-risk run NAME'; copy one to start another council's with 'fsp-risk init NEW --from NAME'.")
    return 0


def init_command(args) -> int:
    from fsp_risk.app.folders import copy_config

    from fsp_risk.config.jsonschema import SCHEMA_FILE, schema_text

    written = copy_config(load_config(_config(args.source)), Path.cwd(), args.name)
    schema = Path.cwd() / SCHEMA_FILE  # what the config's first line names, for an editor to check it as typed
    if not schema.exists():
        with open(schema, "x", encoding="utf-8") as f:
            f.write(schema_text())
        written.append(schema)
    for path in written:
        print(f"Wrote {path}")
    print(f"Next: edit its council, plan and inputs (each number keeps its source; update them with yours), then "
          f"'fsp-risk run {written[0].name}'.")
    return 0


def assumptions_command(args) -> int:
    from fsp_risk.app.assumptions import BookError, export_book, import_book

    config = load_config(_config(args.config))
    if args.action == "export":
        path = export_book(config, args.book)
        print(f"Wrote {path}: {len(config.inputs)} inputs' rows on its 'Assumptions' sheet. Edit them, then "
              f"'fsp-risk assumptions import {args.config} {args.book}'.")
        return 0
    try:
        path, changes = import_book(config, args.book, args.out)
    except BookError as exc:
        for line in exc.problems:
            print(f"fsp-risk: error: {line}", file=sys.stderr)
        print(f"fsp-risk: {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}; nothing was written",
              file=sys.stderr)
        return 2
    print(f"{len(changes)} change{'s' if len(changes) != 1 else ''} from {args.book}:")
    for change in changes:
        print(f"  {change}")
    print(f"Wrote {path} (the change list is at its head). Run it with 'fsp-risk run {path}'.")
    return 0


COMMANDS = {"run": run_command, "report": report_command, "compare": compare_command, "calibrate": calibrate_command,
            "whatif": whatif_command, "configs": configs_command, "init": init_command,
            "assumptions": assumptions_command}


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's or container's stop): handled as Ctrl-C is, so that the same clean-up runs
    (simulated blocks kept for --resume, no temporary folder left)."""


def _terminate(signum, frame):
    raise Terminated()


#: What is left after an interrupted command.
_LEFT = {"run": "no run folder was written", "report": "the run folder's files are as they were",
         "compare": "no comparison folder was written", "calibrate": "no calibration folder was written",
         "whatif": "the page has stopped; saved scenarios are kept", "configs": "nothing was written",
         "init": "nothing was written", "assumptions": "nothing was written"}


#: What a console that cannot print a character (a Windows code page, output piped) shows instead.
_PLAIN = {"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
          "\u00b1": "+/-", "\u2264": "<=", "\u2265": ">="}


def _plain(exc: UnicodeEncodeError):
    return "".join(_PLAIN.get(ch, "?") for ch in exc.object[exc.start:exc.end]), exc.end


codecs.register_error("fsp_risk_plain", _plain)


def _console_safe() -> None:
    """Let a console whose encoding lacks a character (a true minus, an en dash) print a plain one instead
    of failing with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (getattr(stream, "encoding", "") or "").lower() not in ("utf-8", "utf8"):
            stream.reconfigure(errors="fsp_risk_plain")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _console_safe()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed stdout; the run folder is already complete.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ConfigError, RunError) as exc:
        print(f"fsp-risk: error: {exc}", file=sys.stderr)
        return 2
    except ModelError as exc:
        print(f"fsp-risk: error: {exc}", file=sys.stderr)
        return 3
    except OSError as exc:
        print(f"fsp-risk: error: cannot write outputs: {exc.strerror or exc} "
              f"({exc.filename or getattr(args, 'out', None) or getattr(args, 'run_dir', '')})",
              file=sys.stderr)
        return 1
    except Terminated:
        print(f"fsp-risk: terminated (SIGTERM); {_LEFT[args.command]}", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"fsp-risk: interrupted; {_LEFT[args.command]}", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
