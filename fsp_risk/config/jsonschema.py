"""The JSON Schema of a config file, generated from :mod:`fsp_risk.config.shape` (the parsers' own keys) and
the distributions' parameters, so that an editor with a YAML language server completes and checks a config's
fields as they are typed.

A config names it on its first line (``# yaml-language-server: $schema=fsp-risk-config.schema.json``); the
file ships beside the configs (:data:`SCHEMA_FILE`), and ``fsp-risk init`` copies it beside a new one. The
schema checks shape: field names, required fields, kinds, choices, and each distribution's parameters. The
config's own validation checks the rest (ranges, references between sections, the model's bounds).
"""
from __future__ import annotations

import json
from typing import Any

from fsp_risk.config.distributions import _PARAMS, KINDS
from fsp_risk.config.limits import KEY_PATTERN, SCHEMA_VERSION
from fsp_risk.config.shape import SHAPES, Field

#: The schema's file name, beside the configs.
SCHEMA_FILE = "fsp-risk-config.schema.json"
#: The first line of a config that names the schema (the YAML language server's modeline).
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"

_YEAR = {"type": "string", "pattern": r"^[0-9]{4}/[0-9]{2}$", "description": "A financial year, like 2025/26."}
_INPUT = {"type": "string", "pattern": f"^{KEY_PATTERN.pattern}$",
          "description": "The name of an input defined under 'inputs'."}
_NUMBER_OR_YEAR = {"oneOf": [{"type": "number"}, _YEAR]}

_KINDS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    # YAML reads an unquoted 2024-04-10 as a date; a JSON Schema sees it as a string in that format.
    "date": {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "year": _YEAR,
    "years": {"type": "array", "items": _YEAR, "minItems": 1},
    "input": _INPUT,
    "number_or_year": _NUMBER_OR_YEAR,
    "numbers_or_years": {"type": "array", "items": _NUMBER_OR_YEAR, "minItems": 1},
    "numbers": {"type": "array", "items": {"type": "number"}, "minItems": 1},
    "texts": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
    "bands": {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
              "minItems": 5, "maxItems": 5},
    "any_mapping": {"type": "object"},
    "named_text": {"type": "object", "additionalProperties": {"type": "string"}},
    "named_value": {"type": "object", "additionalProperties": _NUMBER_OR_YEAR},
}


def _field(f: Field) -> dict[str, Any]:
    if f.kind == "mapping":
        out = {"$ref": f"#/$defs/{f.of}"}
    elif f.kind == "named":
        out = {"type": "object", "propertyNames": {"pattern": f"^{KEY_PATTERN.pattern}$"},
               "additionalProperties": {"$ref": f"#/$defs/{f.of}"}}
    elif f.kind == "list":
        out = {"type": "array", "items": {"$ref": f"#/$defs/{f.of}"}}
    else:
        out = dict(_KINDS[f.kind])
    if f.choices:
        out["enum"] = list(f.choices)
    return {**out, "description": f.doc}


def _shape(name: str) -> dict[str, Any]:
    fields = SHAPES[name]
    out: dict[str, Any] = {"type": "object", "properties": {k: _field(f) for k, f in fields.items()},
                           "additionalProperties": False}
    required = [k for k, f in fields.items() if f.required]
    if required:
        out["required"] = required
    return out


def _distribution_rules() -> list[dict[str, Any]]:
    """For each distribution kind, its required parameters and no others (the three-point kinds take low, mode
    and high or an expert's p10, p50 and p90)."""
    params = [k for k in SHAPES["input"] if k in {p for r, o in _PARAMS.values() for p in (*r, *o)}]
    rules = []
    for kind in KINDS:
        required, optional = _PARAMS[kind]
        then: dict[str, Any] = {"properties": {p: False for p in params if p not in (*required, *optional)}}
        if required:
            then["required"] = list(required)
        if kind in ("triangular", "pert"):
            then["oneOf"] = [{"required": ["low", "mode", "high"]}, {"required": ["p10", "p50", "p90"]}]
        rules.append({"if": {"properties": {"dist": {"const": kind}}, "required": ["dist"]}, "then": then})
    return rules


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a config file."""
    root = _shape("config")
    root["properties"]["schema_version"]["const"] = SCHEMA_VERSION
    defs = {name: _shape(name) for name in SHAPES if name != "config"}
    defs["input"]["allOf"] = _distribution_rules()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://fsp-risk/{SCHEMA_FILE}",
            "title": "fsp-risk scenario config",
            "description": "A Monte Carlo financial risk model of a council's Family Safeguarding programme against "
                           "its MTFP. Generated by fsp-risk from its config parsers' fields; do not edit.",
            **root, "$defs": defs}


def schema_text() -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
