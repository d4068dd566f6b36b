"""Axis labels (ewaste_tracker.flows.dims)."""

from __future__ import annotations

import numpy as np
import pytest

from ewaste_tracker.flows.dims import Dims


def test_shape_sizes_and_lookups():
    dims = Dims(("NLD", "KEN"), ("0306", "0108", "0302"), np.arange(1970, 2051), ("Au", "Cu"))
    assert dims.shape == (2, 3, 81)
    assert dims.sizes == {"regions": 2, "products": 3, "years": 81, "elements": 2}
    assert dims.annual
    np.testing.assert_array_equal(dims.product_index(["0302", "0306"]), [2, 0])
    np.testing.assert_array_equal(dims.region_index("KEN"), [1])
    np.testing.assert_array_equal(dims.year_index([1970, 2050]), [0, 80])
    np.testing.assert_array_equal(dims.element_index(["Cu"]), [1])


def test_unknown_labels_are_named():
    dims = Dims(("NLD",), ("0306",), np.arange(2000, 2011))
    with pytest.raises(KeyError, match="0999"):
        dims.product_index(["0999"])
    with pytest.raises(KeyError, match="2030"):
        dims.year_index(2030)


def test_invalid_axes_are_rejected():
    with pytest.raises(ValueError, match="duplicated region"):
        Dims(("NLD", "NLD"), ("0306",), [2000])
    with pytest.raises(ValueError, match="increasing"):
        Dims(("NLD",), ("0306",), [2001, 2000])
    with pytest.raises(ValueError, match="whole"):
        Dims(("NLD",), ("0306",), [2000.5])


def test_dims_are_immutable_values():
    a = Dims(("NLD",), ("0306",), np.arange(2000, 2011))
    b = Dims(["NLD"], ["0306"], list(range(2000, 2011)))
    assert a == b and hash(a) == hash(b)
    assert not Dims(("NLD",), ("0306",), [2000, 2002]).annual
    with pytest.raises(ValueError):
        a.years[0] = 1999
