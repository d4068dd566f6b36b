"""Country page: a one-page profile in the Global E-waste Monitor's style."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ewaste_tracker.app import state
from ewaste_tracker.app.figures import country as cfig
from ewaste_tracker.app.figures.core import (
    balance_figure,
    balance_text,
    routes_figure,
    trajectory_figure,
)
from ewaste_tracker.app.format import markdown_text, quantity
from ewaste_tracker.app.pages import common
from ewaste_tracker.app.views import country as cviews
from ewaste_tracker.app.views.core import LABELS, country_footprint, element_routes
from ewaste_tracker.app.views.country import group_partners

YEARS = (1990, 2030)


@st.cache_resource(show_spinner=False, max_entries=2)
def _graph(store: tuple) -> object:
    """The lifecycle graph of every region (all years; read-only)."""
    return state.get_bundle().estimate.graph()


@st.cache_resource(show_spinner=False, max_entries=64)
def _sankey(store: tuple, region: str, year: int) -> tuple[Any, Any]:
    from ewaste_tracker.flows.balance import graph_to_sankey

    bundle = state.get_bundle()
    nodes, links = graph_to_sankey(_graph(store), region=region, year=year)  # type: ignore[arg-type]
    return group_partners(
        nodes, links, region=region, names=bundle.names.names, groups=bundle.groups
    )


@st.cache_resource(show_spinner=False, max_entries=64)
def _country(store: tuple, iso3: str) -> pd.DataFrame:
    """The country's indicator rows of the years shown, labels as plain strings (read-only).

    Made once per country: every piece of the profile slices this small frame (about
    12,000 rows) instead of the world table's categorical columns.
    """
    rows = state.get_bundle().region_rows(iso3)
    rows = rows[rows["year"].between(*YEARS).to_numpy()]
    out = pd.DataFrame({c: rows[c].to_numpy() for c in rows.columns})
    for col in ("region", "indicator", "unit", "status", "source", "element"):
        if col in rows.columns and isinstance(rows[col].dtype, pd.CategoricalDtype):
            cat = rows[col].cat
            labels = np.asarray(cat.categories.astype(str), dtype=object)
            codes = cat.codes.to_numpy()
            values = labels[np.maximum(codes, 0)]
            values[codes < 0] = None
            out[col] = values if col == "element" else pd.array(values, dtype="str")
    return out


@st.cache_resource(show_spinner=False, max_entries=2)
def _eu6_rows(store: tuple) -> dict[str, np.ndarray]:
    """Region → row positions in the bundle's six-category table (made once)."""
    from ewaste_tracker.app.bundle import positions

    return positions(state.get_bundle().eu6)


@st.cache_resource(show_spinner=False, max_entries=64)
def _trend(store: tuple, iso3: str) -> tuple[Any, str, str]:
    """The trend chart of one country (it does not depend on the year)."""
    name = state.get_bundle().names.name(iso3)
    trend = cviews.trend(_country(store, iso3), region=iso3, years=YEARS)
    title = f"Put on market, e-waste generated, collected and in use, {name}"
    text = cfig.trend_text(trend, title=title, years=YEARS)
    return cfig.trend_figure(trend, title=title, desc=text), f"Line chart: {title}", text


@st.cache_resource(show_spinner=False, max_entries=64)
def _sources(store: tuple, iso3: str, elements: tuple[str, ...]) -> pd.DataFrame:
    """Where the numbers of the profile come from (every year shown: not per year)."""
    shown = _country(store, iso3)
    keep = (
        shown["indicator"].isin(list(cviews.HEADLINE)).to_numpy()
        | shown["element"].isin(list(elements)).to_numpy()
    )
    return cviews.sources(shown[keep], model_sources=state.get_bundle().model_sources)


@st.cache_resource(show_spinner=False, max_entries=128)
def _year(store: tuple, iso3: str, year: int) -> dict[str, Any]:
    """Headline, categories and Sankey of one country and year."""
    b = state.get_bundle()
    name = b.names.name(iso3)
    out: dict[str, Any] = {
        "name": name,
        "head": cviews.headline(_country(store, iso3), region=iso3, year=year),
    }
    pos = _eu6_rows(store).get(iso3, np.zeros(0, dtype=np.int64))
    cats = cviews.categories(b.eu6.iloc[pos], region=iso3, year=year)
    title = f"E-waste by category, {name}, {year}"
    text = cfig.categories_text(cats, title=title)
    out["categories"] = (
        cfig.categories_figure(cats, title=title, desc=text),
        f"Bar chart: {title}",
        text,
    )
    nodes, links = _sankey(store, iso3, year)
    title = f"Lifecycle of electrical and electronic equipment, {name}, {year} (t)"
    text = cfig.sankey_text(nodes, links, title=title)
    out["sankey"] = (
        cfig.sankey_figure(nodes, links, title=title, desc=text),
        f"Sankey diagram: {title}",
        text,
    )
    return out


@st.cache_resource(show_spinner=False, max_entries=128)
def _minerals(
    store: tuple, iso3: str, year: int, elements: tuple[str, ...], unit: str
) -> dict[str, Any]:
    """Minerals recovered and lost, and where they end, of one country and year."""
    b = state.get_bundle()
    name = b.names.name(iso3)
    mins = cviews.minerals(_country(store, iso3), region=iso3, year=year, elements=elements)
    title = f"Recovered and lost, {name}, {year} ({unit})"
    text = balance_text(mins, unit=unit, title=title)
    out: dict[str, Any] = {
        "balance": (balance_figure(mins, unit=unit, title=title, desc=text), f"Bar chart: {title}",
                    text)
    }  # fmt: skip
    routes = element_routes(b.region_elements(iso3), region=iso3, year=year, elements=elements)
    title = f"Where the elements end, {name}, {year}"
    text = f"{title}: share of each element by route and fate; the table below lists the tonnes."
    out["routes"] = (routes_figure(routes, title=title, desc=text), f"Stacked bar chart: {title}",
                     text)  # fmt: skip
    out["minerals"] = common.readable(mins, labels=LABELS)
    return out


def _profile(
    store: tuple, iso3: str, year: int, elements: tuple[str, ...], unit: str
) -> dict[str, Any]:
    """Every table, figure and text of one profile, each piece cached by what it depends
    on: a year switch redraws neither the trend nor the sources, an element or unit
    change neither the headline, the categories nor the Sankey."""
    out = dict(_year(store, iso3, year))
    out["trend"] = _trend(store, iso3)
    if elements:
        out.update(_minerals(store, iso3, year, elements, unit))
    out["sources"] = _sources(store, iso3, elements)
    return out


def _headline(head: pd.DataFrame) -> None:
    """The headline figures as metrics, four a row."""
    rows = head.set_index("indicator")
    keys = [k for k in cviews.HEADLINE if k in rows.index and k != "population"]
    for start in range(0, len(keys), 4):
        cols = st.columns(4)
        for col, k in zip(cols, keys[start : start + 4], strict=False):
            r = rows.loc[k]
            col.metric(
                cviews.HEADLINE[k],
                quantity(r["value"], str(r["unit"])),
                help=markdown_text(f"{r['status']}: {r['source']}"),
            )


def _chart(item: tuple[str, str, str], key: str) -> None:
    svg, alt, text = item
    state.show_svg(svg, alt=alt, text=text, key=key)


def _footprint(ctx: state.Context, name: str) -> None:
    b, iso3, year = ctx.bundle, ctx.country, ctx.year
    fp = country_footprint(b.region_footprint(iso3), region=iso3, year=year)
    for col in ("All products", "ICT"):
        if f"{col} p5" in fp:  # Monte Carlo bands: the 5-95 % range beside the value
            lo, hi = fp.pop(f"{col} p5"), fp.pop(f"{col} p95")
            fp[f"{col}, 5-95 %"] = [
                "" if np.isnan(a) or np.isnan(z) else f"{quantity(a, u)} – {quantity(z, u)}"
                for a, z, u in zip(lo, hi, fp["Unit"], strict=True)
            ]
        fp[col] = [quantity(v, u) for v, u in zip(fp[col], fp["Unit"], strict=True)]
    front = ["Indicator", "All products", "All products, 5-95 %", "ICT", "ICT, 5-95 %"]
    fp = fp[[c for c in front if c in fp] + [c for c in fp if c not in front]]
    state.show_table(fp.drop(columns="Unit"), alt=f"Footprint, {name}, {year}")
    tr = b.trajectory
    if iso3 in set(tr["region"]):
        title = f"ICT emissions against ITU-T L.1470, {name}"
        state.show_chart(
            trajectory_figure(tr, region=iso3, title=title),
            key="trajectory_chart",
            alt=f"Bar chart: {title}",
            text=f"{title}: embodied, use-phase and operators' emissions by year "
            "against the -45 % path of 2020-2030.",
        )


def _reconciliation(ctx: state.Context, name: str) -> None:
    """The country's reported values reconciled with the model, flagged ones first."""
    reconciled = ctx.bundle.estimate.reconciliation
    if reconciled is None or not len(reconciled):
        return  # nothing reconciled: the reconciliation code is not even imported
    from ewaste_tracker.reconciliation import reconciliation_table

    table = reconciliation_table(ctx.bundle.estimate, ctx.country)
    if table.empty:
        return
    flagged = int(table["flagged"].sum())
    st.subheader(f"Reconciliation of {name}'s reported data: {flagged} value(s) flagged")
    shown = table.sort_values(["flagged", "normalised_residual"], ascending=False)
    state.show_table(shown.drop(columns=["source"]),
                     alt=f"Reported values of {name} reconciled with the model")  # fmt: skip
    st.caption(
        "Weighted least squares under the lifecycle balances (STAN-style): a value is "
        "flagged when its normalised residual is beyond 3. See the documentation page on "
        "reconciliation."
    )


def render(ctx: state.Context) -> None:
    """The country profile."""
    iso3, year = ctx.country, ctx.year
    prof = _profile(ctx.store, iso3, year, ctx.elements, ctx.unit)
    name = prof["name"]
    head = prof["head"]
    st.title(f"{name} ({iso3}), {year}")
    status = ", ".join(sorted(set(head["status"])))
    pop = head.set_index("indicator")["value"].get("population")
    st.caption(
        f"Population {quantity(pop, 'inh')}. Status of these figures: {status} "
        "(reported = from the country's accepted submission; estimated = the "
        "ewaste-tracker model)."
    )
    _headline(head)
    left, right = st.columns(2, gap="medium")
    with left:
        _chart(prof["trend"], "trend_chart")
    with right:
        _chart(prof["categories"], "categories_chart")
    _chart(prof["sankey"], "sankey_chart")
    st.subheader("Minerals recovered and lost")
    if not ctx.elements:
        st.info("No element chosen in the sidebar: choose elements to see their fate.")
    else:
        left, right = st.columns(2, gap="medium")
        with left:
            _chart(prof["balance"], "balance_chart")
        with right:
            _chart(prof["routes"], "routes_chart")
        state.show_static_table(prof["minerals"], key="minerals_table",
                                alt=f"Minerals recovered and lost, {name}, {year}")  # fmt: skip
    if st.toggle(f"Footprint of {name}'s electronics, {year}", key="show_footprint"):
        _footprint(ctx, name)
    _reconciliation(ctx, name)
    st.subheader("Where every number comes from")
    src = prof["sources"]
    state.show_static_table(src, alt=f"Status and source of the numbers of {name}", key="sources")
    rows = ctx.bundle.region_rows(iso3)
    common.downloads(
        rows.reset_index(drop=True),
        name=f"{iso3}_indicators",
        key="dl_country",
        what=f"indicators of {name} ({iso3})",
        years=YEARS,
        elements=ctx.bundle.elements,
        sources=list(src["source"]),
    )
