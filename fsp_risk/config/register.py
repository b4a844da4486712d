"""The ``risk_register`` section, and risks imported from a council register in CSV."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from fsp_risk.config.correlation import _driver_loading
from fsp_risk.config.distributions import make_distribution
from fsp_risk.config.fields import _check_name, _Node, _number
from fsp_risk.config.inputs import _Refs, _series
from fsp_risk.config.limits import CONTROL_CHARACTERS, ID_PATTERN, MAX_FACTOR, MAX_MONEY, MAX_TEXT, NAME_RULES
from fsp_risk.config.scenarios import _pin_range, _pin_value
from fsp_risk.config.schema import Input, Mitigation, Risk, RiskRegister, Scoring
from fsp_risk.config.shape import keys
from fsp_risk.errors import ConfigError, did_you_mean, excerpt
from fsp_risk.files import csv_records

RISK_KINDS = ("threat", "opportunity")
RISK_BASES = ("per_year", "horizon")


def _risk_register(node: _Node, years, refs: _Refs, drivers: dict[str, str]) -> RiskRegister:
    node.mapping(*keys("risk_register"))
    if not (node.has("risks") or node.has("import_csv")):
        raise node.error("required field is missing (give risks, or import_csv to start from a council register)",
                         "risks")
    confidence = 0.8
    if node.has("reserve_confidence"):
        confidence = _number(node, "reserve_confidence", node.data["reserve_confidence"])
        if not 0.5 <= confidence < 1:
            raise node.error(f"expected a confidence from 0.5 to below 1 (0.8 is usual), got {confidence:g}",
                             "reserve_confidence")
    sc = node.child("scoring").mapping(*keys("scoring"))
    impact_t = _increasing(sc, "impact_thresholds", lo=0.0, hi=MAX_MONEY)
    bands = sc.data["probability_bands"]
    if not isinstance(bands, list) or not bands or not all(isinstance(b, str) and b for b in bands):
        raise sc.error("expected a list of band names, lowest first, like [low, medium, high]", "probability_bands")
    bands = [_Node({f"probability_bands[{i}]": b}, sc.path, sc.file).text(f"probability_bands[{i}]")
             for i, b in enumerate(bands)]
    prob_t = _increasing(sc, "probability_thresholds", lo=0.0, hi=1.0)
    if len(prob_t) != len(bands):
        raise sc.error(f"expected one lower bound per band ({len(bands)}), got {len(prob_t)}", "probability_thresholds")
    if prob_t[0] != 0:
        raise sc.error("expected the lowest band to start at 0", "probability_thresholds")
    scoring = Scoring(impact_t, tuple(bands), prob_t, sc.text("source"))

    rn = node.child("risks")
    if rn.data is not None and (not isinstance(rn.data, list) or not rn.data):
        raise rn.error("expected a list of risks")
    risks, seen = [], set()
    if node.has("import_csv"):
        risks, imported = _import_register(node.child("import_csv"), years, bands, refs)
        refs.add_inputs(imported)
        seen = {r.id for r in risks}
    for k, raw in enumerate(rn.data or []):
        r = _Node(raw, f"{rn.path}[{k}]", rn.file)
        r.mapping(*keys("risk"))
        rid = _check_name(r, r.text("id"), ID_PATTERN, "a risk id", "it labels the risk in every table and chart", "id")
        r.path = f"risk_register.risks[{rid}]"  # name the risk by its id in messages from here on
        link = ()
        if r.has("link"):
            for key in ("likelihood", "impact", "basis", "years", "driver"):
                if r.has(key):
                    raise r.error("a risk linked to the model takes its likelihood and impact from the linked "
                                  "inputs; remove this field or the link", key)
            ln = r.child("link")
            if not isinstance(ln.data, dict) or not ln.data:
                raise ln.error("expected a mapping of input name to the value that switches the risk off, "
                               "like {public_health_ends: 0}")
            pairs = []
            for name, off in ln.data.items():
                refs.get(_Node({str(name): str(name)}, ln.path, ln.file), str(name))
                # The model's sections are read by now: the value must be one their fields can take.
                item = refs.inputs[str(name)]
                bounds = _pin_range(item, refs.bounds.get(str(name), (-np.inf, np.inf)), years)
                pairs.append((str(name), _pin_value(ln, str(name), item, off, bounds, years)))
            link = tuple(pairs)
        else:
            for key in ("likelihood", "impact"):
                if not r.has(key):
                    raise r.error("required field is missing (or give a 'link' to model inputs)", key)
        if rid in seen:
            raise r.error("expected a unique risk id; this id is used twice", "id")
        seen.add(rid)
        basis = r.choice("basis", RISK_BASES, "per_year")
        eligible = tuple(range(len(years)))
        if r.has("years"):
            labels = r.data["years"]
            if not isinstance(labels, list) or not labels:
                raise r.error("expected a list of financial years in which the risk can occur", "years")
            for label in labels:
                if label not in years:
                    raise r.error(f"year {excerpt(label)} is outside the config's years ({years[0]} to {years[-1]})"
                                  f"{did_you_mean(label, years)}", "years")
            eligible = tuple(sorted(years.index(label) for label in labels))
        stated_impact = stated_prob = None
        if r.has("stated"):
            st = r.child("stated").mapping(*keys("stated"))
            stated_impact = st.integer("impact", 0, len(impact_t))
            stated_prob = st.choice("probability", tuple(bands))
        driver, loading = _driver_loading(r, drivers) if r.has("driver") else (None, 0.0)
        risks.append(Risk(
            rid, r.text("title"), r.text("owner"), r.text("category"), r.choice("type", RISK_KINDS),
            None if link else refs.get(r, "likelihood", lo=0, hi=1, scalar=basis == "horizon"), basis, eligible,
            None if link else refs.get(r, "impact", lo=0, ceiling=MAX_MONEY), stated_impact, stated_prob, driver, loading, (), link,
        ))

    mitigations, mids = [], set()
    mn = node.child("mitigations")
    if mn.data is not None and not isinstance(mn.data, list):
        raise mn.error("expected a list of mitigations")
    for j, rawm in enumerate(mn.data or []):
        m = _Node(rawm, f"{mn.path}[{j}]", mn.file)
        m.mapping(*keys("mitigation"))
        mid = _check_name(m, m.text("id"), ID_PATTERN, "a mitigation id", "it labels the mitigation in every table",
                          "id")
        m.path = f"risk_register.mitigations[{mid}]"
        if mid in mids:
            raise m.error("expected a unique mitigation id; this id is used twice", "id")
        mids.add(mid)
        targets = m.data["risks"]
        if not isinstance(targets, list) or not targets:
            raise m.error("expected a list of the ids of the risks it mitigates", "risks")
        for t in targets:
            if t not in seen:
                raise m.error(f"unknown risk {excerpt(t)}{did_you_mean(t, seen)}; risks are {', '.join(sorted(seen))}",
                              "risks")
        if not (m.has("likelihood_factor") or m.has("impact_factor") or m.has("replace")):
            raise m.error("expected a likelihood_factor, an impact_factor or a replace (what the action changes)",
                          "likelihood_factor")
        replace_pairs = []
        if m.has("replace"):
            rp = m.child("replace")
            if not isinstance(rp.data, dict) or not rp.data:
                raise rp.error("expected a mapping of input to the input it is replaced by, like "
                               "{public_health_replaced: public_health_replaced_mitigated}")
            for orig, repl in rp.data.items():
                refs.get(_Node({str(orig): str(orig)}, rp.path, rp.file), str(orig))
                refs.get(rp, str(orig))
                if refs.inputs[str(orig)].per_year != refs.inputs[repl].per_year:
                    raise rp.error(f"input {excerpt(repl)} must be per_year exactly when {excerpt(orig)} is", str(orig))
                replace_pairs.append((str(orig), repl))
        mitigations.append(Mitigation(
            mid, m.text("title"), tuple(str(t) for t in targets),
            _series(m.child("cost"), years, nonnegative=True) if m.has("cost") else None,
            refs.get(m, "likelihood_factor", lo=0, hi=1, scalar=True, required=False),
            refs.get(m, "impact_factor", lo=0, scalar=True, required=False, ceiling=MAX_FACTOR),
            tuple(replace_pairs),
        ))
    risks = [replace(r, mitigations=tuple(m for m in mitigations if r.id in m.risks)) for r in risks]
    return RiskRegister(scoring, tuple(risks), tuple(mitigations), confidence)




CSV_COLUMNS = ("id", "title", "owner", "likelihood", "impact")


def _bands(node: _Node, key: str, lo: float, hi: float | None) -> tuple[tuple[float, float], ...]:
    """Five [low, high] bands, one per score 1-5, for a council register's scores."""
    bands = node.data.get(key)
    if not isinstance(bands, list) or len(bands) != 5 or not all(isinstance(b, list) and len(b) == 2 for b in bands):
        raise node.error("expected five [low, high] pairs, one for each score from 1 to 5", key)
    out = []
    for k, (a, b) in enumerate(bands, start=1):
        a, b = _number(node, key, a), _number(node, key, b)
        if not (a < b and a >= lo and (hi is None or b <= hi)):
            limit = f"within [{lo:g}, {hi:g}]" if hi is not None else f"from {lo:g}"
            raise node.error(f"score {k}: expected low < high {limit}, got [{a:g}, {b:g}]", key)
        out.append((a, b))
    return tuple(out)


def _import_register(node: _Node, years, bands: list[str], refs: _Refs) -> tuple[list[Risk], dict[str, Input]]:
    """Risks from a council register in CSV: scores 1-5 turned into stated distributions.

    A likelihood score k becomes a probability uniform over the council's k-th % band, of occurring
    once over the horizon in a year drawn evenly; an impact score k becomes a PERT over the k-th £
    band with its mode at the band's middle. Each becomes an input of the assumption book, sourced to
    its file and row, rated red (a register score is a judgement): returned with the risks, for the
    caller to add to the assumption book.
    """
    node.mapping(*keys("import_csv"))
    likelihood_bands = _bands(node, "likelihood_bands", 0.0, 1.0)
    impact_bands = _bands(node, "impact_bands", 0.0, MAX_MONEY)
    source, date, review = node.text("source"), node.date("date"), node.date("review")
    written = node.text("file")
    if written not in refs.attachments:
        raise node.error("expected the register CSV's text to be attached (load_config reads it; parse_config "
                         "reads no files and takes it in attachments)", "file")
    text = refs.attachments[written]
    # Errors name the file read (beside the config), or the path as written for a stored run's copy.
    config_file = Path(node.file)
    where = str(config_file.resolve().parent / written) if config_file.is_file() else written
    columns, rows = csv_records(text, where)
    missing = [c for c in CSV_COLUMNS if c not in columns]
    if not rows:
        raise ConfigError("expected a header row and at least one risk", file=where)
    if missing:
        raise ConfigError(f"expected columns {', '.join(CSV_COLUMNS)} (category optional); missing "
                          f"{', '.join(repr(m) for m in missing)}", file=where)
    risks, seen, added = [], set(), {}
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        scores = {}
        for col in ("likelihood", "impact"):
            text = (row[col] or "").strip()
            if not text.isdigit() or not 1 <= int(text) <= 5:
                raise ConfigError(f"expected a whole number from 1 to 5, got {excerpt(text)}", file=where, path=f"row {n}.{col}")
            scores[col] = int(text)
        rid = (row["id"] or "").strip()
        if not rid or rid in seen:
            raise ConfigError(f"expected a unique, non-empty risk id, got {excerpt(rid)}", file=where, path=f"row {n}.id")
        if not ID_PATTERN.fullmatch(rid):
            raise ConfigError(f"expected a risk id of {NAME_RULES[ID_PATTERN]}, got {excerpt(rid)}", file=where,
                              path=f"row {n}.id")
        for col in ("title", "owner", "category"):
            if len(row.get(col) or "") > MAX_TEXT:
                raise ConfigError(f"expected a text of at most {MAX_TEXT:,} characters, got {len(row[col]):,}",
                                  file=where, path=f"row {n}.{col}")
            if CONTROL_CHARACTERS.search(row.get(col) or ""):
                raise ConfigError("expected printable text, got a control character", file=where, path=f"row {n}.{col}")
        seen.add(rid)
        lo, hi = likelihood_bands[scores["likelihood"] - 1]
        ilo, ihi = impact_bands[scores["impact"] - 1]
        common = dict(per_year=False, owner=(row["owner"] or "").strip() or "not stated", evidence="red", date=date,
                      review=review, year_valued=False)
        p_name, x_name = f"imported_{rid}_likelihood", f"imported_{rid}_impact"
        for name in (p_name, x_name):
            if name in refs.inputs or name in added:
                raise ConfigError(f"risk {rid} would add the input {name!r}, which the config already defines; "
                                  "expected another id, or another name for the config's input", file=where,
                                  path=f"row {n}.id")
        added[p_name] = Input(
            p_name, f"Chance that imported risk {rid} occurs over the horizon", "probability",
            make_distribution({"dist": "uniform", "low": lo, "high": hi}),
            source=f"{written} row {n}: likelihood score {scores['likelihood']} read as uniform over the council's band "
                   f"{lo:.0%}-{hi:.0%} over the horizon ({source})", **common)
        added[x_name] = Input(
            x_name, f"Impact of imported risk {rid} when it occurs", "GBP",
            make_distribution({"dist": "pert", "low": ilo, "mode": (ilo + ihi) / 2, "high": ihi}),
            source=f"{written} row {n}: impact score {scores['impact']} read as PERT over the council's band "
                   f"£{ilo:,.0f}-£{ihi:,.0f}, mode at its middle ({source})", **common)
        risks.append(Risk(
            rid, (row["title"] or "").strip() or rid, common["owner"], (row.get("category") or "imported").strip(),
            "threat", p_name, "horizon", tuple(range(len(years))), x_name, scores["impact"],
            bands[scores["likelihood"] - 1] if len(bands) == 5 else None, None, 0.0, (),
        ))
    return risks, added


def _increasing(node: _Node, key: str, lo: float | None = None, hi: float | None = None) -> tuple[float, ...]:
    values = node.data.get(key)
    if not isinstance(values, list) or not values:
        raise node.error("expected a list of numbers, lowest first", key)
    out = tuple(_number(node, key, v) for v in values)
    if any(b <= a for a, b in zip(out, out[1:])):
        raise node.error(f"expected strictly increasing numbers, got {list(values)}", key)
    if (lo is not None and out[0] < lo) or (hi is not None and out[-1] > hi):
        raise node.error(f"expected numbers within [{lo:g}, {hi if hi is not None else float('inf'):g}], got {list(values)}", key)
    return out


