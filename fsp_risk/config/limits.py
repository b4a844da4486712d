"""Bounds on what a config may say, the names it accepts and the choices it offers."""
from __future__ import annotations

import re

SCHEMA_VERSION = 1
EVIDENCE = ("green", "amber", "red")
SAMPLERS = ("mc", "lhs", "sobol")
FSP_METHODS = ("stock_flow", "year_on_year", "path")
#: Savings drivers that are money [£/yr]; demand measures are counts [child-years].
MONEY_DRIVERS = ("placements", "service")

# Bounds on what a config may say, so that every number the model takes stays finite and every name
# is safe wherever it goes (file names, netCDF variables, spreadsheet cells).
#: The config's name becomes part of a folder name: letters, digits, '-', '_' and '.', no leading dot.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
#: Names of inputs, measures, lines, groups, streams, scenarios and drivers: they become variable
#: names in results.nc and are typed in --stress, so identifiers.
KEY_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
#: Risk and mitigation ids as councils write them (R1, FIN-03, 2.1).
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
#: Each pattern in words, for messages.
NAME_RULES = {
    NAME_PATTERN: "letters, digits, '-', '_' and '.', starting with a letter or digit, at most 80 characters",
    KEY_PATTERN: "letters, digits and _, starting with a letter, at most 64 characters",
    ID_PATTERN: "letters, digits, '-', '_' and '.', starting with a letter or digit, at most 32 characters",
}
#: Longest text field (a title, an owner, a source with its paragraph).
MAX_TEXT = 2_000
#: Control characters (other than tab and newline) and bidirectional overrides (which reorder how text
#: reads) have no place in a title or source; an escape sequence printed to a terminal can rewrite what
#: the user sees.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: Largest amount of money in one field [GBP]: £10bn, ten times a large county's whole budget.
MAX_MONEY = 1e10
#: Largest count of children or staff in one field.
MAX_COUNT = 1e7
#: Largest multiplier or factor (growth, cost multipliers, agency premium) [ratio].
MAX_FACTOR = 100.0
#: Largest delay or ramp-up [months].
MAX_MONTHS = 240.0
#: Largest shock or slope error of a measure's level in one year [log ratio]: e^2, seven times over.
MAX_LOG_SHOCK = 2.0
#: Longest horizon [years]: an MTFP runs 3-5 years and a business case rarely 10.
MAX_HORIZON = 50
#: Oldest price base of a unit cost, in years before the horizon starts.
MAX_PRICE_YEARS_BACK = 30
#: Most YAML nodes a config may expand to (its anchors and aliases followed): the shipped configs have
#: a few thousand; a few lines of nested aliases could otherwise expand to billions.
MAX_YAML_NODES = 200_000


#: Far above any useful run; guards against a typo such as an extra three zeros.
MAX_ITERATIONS = 100_000_000
#: Largest root seed (NumPy's SeedSequence takes any size; a netCDF attribute holds a signed 64-bit one).
MAX_SEED = 2**63 - 1
