"""Transfer-coefficient and export-destination tables: resolution and validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.flows.errors import TransferCoefficientError
from ewaste_tracker.flows.transfer import (
    STRUCTURE,
    TABLE_STAGES,
    ExportDestinations,
    Stage,
    TransferCoefficients,
)
from tests.flows.test_system import DEFAULT_SHARES, make_dims, tc_table

DIMS = make_dims(3, 2, 5)  # regions R0-R2, products 0000-0001, years 2000-2004


def _with(*rows: tuple) -> pd.DataFrame:
    extra = pd.DataFrame(list(rows), columns=tc_table().columns)
    return pd.concat([tc_table(), extra], ignore_index=True)


def test_global_defaults_are_not_materialised() -> None:
    tcs = TransferCoefficients.from_frame(tc_table(), DIMS)
    share = tcs.share("generated", "residual")
    assert share.shape == (1, 1, 1) and share.item() == pytest.approx(0.2)
    assert tcs.share("manufacture", "market").item() == 1.0  # single-target stages default to 1


def test_more_specific_rows_win_and_replace_the_whole_distribution() -> None:
    table = _with(
        ("R1", "", "", "generated", "collection_formal", 1.0),
        ("R1", "", "2003", "generated", "residual", 1.0),
        ("", "0001", "", "generated", "collection_informal", 1.0),
    )
    tcs = TransferCoefficients.from_frame(table, DIMS)
    formal = tcs.share("generated", "collection_formal")
    residual = tcs.share("generated", "residual")
    assert formal.shape == (3, 2, 5)
    assert formal[0, 0, 0] == pytest.approx(0.4)  # global default
    assert formal[1, 0, 0] == 1.0 and residual[1, 0, 0] == 0.0  # region replaces all shares
    assert residual[1, 0, 3] == 1.0 and formal[1, 0, 3] == 0.0  # region + year beats region
    # product-only vs region-only (one key each): region wins, for R1; elsewhere product
    assert formal[1, 1, 0] == 1.0
    assert tcs.share("generated", "collection_informal")[2, 1, 0] == 1.0


def test_years_outside_the_model_are_ignored() -> None:
    table = _with(("", "", "1990", "generated", "residual", 1.0))
    tcs = TransferCoefficients.from_frame(table, DIMS)
    assert tcs.share("generated", "residual").shape == (1, 1, 1)


@pytest.mark.parametrize(
    ("row", "column", "match"),
    [
        (("", "", "", "generated", "landfill", 0.0), "to_stage", "unknown stage 'landfill'"),
        (("", "", "", "generated", "recovered", 0.0), "to_stage", "not allowed"),
        (("", "", "", "use", "generated", 1.0), "from_stage", "lifetime"),
        (("", "", "", "export", "use", 1.0), "from_stage", "export-destination"),
        (("XXX", "", "", "generated", "residual", 0.2), "region", "unknown code 'XXX'"),
        (("", "9999", "", "generated", "residual", 0.2), "product", "unknown code '9999'"),
        (("R0", "", "", "generated", "residual", -0.1), "share", "finite number >= 0"),
        (("R0", "", "20x", "generated", "residual", 0.1), "year", "integer or blank"),
    ],
)
def test_bad_rows_are_named_by_row_and_column(row: tuple, column: str, match: str) -> None:
    table = _with(row)
    with pytest.raises(TransferCoefficientError, match=match) as err:
        TransferCoefficients.from_frame(table, DIMS)
    assert err.value.row == len(table) - 1
    assert err.value.column == column


def test_shares_not_summing_to_one_name_node_region_and_year() -> None:
    table = _with(
        ("R2", "", "2002", "preprocessing", "endprocessing", 0.5),
        ("R2", "", "2002", "preprocessing", "residual", 0.4),
    )
    with pytest.raises(TransferCoefficientError, match=r"sum to 0\.9") as err:
        TransferCoefficients.from_frame(table, DIMS)
    assert (err.value.node, err.value.region, err.value.year) == ("preprocessing", "R2", 2002)
    assert "R2" in str(err.value) and "2002" in str(err.value)


def test_duplicates_and_missing_coverage_are_errors() -> None:
    with pytest.raises(TransferCoefficientError, match="duplicate") as err:
        TransferCoefficients.from_frame(_with(("", "", "", "generated", "residual", 0.2)), DIMS)
    assert err.value.row == len(tc_table())
    only_r0 = tc_table()
    only_r0["region"] = "R0"
    with pytest.raises(TransferCoefficientError, match="no transfer coefficients") as err:
        TransferCoefficients.from_frame(only_r0, DIMS)
    assert err.value.region == "R1"
    missing = tc_table()
    missing = missing[missing.from_stage != "refurbishment"]
    with pytest.raises(TransferCoefficientError, match="'refurbishment'"):
        TransferCoefficients.from_frame(missing, DIMS)


def test_resolved_for_other_dims_is_rejected() -> None:
    tcs = TransferCoefficients.from_frame(tc_table(), DIMS)
    with pytest.raises(TransferCoefficientError, match="other regions"):
        tcs.check_labels(make_dims(2, 2, 5))


@given(st.integers(0, 2**32 - 1), st.sampled_from(["region", "product", "year"]))
def test_random_tables_resolve_to_valid_shares_and_round_trip(seed: int, key: str) -> None:
    """Any table of non-negative shares summing to one resolves, and to_frame round-trips."""
    rng = np.random.default_rng(seed)
    labels = {"region": DIMS.regions, "product": DIMS.products, "year": DIMS.years.astype(str)}
    frames = [tc_table()]
    for node in TABLE_STAGES:
        targets = [t.value for t in STRUCTURE[node]]
        for label in labels[key]:
            if len(targets) > 1 and rng.random() < 0.5:
                shares = rng.dirichlet(np.ones(len(targets)))
                frames.append(
                    tc_table({node.value: dict(zip(targets, shares, strict=True))}, **{key: label})
                )
    tcs = TransferCoefficients.from_frame(pd.concat(frames, ignore_index=True), DIMS)
    shape = (3, 2, 5)
    for node in TABLE_STAGES:
        total = sum(np.broadcast_to(tcs.share(node, t), shape) for t in STRUCTURE[node])
        np.testing.assert_allclose(total, 1.0, atol=1e-9)
        assert all((tcs.share(node, t) >= 0).all() for t in STRUCTURE[node])
    again = TransferCoefficients.from_frame(tcs.to_frame(), DIMS)
    for k, v in tcs.shares.items():
        np.testing.assert_array_equal(
            np.broadcast_to(again.shares[k], shape), np.broadcast_to(v, shape)
        )


# --- export destinations -------------------------------------------------------------------


def _exports(rows: list[tuple], product: bool = False) -> pd.DataFrame:
    cols = ["origin", "destination", "to_stage", "share"] + (["product"] if product else [])
    return pd.DataFrame(rows, columns=cols)


def test_export_destinations_default_to_rest_of_world() -> None:
    ex = ExportDestinations.from_frame(
        _exports([("R0", "R1", "use", 0.5), ("R0", "ROW", "", 0.5)]), DIMS
    )
    links = set(zip(ex.origin.tolist(), ex.destination.tolist(), ex.to_stage, strict=True))
    assert links == {(0, 1, "use"), (0, -1, "sysenv"), (1, -1, "sysenv"), (2, -1, "sysenv")}
    np.testing.assert_allclose(ex.shares.sum(), 3.0)


def test_product_specific_export_rows_replace_the_default() -> None:
    ex = ExportDestinations.from_frame(
        _exports(
            [("R0", "R1", "use", 1.0, ""), ("R0", "R2", "preprocessing", 1.0, "0001")], product=True
        ),
        DIMS,
    )
    k1 = next(i for i in range(len(ex.origin)) if (ex.origin[i], ex.destination[i]) == (0, 1))
    k2 = next(i for i in range(len(ex.origin)) if (ex.origin[i], ex.destination[i]) == (0, 2))
    np.testing.assert_array_equal(ex.shares[k1], [1.0, 0.0])
    np.testing.assert_array_equal(ex.shares[k2], [0.0, 1.0])


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([("R0", "XX", "use", 1.0)], "unknown code 'XX'"),
        ([("R0", "R0", "use", 1.0)], "destination equals origin"),
        ([("R0", "R1", "residual", 1.0)], "cannot arrive in stage 'residual'"),
        ([("R0", "R1", "use", 0.5), ("R0", "R2", "use", 0.4)], "sum to 0.9"),
        ([("R0", "R1", "use", 0.5), ("R0", "R1", "use", 0.5)], "duplicate"),
        ([("R0", "R1", "use", -1.0), ("R0", "R2", "use", 2.0)], ">= 0"),
    ],
)
def test_bad_export_tables_are_errors(rows: list[tuple], match: str) -> None:
    with pytest.raises(TransferCoefficientError, match=match):
        ExportDestinations.from_frame(_exports(rows), DIMS)


def test_stage_enum_matches_structure() -> None:
    assert set(STRUCTURE) == set(Stage)
    assert Stage("use") == "use" and f"{Stage.USE}" == "use"
    assert set(DEFAULT_SHARES) <= {s.value for s in TABLE_STAGES}


def test_export_destinations_for_other_dims_are_rejected() -> None:
    ex = ExportDestinations.to_rest_of_world(make_dims(2, 2, 5))
    with pytest.raises(TransferCoefficientError, match="other regions"):
        ex.check_labels(DIMS)


def test_row_links_keep_used_equipment_apart_from_e_waste() -> None:
    """Used equipment and e-waste shipped outside the modelled regions stay two links."""
    import numpy as np
    import pandas as pd

    from ewaste_tracker.flows.dims import Dims
    from ewaste_tracker.flows.transfer import ExportDestinations

    dims = Dims(("KEN", "UGA"), ("0306",), np.arange(2000, 2003))
    table = pd.DataFrame({
        "origin": ["KEN", "KEN", "KEN"],
        "destination": ["ROW", "ROW", "UGA"],
        "to_stage": ["use", "", "recycling_informal"],
        "share": [0.25, 0.5, 0.25],
    })  # fmt: skip
    ex = ExportDestinations.from_frame(table, dims)
    kinds = {(int(o), int(d), s): float(v[0]) for o, d, s, v in
             zip(ex.origin, ex.destination, ex.to_stage, ex.shares, strict=True)}  # fmt: skip
    assert kinds[(0, -1, "use")] == 0.25
    assert kinds[(0, -1, "sysenv")] == 0.5
    assert kinds[(0, 1, "recycling_informal")] == 0.25
    # the same kind twice to ROW is a duplicate
    twice = pd.concat([table, table.iloc[[0]]], ignore_index=True)
    twice.loc[3, "share"] = 0.0
    try:
        ExportDestinations.from_frame(twice, dims)
    except ValueError as exc:
        assert "duplicate" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a repeated ROW 'use' row must be refused")
