"""What only the PostgreSQL store has: row-level security, Alembic migrations, PostGIS layers.

Needs a PostgreSQL server with PostGIS (``pg_store`` in ``tests/conftest.py``; skipped when
none can be had).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ewaste_tracker.cli import main
from ewaste_tracker.errors import InputError
from ewaste_tracker.submissions import records
from ewaste_tracker.submissions.store import Store
from ewaste_tracker.submissions.submit import Codes, read_submission, submit
from ewaste_tracker.submissions.workflow import PermissionDenied
from tests.conftest import TEST_DATA

psycopg = pytest.importorskip("psycopg")

CATALOG = TEST_DATA / "good" / "catalog"
CODES = Codes.from_tables(
    pd.read_csv(CATALOG / "countries.csv", dtype=str),
    pd.read_csv(CATALOG / "products.csv", dtype=str),
)
INSERT_SUBMISSION = (
    "INSERT INTO submissions (country, version, state, submitter, submitted_utc, file_name, "
    "sha256, product_level, n_values, first_year, last_year, warnings, changed_by, changed_utc) "
    "VALUES (%s, %s, 'draft', 'me', now(), 'f.csv', repeat('a', 64), 'unu_key', 1, 2020, 2020, "
    "'[]', 'me', now()) RETURNING id"
)
INSERT_VALUE = (
    "INSERT INTO submission_values (submission_id, country, year, product, product_level, "
    "indicator, value, unit, value_t) VALUES (%s, %s, 2020, '0306', 'unu_key', 'pom', 1, 't', 1)"
)


def write(path: Path, country: str, value: float = 412.5) -> Path:
    path.write_text(
        "country,year,product,indicator,value,unit\n"
        f"{country},2019,0306,pom,{value},t\n{country},2020,0108,collected_formal,30,t\n",
        encoding="utf-8",
    )
    return path


def connect(url: str, *, user: str | None = None):
    """A plain psycopg connection to the store's database, in the store's schema."""
    st = Store(url)
    params = st._url.set(drivername="postgresql")  # type: ignore[attr-defined]
    if user is not None:
        params = params.set(username=user, password=None)
    con = psycopg.connect(params.render_as_string(hide_password=False), autocommit=True)
    con.execute(f'SET search_path = "{st.schema}", public')  # type: ignore[attr-defined]
    return con


@pytest.fixture
def shared(pg_store: str, tmp_path: Path) -> dict:
    """A store with a KEN submitter (who may log in), an NGA submitter, a reviewer, and one
    published NGA submission and one KEN submission waiting for review."""
    st = Store(pg_store)
    ken = st.add_user("ken", "submitter", country="KEN", sql_login=True)
    st.add_user("nga", "submitter", country="NGA")
    st.add_user("rev", "reviewer")
    nga = submit(write(tmp_path / "nga.csv", "NGA"), store=st.as_user("nga"), codes=CODES)
    for action in ("accept", "publish"):
        st.as_user("rev").act(nga.id, action)
    pending = submit(write(tmp_path / "ken.csv", "KEN"), store=st.as_user("ken"), codes=CODES)
    return {"url": pg_store, "store": st, "ken_role": ken["pg_role"], "nga": nga, "ken": pending}


def test_plain_sql_with_the_kenyan_role_cannot_write_nigerian_data(shared: dict) -> None:
    with connect(shared["url"], user=shared["ken_role"]) as con:
        assert con.execute("SELECT current_user").fetchone()[0] == shared["ken_role"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            con.execute(INSERT_SUBMISSION, ("NGA", 2))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            con.execute(INSERT_VALUE, (shared["nga"].id, "NGA"))
        # values of another country slipped under its own submission: refused as well
        with pytest.raises(psycopg.Error):
            con.execute(INSERT_VALUE, (shared["ken"].id, "NGA"))
        # it reads its own country and what is published, nothing else
        seen = con.execute("SELECT country, state FROM submissions ORDER BY id").fetchall()
        assert seen == [("NGA", "published"), ("KEN", "submitted")]
        assert {r[0] for r in con.execute("SELECT DISTINCT country FROM audit")} == {"KEN"}
        # it cannot review (its rows past the draft are out of reach: nothing is updated) ...
        assert con.execute("UPDATE submissions SET state = 'accepted'").rowcount == 0
        # ... nor rewrite a submission, nor touch the audit trail, the users or the tokens
        for sql in (
            "UPDATE submissions SET sha256 = repeat('b', 64)",
            "UPDATE submission_values SET value_t = 0",
            "DELETE FROM submissions",
            "DELETE FROM audit",
            "SELECT * FROM tokens",
            "INSERT INTO users (name, role, changed_by) VALUES ('me', 'reviewer', 'me')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(sql)
        # its own country it may write: a draft, then its values
        sid = con.execute(INSERT_SUBMISSION, ("KEN", 2)).fetchone()[0]
        con.execute(INSERT_VALUE, (sid, "KEN"))
        who = con.execute("SELECT submitter, changed_by FROM submissions WHERE id = %s", (sid,))
        assert who.fetchone() == ("ken", "ken")  # the database, not the client, says who
        with pytest.raises(psycopg.errors.CheckViolation, match="not an allowed change"):
            con.execute("UPDATE submissions SET state = 'published' WHERE id = %s", (sid,))
    trail = shared["store"].audit(submission_id=sid)
    assert list(trail["actor"]) == ["ken"] and list(trail["action"]) == ["created"]


def test_the_database_refuses_even_when_python_does_not_check(
    shared: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "check_submit", lambda *a, **k: None)
    accepted, _ = read_submission(write(tmp_path / "x.csv", "NGA"), codes=CODES)
    ken = shared["store"].as_user("ken")
    with pytest.raises(PermissionDenied, match="refused by the database"):
        ken.add_submission(accepted, content=b"x", file_name="x.csv")
    assert list(shared["store"].submissions()["country"]) == ["NGA", "KEN"]


def test_set_role_from_the_owner_is_held_to_the_same_rules(shared: dict) -> None:
    with connect(shared["url"]) as con:
        con.execute(f'SET ROLE "{shared["ken_role"]}"')
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute(INSERT_SUBMISSION, ("NGA", 2))


def test_the_cli_as_the_kenyan_login_refuses_nigerian_data(
    shared: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI connecting with KEN's own database role (no --as): the role decides."""
    url = Store(shared["url"])._url  # type: ignore[attr-defined]
    own = url.set(drivername="postgresql", username=shared["ken_role"], password=None)
    target = own.render_as_string(hide_password=False) + f"&schema={shared['store'].schema}"
    assert main(["submit", str(write(tmp_path / "NGA.csv", "NGA", 7.0)), "--store", target]) == 2
    err = capsys.readouterr().err
    assert "NGA.csv" in err and "KEN only" in err
    assert Store(target).whoami().name == "ken"
    assert main(["submit", str(write(tmp_path / "KEN.csv", "KEN", 7.0)), "--store", target]) == 0


def test_alembic_knows_the_head_the_package_expects(pg_store: str) -> None:
    from alembic.script import ScriptDirectory

    from ewaste_tracker.submissions import postgis

    st = Store(pg_store)
    assert st.migrate() == postgis.HEAD_REVISION  # type: ignore[attr-defined]
    assert st.migrate() == postgis.HEAD_REVISION  # again: nothing to do
    folder = Path(postgis.__file__).parent / "migrations"
    script = ScriptDirectory(str(folder))
    assert script.get_current_head() == postgis.HEAD_REVISION
    with connect(pg_store) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        policies = {r[0] for r in con.execute(
            "SELECT tablename FROM pg_policies WHERE schemaname = current_schema()")}  # fmt: skip
        assert {"submissions", "submission_values", "audit", "users"} <= policies


def test_published_submissions_are_a_postgis_layer(shared: dict) -> None:
    with connect(shared["url"]) as con:
        rows = con.execute(
            "SELECT iso3, version, ST_IsValid(geom), ST_SRID(geom), "
            "ST_Contains(geom, ST_SetSRID(ST_MakePoint(8.0, 9.0), 4326)) FROM published_map"
        ).fetchall()
        assert rows == [("NGA", 1, True, 4326, True)]  # Nigeria holds 8°E 9°N; KEN waits
        n = con.execute("SELECT count(*) FROM country_outlines").fetchone()[0]
        assert n > 150


def test_urls_keep_their_password_out_of_messages(pg_url: str) -> None:
    st = Store("postgresql://someone:s3cret@127.0.0.1:1/nowhere?schema=abc")
    assert "s3cret" not in st.display and "s3cret" not in repr(st)
    with pytest.raises(InputError, match="cannot connect") as err:
        st.exists()
    assert "s3cret" not in str(err.value)
    with pytest.raises(InputError, match="not a valid schema"):
        Store("postgresql://u@h/db?schema=Bad-Name")
