"""Work a run shares between its phases (kept draws, the model's memo of sub-results, re-runs of only the live
iterations) changes no result: each is checked against the same computation without it."""
import numpy as np
import pandas as pd
import pytest

import fsp_risk
from fsp_risk.analysis.run import analyse
from fsp_risk.engine.blocks import block_inputs, reusing_draws
from fsp_risk.engine.sampling import BLOCK, resolve_sampler
from fsp_risk.engine.scenarios import simulate_scenarios
from fsp_risk.model.drivers import Memo


def _everything(config, n, sampler):
    ds = fsp_risk.simulate(config, iterations=n, seed=5, sampler=sampler)
    scen = simulate_scenarios(config, n, 5, sampler)
    return ds, scen, analyse(ds, config, scen)


@pytest.mark.parametrize("sampler", ["mc", "sobol"])
def test_a_run_sharing_its_draws_and_memos_gives_every_result_bitwise(config_2024, sampler):
    # Two blocks (one whole, one part), a register with linked risks (re-run on their live iterations only),
    # scenarios on the run's config and on others, and every analysis, the what-if re-runs among them.
    n = BLOCK + 3_000
    alone = _everything(config_2024, n, sampler)
    with reusing_draws():
        shared = _everything(config_2024, n, sampler)
    for a, b in zip(alone[:2], shared[:2]):
        assert list(a.data_vars) == list(b.data_vars)
        for name in a.data_vars:
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    assert list(alone[2]) == list(shared[2])
    for name in alone[2]:
        pd.testing.assert_frame_equal(alone[2][name], shared[2][name], check_exact=True, obj=name)


def test_kept_draws_are_shared_read_only(config_2024):
    design = resolve_sampler(config_2024, "mc")
    with reusing_draws():
        x, u, z = block_inputs(config_2024, 1, 0, 1_000, design)
        again = block_inputs(config_2024, 1, 0, 1_000, design)
        assert again[0] is x and again[1] is u and again[2] is z  # drawn once
        name = next(iter(x))
        with pytest.raises(ValueError, match="read-only"):
            x[name][0] = 0.0  # a run that wrote into its inputs would change every other run's
    fresh = block_inputs(config_2024, 1, 0, 1_000, design)[0]
    assert fresh is not x and np.array_equal(fresh[name], x[name])  # outside: drawn afresh, the same draws


def test_the_memo_reuses_a_result_only_for_the_same_arrays():
    calls = []

    def double(a):
        calls.append(1)
        return a * 2

    memo, a, b = Memo(depth=1), np.arange(3.0), np.arange(3.0)
    first = memo("double", double, a)
    assert memo("double", double, a) is first and len(calls) == 1  # the same array: kept
    assert memo("double", double, b) is not first and len(calls) == 2  # equal values, another array: computed
    assert memo("double", double, b) is not first and len(calls) == 3  # depth 1: only the first is kept
    assert Memo(depth=0)("double", double, a) is not first  # depth 0 keeps nothing
