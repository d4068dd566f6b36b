"""Only published submissions change the estimate, on both backends (``store`` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ewaste_tracker.estimate import estimate
from ewaste_tracker.submissions.store import Store
from ewaste_tracker.submissions.submit import submit

SUBMISSION = """country,year,product,indicator,value,unit
KEN,2019,0306,pom,412.5,t
KEN,2020,0306,pom,455000,kg
"""


@pytest.mark.slow
def test_only_published_submissions_change_the_estimate(store: Path | str, tmp_path: Path) -> None:
    path = tmp_path / "KEN.csv"
    path.write_text(SUBMISSION, encoding="utf-8")
    before = estimate(countries=["KEN"], until=2022, store=store)
    default = before.inputs.pom.set_index(["region", "product", "year"]).loc[("KEN", "0306", 2019)]
    assert default["pom_t"] != pytest.approx(412.5)
    rec = submit(path, store=store, submitter="ministry", review=True)
    st = Store(store)
    st.act(rec.id, "accept")
    accepted = estimate(countries=["KEN"], until=2022, store=store)
    assert accepted.reported.empty
    assert accepted.value("KEN", "pom_t", 2019) == before.value("KEN", "pom_t", 2019)
    st.act(rec.id, "publish")
    published = estimate(countries=["KEN"], until=2022, store=store)
    pom = published.inputs.pom.set_index(["region", "product", "year"])
    assert pom.loc[("KEN", "0306", 2019), "pom_t"] == pytest.approx(412.5)
    assert pom.loc[("KEN", "0306", 2019), "status"] == "reported"
    change = published.value("KEN", "pom_t", 2019) - before.value("KEN", "pom_t", 2019)
    assert change == pytest.approx(412.5 - default["pom_t"])
    trail = st.audit(submission_id=rec.id)
    assert list(trail["action"]) == ["created", "submit", "accept", "publish"]
