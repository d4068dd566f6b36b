"""Material Circularity Indicator of products and of the system's flows
(ewaste_tracker.flows.circularity)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.flows.circularity import (
    CircularityError,
    circularity_from_flows,
    material_circularity_indicator,
    mci_from_circularity,
)
from tests.flows.test_indicators import system_flows


def test_mci_worked_example() -> None:
    # Product with M = 1, F_R = 0.5 recycled input, F_U = 0, C_R = 0.3 collected for
    # recycling, C_U = 0, E_C = E_F = 0.8, utility X = 1 (EMF & Granta 2015 formulas):
    #   V   = M (1 - F_R - F_U)        = 0.5
    #   W0  = M (1 - C_R - C_U)        = 0.7
    #   W_C = M (1 - E_C) C_R          = 0.2 * 0.3       = 0.06
    #   W_F = M (1 - E_F) F_R / E_F    = 0.2 * 0.5 / 0.8 = 0.125
    #   W   = W0 + (W_F + W_C) / 2     = 0.7 + 0.0925    = 0.7925
    #   LFI = (V + W) / (2M + (W_F - W_C)/2) = 1.2925 / 2.0325 = 0.635916...
    #   MCI = 1 - LFI * 0.9 / X        = 1 - 0.572325... = 0.427675...
    res = material_circularity_indicator(
        recycled_input=0.5, collected_recycling=0.3, recycling_efficiency=0.8,
        feedstock_efficiency=0.8, utility=1.0,
    )  # fmt: skip
    assert float(res.virgin) == pytest.approx(0.5)
    assert float(res.w0) == pytest.approx(0.7)
    assert float(res.wc) == pytest.approx(0.06)
    assert float(res.wf) == pytest.approx(0.125)
    assert float(res.waste) == pytest.approx(0.7925)
    assert float(res.lfi) == pytest.approx(1.2925 / 2.0325)
    assert float(res.mci) == pytest.approx(1 - 0.9 * 1.2925 / 2.0325)
    assert float(res.mci) == pytest.approx(0.427675, abs=1e-6)


def test_mci_limits() -> None:
    linear = material_circularity_indicator(
        recycled_input=0.0, collected_recycling=0.0, recycling_efficiency=1.0
    )
    assert float(linear.mci) == pytest.approx(0.1)  # fully linear, average utility
    restorative = material_circularity_indicator(
        recycled_input=1.0, collected_recycling=1.0, recycling_efficiency=1.0
    )
    assert float(restorative.mci) == pytest.approx(1.0)
    # double lifetime halves F(X): linear product scores 1 - 0.45 = 0.55
    long_life = material_circularity_indicator(
        recycled_input=0.0, collected_recycling=0.0, recycling_efficiency=1.0, utility=2.0
    )
    assert float(long_life.mci) == pytest.approx(0.55)
    short = material_circularity_indicator(
        recycled_input=0.0, collected_recycling=0.0, recycling_efficiency=1.0, utility=0.5
    )
    assert float(short.mci) == 0.0  # clipped at zero
    with pytest.raises(CircularityError, match="F_R"):
        material_circularity_indicator(
            recycled_input=1.2, collected_recycling=0.0, recycling_efficiency=1.0
        )


@given(fr=st.floats(0, 1), cr=st.floats(0, 1), ec=st.floats(0.01, 1), x=st.floats(0.1, 10))
def test_mci_is_bounded_and_rewards_circularity(fr: float, cr: float, ec: float, x: float) -> None:
    base = material_circularity_indicator(
        recycled_input=fr, collected_recycling=cr, recycling_efficiency=ec, utility=x
    )
    assert 0.0 <= float(base.mci) <= 1.0
    more_collected = material_circularity_indicator(
        recycled_input=fr, collected_recycling=min(1.0, cr + 0.1), recycling_efficiency=ec,
        feedstock_efficiency=ec, utility=x,
    )  # fmt: skip
    assert float(more_collected.mci) >= float(base.mci) - 1e-12


def test_mci_from_flows_matches_product_formula() -> None:
    ones = np.ones((1, 2, 1)) / 2  # two products, summed
    cf = circularity_from_flows(system_flows(ones), recycled_content=0.1, feedstock_efficiency=0.9)
    # M = 100 + 4 = 104; F_R = 10/104; F_U = 4/104; C_R = 30/80; C_U = 4/80; E_C = 17/30
    expected = material_circularity_indicator(
        recycled_input=10 / 104, reused_input=4 / 104, collected_recycling=30 / 80,
        collected_reuse=4 / 80, recycling_efficiency=17 / 30, feedstock_efficiency=0.9,
        mass=104.0,
    )  # fmt: skip
    got = mci_from_circularity(cf)
    assert got.mci[0, 0] == pytest.approx(float(expected.mci))
    assert got.lfi[0, 0] == pytest.approx(float(expected.lfi))


def test_all_landfilled_region_scores_linear() -> None:
    ones = np.ones((1, 1, 3))
    flows = {("market", "use"): 10 * ones, ("use", "generated"): 8 * ones,
             ("generated", "residual"): 8 * ones}  # fmt: skip
    np.testing.assert_allclose(mci_from_circularity(circularity_from_flows(flows)).mci, 0.1)
    with pytest.raises(CircularityError, match="market→use"):
        circularity_from_flows({("use", "generated"): ones})
