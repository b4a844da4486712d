"""Reading a config: the file, the files it attaches (a register CSV), then validation of the whole."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from fsp_risk.config.correlation import _common_drivers, _correlation
from fsp_risk.config.fields import _check_name, _Node
from fsp_risk.config.inputs import _inputs, _Refs, _years
from fsp_risk.config.limits import NAME_PATTERN, SCHEMA_VERSION
from fsp_risk.config.register import _risk_register
from fsp_risk.config.scenarios import _pin_bounds, _scenarios
from fsp_risk.config.schema import Config, RunDefaults
from fsp_risk.config.sections import (_costs, _demand, _funding, _mtfp, _placements, _price_base, _programme, _run,
                                      _savings, _service, _workforce)
from fsp_risk.config.shape import keys
from fsp_risk.config.source import _line_of, _load_yaml
from fsp_risk.errors import ConfigError, excerpt
from fsp_risk.files import MAX_CONFIG_BYTES, MAX_CSV_BYTES, is_inside, read_text, size_text


def load_config(path: str | Path) -> Config:
    """Read and validate a scenario config.

    Raises
    ------
    ConfigError
        Naming the file, the field path and what was expected, before any sampling starts.
    """
    text = read_text(path, what="config file", limit=MAX_CONFIG_BYTES, not_utf8="expected a UTF-8 text (YAML) file")
    return _validate(text, str(path), None)


def parse_config(text: str, file: str = "<config>", attachments: dict[str, str] | None = None) -> Config:
    """Validate YAML text as a config; ``file`` names it in error messages. Reads no files.

    ``attachments`` gives the text of the files the config reads (a register CSV), by the path written
    in it: a stored run's config is rebuilt from what it ran on.
    """
    return _validate(text, file, dict(attachments or {}))


def read_attachments(data: Any, file: str) -> dict[str, str]:
    """Read the files a config names (a register CSV), by the path written in it, relative to ``file``.

    The only file reading of validation, done once before it. Config text never points outside its own
    folder: a shared config cannot make a run read (and copy into every output) /etc/passwd or a
    colleague's files. A field of the wrong type is left to validation to report.
    """
    register = data.get("risk_register") if isinstance(data, dict) else None
    spec = register.get("import_csv") if isinstance(register, dict) else None
    written = spec.get("file") if isinstance(spec, dict) else None
    if not isinstance(written, str):
        return {}
    node = _Node(data, "", file).child("risk_register").child("import_csv")
    config_dir = Path(file).resolve().parent
    path = config_dir / written
    if Path(written).is_absolute() or not is_inside(config_dir, path):
        raise node.error(f"expected a path inside the config's folder {config_dir} (relative to it), got "
                         f"{excerpt(written)}", "file")
    return {written: read_text(path, what="register CSV", limit=MAX_CSV_BYTES, encoding="utf-8-sig",
                               not_utf8="expected a UTF-8 CSV file (save from Excel as 'CSV UTF-8')")}


def _validate(text: str, file: str, attachments: dict[str, str] | None) -> Config:
    """Load the YAML, read the files it attaches (unless given) and validate the whole."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"the config is {len(text):,} characters, over the limit of {MAX_CONFIG_BYTES:,} "
                          f"({size_text(MAX_CONFIG_BYTES)}); expected a smaller file", file=file)
    try:
        data, composed = _load_yaml(text)  # safe: plain data only, nothing executed
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = getattr(exc, "position", None)  # a character the reader refuses (a NUL byte) has no line
        where = (f"line {mark.line + 1}, column {mark.column + 1}" if mark
                 else f"character {position + 1}" if position is not None else "YAML")
        problem = (getattr(exc, "problem", None) or str(exc)).splitlines()[0]
        raise ConfigError(f"invalid YAML at {where}: {problem}", file=file) from None
    try:
        if attachments is None:
            attachments = read_attachments(data, file)
        config = _parse(data, text, file, attachments=attachments)
        if isinstance(data, dict) and "scenarios" in data:
            config = replace(config, scenarios=_scenarios(_Node(data, "", file).child("scenarios"), data, config, _parse))
    except ConfigError as exc:
        line = _line_of(composed, exc.path) if exc.file == file and exc.path else None
        if line is None or exc.line is not None:
            raise
        raise ConfigError(exc.reason, file=exc.file, path=exc.path, line=line) from None
    return config


def _parse(data: Any, text: str, file: str, all_inputs_used: bool = True,
           attachments: dict[str, str] | None = None) -> Config:
    """Validate loaded YAML data as a config (without its scenarios).

    ``all_inputs_used`` False is for a scenario, which may leave some of the base's inputs unused
    (without mitigation, the mitigated values).
    """
    root = _Node(data, "", file).mapping(
        *keys("config"))
    if root.data["schema_version"] != SCHEMA_VERSION:
        raise root.error(f"expected {SCHEMA_VERSION}, got {excerpt(root.data['schema_version'])}", "schema_version")
    years = _years(root.child("years"))
    drivers = _common_drivers(root.child("common_drivers")) if root.has("common_drivers") else {}
    inputs = _inputs(root.child("inputs"), years, drivers)
    refs = _Refs(inputs, file, years)
    refs.attachments = attachments if attachments is not None else {}

    refs.section = "programme"
    programme = _programme(root.child("programme"), years, refs)
    refs.section = "inflation"
    price_base = _price_base(root.child("price_base"), years, refs)
    refs.section = "demand"
    demand = _demand(root.child("demand"), years, refs)
    refs.section = "placements"
    placements = _placements(root.child("placements"), demand, refs) if root.has("placements") else None
    refs.section = "social work teams"
    service = _service(root.child("service"), demand, refs) if root.has("service") else None
    refs.section = "workforce"
    workforce, weakening = _workforce(root.child("workforce"), refs) if root.has("workforce") else ((), None)
    refs.section = "costs"
    costs = _costs(root.child("costs"), years, price_base, refs) if root.has("costs") else ()
    refs.section = "savings"
    savings = (
        _savings(root.child("savings"), years, demand, placements, service, refs) if root.has("savings") else ()
    )
    refs.section = "funding"
    funding = _funding(root.child("funding"), years, refs) if root.has("funding") else ()
    mtfp = _mtfp(root.child("mtfp"), years)
    run = _run(root.child("run")) if root.has("run") else RunDefaults(100_000, 12345, "mc")
    refs.section = "risk register"
    register = _risk_register(root.child("risk_register"), years, refs, drivers) if root.has("risk_register") else None
    optimism_bias = None
    if root.has("value_for_money"):
        refs.section = "value for money"
        vfm = root.child("value_for_money").mapping(*keys("value_for_money"))
        optimism_bias = refs.get(vfm, "optimism_bias", lo=0, hi=1, scalar=True)
    papers = root.data.get("papers") or []
    if not isinstance(papers, list) or not all(isinstance(p, str) for p in papers):
        raise root.error("expected a list of texts naming the source papers", "papers")
    papers = [_Node({f"papers[{i}]": p}, "", file).text(f"papers[{i}]") for i, p in enumerate(papers)]
    if all_inputs_used:
        refs.check_all_used()
    for m in register.mitigations if register is not None else ():
        for orig, repl in m.replace:  # a replacement takes its original's place, so its bounds too
            lo, hi = refs.bounds.get(repl, (-np.inf, np.inf))
            o_lo, o_hi = refs.bounds.get(orig, (-np.inf, np.inf))
            refs.bounds[repl] = (max(lo, o_lo), min(hi, o_hi))
    correlation = _correlation(root.child("correlation"), inputs) if root.has("correlation") else None
    return Config(
        path=file, text=text, title=root.text("title"),
        name=_check_name(root, root.text("name"), NAME_PATTERN, "a config name",
                          "it becomes part of each run folder's name", "name"),
        council=root.text("council", "unnamed council"), years=years, inputs=inputs, programme=programme,
        price_base=price_base, demand=demand, placements=placements, service=service, workforce=workforce,
        weakening=weakening, costs=costs, savings=savings, funding=funding, mtfp=mtfp, run=run,
        papers=tuple(papers), decision_date=root.date("decision_date", required=False), optimism_bias=optimism_bias,
        risk_register=register, common_drivers=drivers,
        input_groups={name: refs.groups.get(name, "risk register") for name in inputs},
        correlation=correlation, input_bounds=_pin_bounds(inputs, refs.bounds, years),
        attachments=dict(refs.attachments),
    )


