"""Data page: templates, a national submission (validated, stored, used at once), downloads."""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ewaste_tracker.app import state
from ewaste_tracker.app.format import markdown_text, quantity
from ewaste_tracker.app.pages import common
from ewaste_tracker.app.uploads import KINDS, save_upload
from ewaste_tracker.app.views.country import HEADLINE
from ewaste_tracker.app.views.data import errors_table, warnings_table
from ewaste_tracker.errors import InputError

WATCHED = ("pom_t", "generated_t", "collected_formal_t", "collection_rate")
"""Figures compared before and after a submission is stored."""


def _templates(est: object, iso3: str, by: str) -> bytes:
    """A zip of the country's templates, pre-filled with the estimate (made on click)."""
    from ewaste_tracker.jobs.template import templates_from_estimate

    with tempfile.TemporaryDirectory(prefix="ewt-templates-") as tmp:
        written = templates_from_estimate(est, iso3, tmp, by=by)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in written:
                zf.write(path, arcname=Path(path).name)
    return buf.getvalue()


@st.cache_resource(show_spinner="Checking the submission…", max_entries=8)
def _validate(digest: str, file_name: str, confirm: bool, _data: bytes) -> Any:
    """``(accepted, warnings)`` of an uploaded submission, or the :class:`InputError`."""
    from ewaste_tracker.submissions.submit import read_submission

    try:
        path = save_upload("submission", file_name, _data)
    except InputError as exc:
        return exc
    try:
        return read_submission(path, confirm_outliers=confirm)
    except InputError as exc:
        return exc
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def _store(file_name: str, data: bytes, submitter: str, confirm: bool) -> Any:
    """Validate again and keep the file in the store as the country's next version."""
    from ewaste_tracker.submissions.submit import submit

    path = save_upload("submission", file_name, data)
    try:
        return submit(path, submitter=submitter or None, confirm_outliers=confirm)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def _watched(bundle: state.Bundle, iso3: str) -> pd.DataFrame:
    rows = bundle.region_rows(iso3)
    rows = rows[rows["element"].isna().to_numpy() & rows["indicator"].isin(WATCHED).to_numpy()]
    return pd.DataFrame(
        {
            "indicator": rows["indicator"].astype(str).to_numpy(),
            "year": rows["year"].to_numpy(),
            "value": rows["value"].to_numpy(float),
            "unit": rows["unit"].astype(str).to_numpy(),
            "status": rows["status"].astype(str).to_numpy(),
        }
    )


def _changes(ctx: state.Context) -> None:
    """After a submission was stored: what changed in the country's figures."""
    before = st.session_state.get("submitted")
    if not before:
        return
    iso3, record, old = before
    new = _watched(ctx.bundle, iso3)
    both = old.merge(new, on=["indicator", "year", "unit"], suffixes=("_before", "_after"))
    moved = both[
        ~pd.Series(both["value_before"]).eq(both["value_after"]).to_numpy()
        | (both["status_before"] != both["status_after"]).to_numpy()
    ]
    name = ctx.bundle.names.name(iso3)
    st.success(
        f"Stored: {markdown_text(record)}. The estimate now uses it ({len(moved)} "
        f"figures of {markdown_text(name)} changed)."
    )
    if len(moved):
        moved = moved.assign(
            indicator=moved["indicator"].map(lambda k: HEADLINE.get(k, k)),
            before=[
                quantity(v, u) for v, u in zip(moved["value_before"], moved["unit"], strict=True)
            ],
            after=[
                quantity(v, u) for v, u in zip(moved["value_after"], moved["unit"], strict=True)
            ],
        )
        show = moved[["indicator", "year", "before", "status_before", "after", "status_after"]]
        show = show.rename(
            columns={
                "indicator": "Figure",
                "year": "Year",
                "before": "Before",
                "status_before": "Status before",
                "after": "After",
                "status_after": "Status after",
            }
        )
        state.show_table(
            show, alt=f"Figures of {name} before and after the submission", key="changed_table"
        )


def _submission(ctx: state.Context) -> None:
    st.subheader("Submit national data")
    spec = KINDS["submission"]
    up = st.file_uploader(
        f"A filled template (CSV or Excel, at most {spec.max_bytes // 2**20} MB)",
        type=[s.lstrip(".") for s in spec.suffixes],
        key="submission_upload",
        max_upload_size=spec.max_bytes // 2**20,
    )
    c1, c2 = st.columns(2)
    submitter = c1.text_input(
        "Submitted by", key="submitter", max_chars=120, placeholder="e.g. Ministry of Environment"
    )
    confirm = c2.checkbox(
        "Accept values beyond the plausibility bounds (as warnings)", key="confirm_outliers"
    )
    _changes(ctx)
    if up is None:
        return
    data = up.getvalue()
    got = _validate(hashlib.sha256(data).hexdigest(), up.name, bool(confirm), data)
    if isinstance(got, InputError):
        errors = errors_table(got)
        st.error(
            f"The file was refused: {len(errors)} problem(s), all listed below. Nothing was stored."
        )
        state.show_table(errors, alt="Every problem found in the submission", key="errors")
        return
    accepted, warnings = got
    countries = sorted(set(accepted["country"].astype(str)))
    years = accepted["year"].astype(int)
    st.info(
        f"The file is valid: {len(accepted)} values for "
        f"{', '.join(ctx.bundle.names.name(c) for c in countries)}, "
        f"{years.min()}-{years.max()}."
    )
    if warnings:
        state.show_table(warnings_table(warnings), alt="Warnings of the submission", key="warnings")
    state.show_table(accepted.head(200), alt="The values the file reports", key="accepted")
    if st.button("Store it and use it in the estimate", type="primary", key="store_submission"):
        from ewaste_tracker.submissions.submit import check_submitter

        try:
            check_submitter(submitter or None)
            record = _store(up.name, data, submitter, bool(confirm))
        except InputError as exc:
            st.error("Not stored.")
            state.show_table(errors_table(exc), alt="Why the submission was not stored")
            return
        st.session_state["submitted"] = (
            countries[0],
            str(record),
            _watched(ctx.bundle, countries[0]),
        )
        state.request("country", countries[0])
        st.rerun()


def _downloads(ctx: state.Context) -> None:
    st.subheader("Download results")
    b = ctx.bundle
    name = b.names.name(ctx.country)
    what = st.radio(
        "Table",
        ["country", "world_year", "elements", "footprint", "categories"],
        format_func={
            "country": f"every indicator of {name}, 1970-2030",
            "world_year": f"every indicator of every country, {ctx.year}",
            "elements": f"elements by route, {name}, 1970-2030",
            "footprint": f"footprint of {name}, 1970-2030",
            "categories": f"the six categories, {name}, 1970-2030",
        }.__getitem__,
        key="download_table",
    )
    if what == "country":
        frame = b.region_rows(ctx.country).reset_index(drop=True)
    elif what == "world_year":
        ind = b.indicators
        frame = ind[ind["year"].to_numpy() == ctx.year].reset_index(drop=True)
    elif what == "elements":
        frame = b.region_elements(ctx.country).reset_index(drop=True)
    elif what == "footprint":
        fp = b.estimate.footprint
        frame = fp[(fp["region"] == ctx.country).to_numpy()].reset_index(drop=True)
    else:
        eu6 = b.eu6
        frame = eu6[(eu6["region"] == ctx.country).to_numpy()].reset_index(drop=True)
        frame = frame.assign(unit="t")
    years = sorted(set(frame["year"].astype(int))) if "year" in frame else []
    sources = (
        list(frame["source"].astype(str).unique()[:20])
        if "source" in frame
        else ["ewaste_tracker.jobs.categories.eu6_table of the estimate"]
    )
    st.caption(f"{len(frame):,} rows; columns: {', '.join(map(str, frame.columns))}.")
    common.downloads(
        frame,
        name=f"ewaste_tracker_{what}_{ctx.country}_{ctx.year}",
        what=str(what),
        years=years,
        elements=b.elements,
        sources=sources,
        key="dl_data",
    )


def render(ctx: state.Context) -> None:
    """The data page."""
    st.title("Data: templates, submissions, downloads")
    name = ctx.bundle.names.name(ctx.country)
    st.subheader(f"Templates for {name}")
    by = st.radio(
        "Products",
        ["unu_key", "eu6"],
        horizontal=True,
        key="template_by",
        format_func={"unu_key": "54 UNU-KEYs", "eu6": "the six categories"}.__getitem__,
    )
    state.download(
        f"Templates for {name} (zip: CSV and Excel, pre-filled with the estimate)",
        lambda: _templates(ctx.store, ctx.country, str(by)),
        f"{ctx.country}_templates_{by}.zip",
        "application/zip",
        key="dl_templates",
    )
    _submission(ctx)
    _downloads(ctx)
