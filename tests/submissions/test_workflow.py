"""Review on both backends: states, roles, the audit trail, and what the estimate reads.

Tests taking ``store`` run on a new GeoPackage and on a new PostgreSQL store.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ewaste_tracker.cli import main
from ewaste_tracker.errors import InputError
from ewaste_tracker.reported.overlay import reported_values
from ewaste_tracker.submissions.store import Store
from ewaste_tracker.submissions.submit import Codes, submit
from ewaste_tracker.submissions.workflow import InvalidTransition, NotFound, PermissionDenied
from tests.conftest import REPO, TEST_DATA

GOOD = TEST_DATA / "good"
CATALOG = GOOD / "catalog"
YEARS = (1980, 2030)
CODES = Codes.from_tables(
    pd.read_csv(CATALOG / "countries.csv", dtype=str),
    pd.read_csv(CATALOG / "products.csv", dtype=str),
)
KEN = GOOD / "KEN_unu_long.csv"


def write(path: Path, country: str, value: float = 412.5) -> Path:
    path.write_text(
        "country,year,product,indicator,value,unit\n"
        f"{country},2019,0306,pom,{value},t\n{country},2020,0108,collected_formal,30,t\n",
        encoding="utf-8",
    )
    return path


def is_pg(store: Path | str) -> bool:
    return isinstance(store, str)


def with_users(store: Path | str) -> Store:
    """The store with a KEN submitter, an NGA submitter and a reviewer."""
    st = Store(store)
    st.add_user("ken", "submitter", country="KEN")
    st.add_user("nga", "submitter", country="NGA")
    st.add_user("rev", "reviewer")
    return st


def test_local_submission_is_published_at_once_and_audited(store: Path | str) -> None:
    rec = submit(KEN, store=store, submitter="ministry", codes=CODES, years=YEARS)
    trail = Store(store).audit(submission_id=rec.id)
    if is_pg(store):  # a shared store waits for a reviewer
        assert rec.state == "submitted"
        assert list(trail["action"]) == ["created", "submit"]
    else:  # the embedded store's local user is its admin: the steps are recorded at once
        assert rec.state == "published"
        assert list(trail["action"]) == ["created", "submit", "accept", "publish"]
        assert list(trail["state_to"]) == ["draft", "submitted", "accepted", "published"]
        assert len(set(trail["actor"])) == 1
    assert set(trail["sha256"]) == {rec.sha256} and set(trail["file_name"]) == {KEN.name}
    assert trail["time_utc"].str.endswith("Z").all() and trail["time_utc"].is_monotonic_increasing


def test_only_published_submissions_feed_the_estimate(store: Path | str, tmp_path: Path) -> None:
    st = Store(store)
    assert reported_values(store).empty
    v1 = submit(write(tmp_path / "a.csv", "KEN", 100.0), store=store, review=True, codes=CODES)
    assert v1.state == "submitted" and reported_values(store).empty
    st.act(v1.id, "accept", reason="checked against the customs data")
    assert reported_values(store).empty  # accepted is not yet published
    st.act(v1.id, "publish")
    got = reported_values(store)
    assert set(got["source"]) == {"submission KEN v1"} and set(got["version"]) == {1}
    v2 = submit(write(tmp_path / "b.csv", "KEN", 200.0), store=store, review=True, codes=CODES)
    st.act(v2.id, "accept")
    assert set(reported_values(store)["version"]) == {1}  # v2 not published: v1 stays
    st.act(v2.id, "publish")
    pom = reported_values(store).query("indicator == 'pom'")
    assert list(pom["value_t"]) == [200.0] and set(pom["version"]) == {2}
    v3 = submit(write(tmp_path / "c.csv", "KEN", 300.0), store=store, review=True, codes=CODES)
    st.act(v3.id, "reject", reason="2019 put on market three times the customs figure")
    assert set(reported_values(store)["version"]) == {2}
    assert Store(store).submission(v3.id).reason.startswith("2019 put on market")


def test_the_audit_trail_shows_every_step(store: Path | str, tmp_path: Path) -> None:
    st = with_users(store)
    ken, rev = st.as_user("ken"), st.as_user("rev")
    a = submit(write(tmp_path / "a.csv", "KEN"), store=ken, codes=CODES, draft=True)
    ken.act(a.id, "submit")
    rev.act(a.id, "accept")
    rev.act(a.id, "publish")
    b = submit(write(tmp_path / "b.csv", "KEN", 9.0), store=ken, codes=CODES)
    rev.act(b.id, "reject", reason="values in kg, not tonnes")
    trail = st.audit(country="KEN")
    steps = trail.loc[trail["submission_id"].notna(),
                      ["submission_id", "actor", "action", "state_from", "state_to"]]  # fmt: skip
    assert steps.astype(object).fillna("").astype(str).values.tolist() == [
        [str(a.id), "ken", "created", "", "draft"],
        [str(a.id), "ken", "submit", "draft", "submitted"],
        [str(a.id), "rev", "accept", "submitted", "accepted"],
        [str(a.id), "rev", "publish", "accepted", "published"],
        [str(b.id), "ken", "created", "", "draft"],
        [str(b.id), "ken", "submit", "draft", "submitted"],
        [str(b.id), "rev", "reject", "submitted", "rejected"],
    ]
    assert trail.iloc[-1]["reason"] == "values in kg, not tonnes"
    assert trail.loc[trail["submission_id"] == b.id, "sha256"].eq(b.sha256).all()
    users = st.audit().query("action == 'user added'")
    assert sorted(users["reason"]) == ["ken", "nga", "rev"]


def test_decisions_follow_the_workflow(store: Path | str, tmp_path: Path) -> None:
    st = Store(store)
    rec = submit(write(tmp_path / "a.csv", "KEN"), store=store, review=True, codes=CODES)
    with pytest.raises(InvalidTransition, match="only a submission that is accepted"):
        st.act(rec.id, "publish")
    with pytest.raises(InputError, match="needs a reason"):
        st.act(rec.id, "reject")
    st.act(rec.id, "reject", reason="incomplete")
    with pytest.raises(InvalidTransition):
        st.act(rec.id, "accept")
    with pytest.raises(NotFound):
        st.act(rec.id + 100, "accept")
    assert list(st.audit(submission_id=rec.id)["action"]) == ["created", "submit", "reject"]


def test_a_draft_is_kept_but_not_used_until_sent_and_published(
    store: Path | str, tmp_path: Path
) -> None:
    st = Store(store)
    rec = submit(write(tmp_path / "a.csv", "KEN"), store=store, draft=True, codes=CODES)
    assert rec.state == "draft" and len(st.submission_values("KEN")) == 2
    assert reported_values(store).empty
    for action in ("submit", "accept", "publish"):
        rec = st.act(rec.id, action)
    assert rec.state == "published" and rec.reviewer is not None
    assert len(reported_values(store)) == 2


def test_a_submitter_writes_for_its_own_country_only(store: Path | str, tmp_path: Path) -> None:
    st = with_users(store)
    ken, rev = st.as_user("ken"), st.as_user("rev")
    nga_file = write(tmp_path / "nga.csv", "NGA")
    with pytest.raises(PermissionDenied, match="may submit data for KEN only") as err:
        submit(nga_file, store=ken, codes=CODES)
    assert (err.value.path, err.value.column, err.value.value) == ("nga.csv", "country", "NGA")
    with pytest.raises(PermissionDenied, match="reviewers do not submit"):
        submit(nga_file, store=rev, codes=CODES)
    assert st.submissions().empty and st.check()["ok"]
    rec = submit(write(tmp_path / "ken.csv", "KEN"), store=ken, codes=CODES)
    assert (rec.state, rec.submitter) == ("submitted", "ken")  # a user's submission waits
    with pytest.raises(PermissionDenied, match="may not accept"):
        ken.act(rec.id, "accept")
    with pytest.raises((PermissionDenied, NotFound)):  # PostgreSQL: NGA does not even see it
        st.as_user("nga").act(rec.id, "submit")
    assert rev.act(rec.id, "accept").reviewer == "rev"


def test_the_cli_refuses_a_kenyan_submitter_nigerian_data(
    store: Path | str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = ["--store", str(store)]
    assert main(["user", "add", "ken", "--role", "submitter", "--country", "KEN", *s]) == 0
    assert main(["user", "add", "rev", "--role", "reviewer", "--token", *s]) == 0
    out = capsys.readouterr().out
    assert "API token (shown once): ewt_" in out
    nga = write(tmp_path / "NGA_2023.csv", "NGA")
    assert main(["submit", str(nga), "--as", "ken", *s]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert "NGA_2023.csv" in err and "column 'country'" in err and "KEN only" in err
    assert Store(store).submissions().empty
    ken = write(tmp_path / "KEN_2023.csv", "KEN")
    assert main(["submit", str(ken), "--as", "ken", *s]) == 0
    assert "waiting for review" in capsys.readouterr().out
    assert main(["review", *s]) == 0
    assert "KEN_2023.csv" in capsys.readouterr().out
    (sid,) = Store(store).submissions()["id"]
    assert main(["publish", str(sid), "--as", "ken", *s]) == 2
    assert "may not publish" in capsys.readouterr().err
    assert main(["accept", str(sid), "--as", "rev", *s]) == 0
    assert main(["reject", str(sid), "--as", "rev", *s]) == 2  # a rejection needs --reason
    assert "--reason" in capsys.readouterr().err
    assert main(["publish", str(sid), "--as", "rev", *s]) == 0
    assert main(["audit", "--country", "KEN", *s]) == 0
    trail = capsys.readouterr().out
    for word in ("created", "submit", "accept", "publish", "ken", "rev"):
        assert word in trail
    assert main(["history", "--country", "KEN", *s]) == 0
    assert "published" in capsys.readouterr().out


def test_tokens_authenticate_until_revoked(store: Path | str) -> None:
    st = with_users(store)
    token = st.create_token("ken", label="ministry script")
    assert st.authenticate(token).country == "KEN"
    assert st.users().set_index("name").loc["ken", "tokens"] == 1
    with pytest.raises(PermissionDenied, match="unknown or revoked"):
        st.authenticate(token + "x")
    assert st.revoke_tokens("ken") == 1
    with pytest.raises(PermissionDenied):
        st.authenticate(token)
    other = st.create_token("nga")
    st.disable_user("nga")
    with pytest.raises(PermissionDenied):
        st.authenticate(other)
    with pytest.raises(PermissionDenied, match="only the store's administrator"):
        st.as_user("rev").add_user("eve", "reviewer")
    actions = list(st.audit()["action"])
    assert actions.count("token created") == 2 and "user disabled" in actions
    assert "ewt_" not in " ".join(st.audit()["reason"].dropna())  # tokens are never kept
    with pytest.raises(InputError, match="a submitter reports for one country"):
        st.add_user("bad", "submitter")
    with pytest.raises(InputError, match="unknown country"):
        st.add_user("bad", "submitter", country="XXX")


def test_the_same_file_twice_is_one_submission_unless_asked_again(
    store: Path | str, tmp_path: Path
) -> None:
    a = write(tmp_path / "a.csv", "KEN", 1.0)
    b = write(tmp_path / "b.csv", "KEN", 2.0)
    r1 = submit(a, store=store, codes=CODES)
    submit(b, store=store, codes=CODES)
    retry = submit(a, store=store, codes=CODES)  # a late retry of the first file
    assert (retry.id, retry.new) == (r1.id, False)
    back = submit(a, store=store, codes=CODES, again=True)  # going back on purpose
    assert (back.version, back.new) == (3, True)


def test_sqlite_triggers_guard_the_embedded_store(tmp_path: Path) -> None:
    s = tmp_path / "s.gpkg"
    rec = submit(KEN, store=s, codes=CODES, years=YEARS)
    con = sqlite3.connect(s)
    try:
        for sql in (
            "UPDATE submissions SET sha256 = 'x'",
            "UPDATE submission_values SET value_t = 0",
            "DELETE FROM submissions",
            "DELETE FROM audit",
            "UPDATE audit SET actor = 'someone else'",
            "UPDATE submissions SET state = 'draft'",
            "INSERT INTO submission_values (submission_id, country, year, product, "
            f"product_level, indicator, value, unit, value_t) VALUES ({rec.id}, 'KEN', 2020, "
            "'0306', 'unu_key', 'pom', 1, 't', 1)",
        ):
            with pytest.raises(sqlite3.DatabaseError):
                con.execute(sql)
    finally:
        con.close()
    assert Store(s).check()["ok"] and len(Store(s).audit()) == 4


V1_SCHEMA = """
PRAGMA application_id = 1196444487;
PRAGMA user_version = 10400;
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
  identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL,
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
CREATE TABLE submissions (fid INTEGER PRIMARY KEY AUTOINCREMENT, country TEXT NOT NULL,
  version INTEGER NOT NULL, submitter TEXT NOT NULL, submitted_utc TEXT NOT NULL,
  file_name TEXT NOT NULL, sha256 TEXT NOT NULL, product_level TEXT NOT NULL,
  n_values INTEGER NOT NULL, first_year INTEGER NOT NULL, last_year INTEGER NOT NULL,
  warnings TEXT NOT NULL, UNIQUE (country, version));
CREATE TABLE submission_values (fid INTEGER PRIMARY KEY AUTOINCREMENT,
  submission_id INTEGER NOT NULL REFERENCES submissions(fid), country TEXT NOT NULL,
  year INTEGER NOT NULL, product TEXT NOT NULL, product_level TEXT NOT NULL,
  indicator TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL, value_t REAL NOT NULL,
  source_sheet TEXT, source_row INTEGER);
CREATE TABLE runs (fid INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL,
  created_utc TEXT NOT NULL, tool_version TEXT NOT NULL, label TEXT NOT NULL,
  parameters TEXT NOT NULL, n_rows INTEGER NOT NULL);
CREATE TABLE run_indicators (fid INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(fid), region TEXT NOT NULL, year INTEGER NOT NULL,
  indicator TEXT NOT NULL, value REAL, unit TEXT NOT NULL, status TEXT NOT NULL,
  source TEXT NOT NULL);
CREATE TABLE tracker_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO tracker_info VALUES ('schema_version', '1');
INSERT INTO gpkg_contents VALUES ('submissions', 'attributes', 'submissions', '',
  '2025-01-01T00:00:00Z', NULL, NULL, NULL, NULL, NULL);
INSERT INTO gpkg_contents VALUES ('run_indicators', 'attributes', 'run_indicators', '',
  '2025-01-01T00:00:00Z', NULL, NULL, NULL, NULL, NULL);
INSERT INTO submissions VALUES (1, 'KEN', 1, 'ministry', '2025-01-01T00:00:00.000000Z',
  'KEN.csv', 'aa', 'unu_key', 2, 2019, 2020, '[]');
INSERT INTO submission_values VALUES (1, 1, 'KEN', 2019, '0306', 'unu_key', 'pom', 412.5, 't',
  412.5, NULL, 2);
INSERT INTO submission_values VALUES (2, 1, 'KEN', 2020, '0306', 'unu_key', 'pom', 455, 't',
  455, NULL, 3);
INSERT INTO runs VALUES (1, 'fp', '2025-01-02T00:00:00.000000Z', '0.1', 'default', '{}', 2);
INSERT INTO run_indicators VALUES (1, 1, 'KEN', 2022, 'generated_t', 51000, 't', 'estimated',
  'model');
INSERT INTO run_indicators VALUES (2, 1, 'GHA', 2022, 'generated_t', 53000, 't', 'estimated',
  'model');
"""


def test_a_version_1_store_is_migrated_and_keeps_what_the_estimate_used(tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    s = tmp_path / "old.gpkg"
    con = sqlite3.connect(s)
    con.executescript(V1_SCHEMA)
    con.close()
    st = Store(s)
    values = reported_values(s)  # opening the store migrates it
    assert list(values["value_t"]) == [412.5, 455.0]  # what the old store fed the estimate
    assert list(st.submissions()["state"]) == ["published"]
    assert list(st.audit()["action"]) == ["migrated"]
    ind = st.run_indicators(1)
    assert list(ind["value"]) == [51000.0, 53000.0] and list(st.runs("GHA")["id"]) == [1]
    layers = set(pyogrio.list_layers(s)[:, 0])
    assert "run_indicators" not in layers and {"submissions", "audit", "runs"} <= layers
    assert st.check()["ok"]
    rec = submit(KEN, store=s, codes=CODES, years=YEARS)  # and it goes on working
    assert (rec.version, rec.state) == (2, "published")


BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"sqlalchemy", "psycopg", "alembic", "fastapi", "uvicorn"}:
            raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, Block())
from ewaste_tracker.cli import main
from ewaste_tracker.submissions.submit import submit
rec = submit(sys.argv[1], store=sys.argv[2], years=(1980, 2030))
assert rec.state == "published", rec
sys.exit(main(["serve", "--store", sys.argv[2]]) * 10
         + main(["history", "--country", "KEN", "--store", "postgresql://u@h/db"]))
"""


def test_the_core_install_works_without_the_server_extra(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK, str(KEN), str(tmp_path / "s.gpkg")],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 22, done.stderr[-2000:]
    assert done.stderr.count("pip install 'ewaste-tracker[server]'") == 2
    assert "Traceback" not in done.stderr
