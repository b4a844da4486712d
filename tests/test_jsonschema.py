"""The config's JSON Schema: generated from the parsers' own fields, shipped beside the configs, named on each
config's first line, and agreeing with the parser on what a config may hold."""
import copy
import json

import jsonschema
import pytest
import yaml
from conftest import CONFIGS

from fsp_risk.config import parse_config
from fsp_risk.config.jsonschema import MODELINE, SCHEMA_FILE, config_schema, schema_text
from fsp_risk.errors import ConfigError

SHIPPED = sorted(CONFIGS.glob("*.yaml"))
VALIDATOR = jsonschema.Draft202012Validator(config_schema(), format_checker=jsonschema.FormatChecker())


def as_json(data):
    """YAML data as an editor's language server sees it: dates as text, mapping keys as text."""
    return json.loads(json.dumps(data, default=str))


def test_the_shipped_schema_is_the_generated_one_and_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(config_schema())
    # Regenerate with: python -c "from fsp_risk.config.jsonschema import *; open('configs/'+SCHEMA_FILE,'w').write(schema_text())"
    assert (CONFIGS / SCHEMA_FILE).read_text(encoding="utf-8") == schema_text()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_config_names_the_schema_and_validates(path):
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(as_json(yaml.safe_load(text)))]
    assert errors == []


def _set(data, path, value):
    *parents, last = path
    node = data
    for key in parents:
        node = node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value


# Each change is refused by both: the schema (as an editor shows it) and the config's own validation.
CHANGES = [
    ("an unknown top-level field", ("savngs",), {}),
    ("an unknown programme field", ("programme", "go_lve"), "2020-01-01"),
    ("an unknown field of an input", ("inputs", "sw_turnover", "modee"), 0.2),
    ("a parameter the distribution does not take", ("inputs", "sw_turnover", "mean"), 0.2),
    ("a distribution that does not exist", ("inputs", "sw_turnover", "dist"), "pret"),
    ("an evidence rating outside the list", ("inputs", "sw_turnover", "evidence"), "purple"),
    ("a missing required field of an input", ("inputs", "sw_turnover", "source"), KeyError),
    ("an unknown field of a measure's FSP case", ("demand", "measures", "lac", "fsp", "efect"), "x"),
    ("an unknown field of a placement type", ("placements", "types", "residential", "cost"), 1),
    ("an unknown field of a staff group", ("workforce", "groups", "social_workers", "fte_cost"), "x"),
    ("a missing MTFP target", ("mtfp", "target"), KeyError),
    ("an unknown sampler", ("run", "sampler"), "quasi"),
    ("a wrong schema version", ("schema_version",), 2),
    ("a year that is not a financial year", ("years",), ["2024", "2025"]),
]


@pytest.mark.parametrize("what, path, value", CHANGES, ids=[c[0] for c in CHANGES])
def test_schema_and_parser_refuse_the_same_mistakes(config_2024, what, path, value):
    data = copy.deepcopy(yaml.safe_load(config_2024.text))
    _set(data, path, value)
    assert list(VALIDATOR.iter_errors(as_json(data))), f"the schema accepts {what}"
    with pytest.raises(ConfigError):
        parse_config(yaml.safe_dump(data, sort_keys=False), config_2024.path)
