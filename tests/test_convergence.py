"""Convergence: running percentiles with intervals, and --precision runs that stop at their target."""
import numpy as np
import pytest

import fsp_risk
from fsp_risk import ConfigError
from fsp_risk.analysis.convergence import (Precision, checkpoints, convergence_table, half_width, iterations_for_precision,
                                  parse_precision)
from fsp_risk.engine.sampling import BLOCK


@pytest.mark.parametrize("text, expected", [
    ("£50,000", Precision(50_000, False)), ("50k", Precision(50_000, False)), ("£0.1m", Precision(100_000, False)),
    ("75000", Precision(75_000, False)), ("0.5%", Precision(0.005, True)),
])
def test_parse_precision(text, expected):
    assert parse_precision(text) == expected


@pytest.mark.parametrize("text, message", [
    ("fifty", "--precision: expected pounds like £50,000, 50k or £0.1m, or a percentage of the P80 like 0.5%, got 'fifty'"),
    ("0", "--precision: expected a precision above £0, got '0'"),
    ("150%", "--precision: expected a percentage above 0 and below 100, like 0.5%, got '150%'"),
])
def test_bad_precision(text, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_precision(text)


def test_precision_stops_at_the_first_block_that_meets_it(config_2019):
    # One block of 65,536 gives the 2019 P80 to about ±£1.1m; ask for 80% of that: two blocks (0.71 of the
    # half-width) are needed.
    _, _, one = iterations_for_precision(config_2019, 4, "mc", Precision(1e12, False), cap=BLOCK)
    target = 0.8 * float(one["p80_half_width"].iloc[-1])
    n, reason, log = iterations_for_precision(config_2019, 4, "mc", Precision(target, False))
    assert n % BLOCK == 0 and n >= 2 * BLOCK
    assert log["p80_half_width"].iloc[-1] <= target < log["p80_half_width"].iloc[-2]
    assert reason.startswith("precision reached: the P80 of the total net change is £")
    # The full run with that many iterations has exactly the P80 the stopping rule saw (same numbers).
    ds = fsp_risk.simulate(config_2019, iterations=n, seed=4)
    total = ds["net_change_to_mtfp"].sum("year").values
    p80, hw = half_width(total)
    assert p80 == pytest.approx(log["p80"].iloc[-1], abs=0.01) and hw <= target


def test_relative_precision_and_the_cap(config_2019):
    n, reason, log = iterations_for_precision(config_2019, 4, "mc", Precision(0.05, True))
    assert log["p80_half_width"].iloc[-1] <= 0.05 * abs(log["p80"].iloc[-1])
    assert "(5.00% of the P80)" in reason
    n, reason, log = iterations_for_precision(config_2019, 4, "mc", Precision(1.0, False), cap=70_000)
    assert n == 70_000 and list(log["iterations"]) == [BLOCK, 70_000]
    assert reason.startswith("iteration cap reached: after 70,000 iterations")


def test_convergence_table_intervals_narrow():
    rng = np.random.default_rng(0)
    total = rng.normal(1e6, 2e6, 100_000)
    table = convergence_table(total)
    assert list(table["iterations"]) == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 100_000]
    width = table["p80_high"] - table["p80_low"]
    assert width.iloc[-1] < width.iloc[0] / 5  # about sqrt(100) = 10 times narrower
    exact = 1e6 + 2e6 * 0.8416212335729143
    assert table["p80_low"].iloc[-1] <= exact <= table["p80_high"].iloc[-1]
    assert list(checkpoints(500)) == [500] and list(checkpoints(3_000)) == [1_000, 2_000, 3_000]


def test_cli_precision(tmp_path):
    from fsp_risk.app import cli

    config = "configs/oxfordshire-2019-business-case.yaml"
    assert cli.main(["run", config, "--precision", "£1.5m", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    assert "precision reached" in (folder / "run.json").read_text()
    assert (folder / "convergence.csv").is_file() and (folder / "charts" / "convergence.png").is_file()
    assert "stopped on reaching its precision target" in (folder / "findings.md").read_text()
    assert cli.main(["run", config, "--precision", "£1.5m", "--deterministic", "--out", str(tmp_path / "d")]) == 2
    assert cli.main(["run", config, "--precision", "lots", "--out", str(tmp_path / "d")]) == 2
    assert not (tmp_path / "d").exists()
