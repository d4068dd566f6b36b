"""The HTTP API for submissions, on both backends (``store`` runs each test twice)."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx2")

from fastapi.testclient import TestClient

from ewaste_tracker.api.app import create_app
from ewaste_tracker.cli import main
from ewaste_tracker.errors import InputErrors
from ewaste_tracker.reported.overlay import reported_values
from ewaste_tracker.submissions.store import Store
from ewaste_tracker.submissions.submit import Codes, read_submission
from tests.conftest import TEST_DATA

GOOD, BAD = TEST_DATA / "good", TEST_DATA / "bad"
CATALOG = GOOD / "catalog"
BAD_FILES = sorted(pd.read_csv(BAD / "index.csv", dtype=str)["file"])
YEARS = (1980, 2030)
CODES = Codes.from_tables(
    pd.read_csv(CATALOG / "countries.csv", dtype=str),
    pd.read_csv(CATALOG / "products.csv", dtype=str),
)


def csv(country: str, value: float = 412.5) -> bytes:
    return (
        "country,year,product,indicator,value,unit\n"
        f"{country},2019,0306,pom,{value},t\n{country},2020,0108,collected_formal,30,t\n"
    ).encode()


class Api:
    """A test client over a store with a KEN submitter, an NGA submitter and a reviewer."""

    def __init__(self, store: Path | str, *, max_bytes: int = 1_000_000, catalogue: bool = False,
                 ) -> None:  # fmt: skip
        self.store = Store(store)
        self.tokens = {}
        for name, role, country in (("ken", "submitter", "KEN"), ("nga", "submitter", "NGA"),
                                    ("rev", "reviewer", None)):  # fmt: skip
            self.store.add_user(name, role, country=country)
            self.tokens[name] = self.store.create_token(name)
        codes, years = (None, None) if catalogue else (CODES, YEARS)
        self.client = TestClient(create_app(self.store, max_bytes=max_bytes, codes=codes,
                                            years=years))  # fmt: skip

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def send(self, who: str, body: bytes, name: str = "KEN_2023.csv", **params):
        return self.client.post("/v1/submissions", content=body, headers=self.h(who),
                                params={"file_name": name, **params})  # fmt: skip

    def act(self, who: str, sid: int, action: str, reason: str | None = None):
        body = None if reason is None else {"reason": reason}
        return self.client.post(f"/v1/submissions/{sid}/{action}", json=body, headers=self.h(who))


@pytest.fixture
def api(store: Path | str) -> Api:
    return Api(store)


def test_every_call_but_health_needs_a_valid_token(api: Api) -> None:
    c = api.client
    assert c.get("/v1/health").json()["status"] == "ok"
    assert c.get("/v1/me").status_code == 401
    r = c.post("/v1/submissions", params={"file_name": "a.csv"}, content=csv("KEN"))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    bad = {"Authorization": "Bearer ewt_not-a-token"}
    assert c.get("/v1/submissions", headers=bad).status_code == 401
    assert c.get("/v1/me", headers=api.h("ken")).json() == {
        "name": "ken", "role": "submitter", "country": "KEN"}  # fmt: skip
    api.store.revoke_tokens("ken")
    assert c.get("/v1/me", headers=api.h("ken")).status_code == 401


def test_a_kenyan_submitter_cannot_send_nigerian_data(api: Api) -> None:
    r = api.send("ken", csv("NGA"), name="NGA_2023.csv")
    assert r.status_code == 403
    assert r.json()["errors"][0] | {"message": None} == {
        "message": None, "file": "NGA_2023.csv", "row": None, "column": "country",
        "value": "NGA", "expected": "KEN"}  # fmt: skip
    assert "may submit data for KEN only" in r.json()["detail"]
    assert api.store.submissions().empty
    assert api.send("rev", csv("NGA")).status_code == 403  # reviewers do not submit
    assert api.send("nga", csv("NGA"), name="NGA_2023.csv").status_code == 201


def test_a_retry_is_the_same_submission(api: Api) -> None:
    first = api.send("ken", csv("KEN"))
    again = api.send("ken", csv("KEN"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["new"] is False
    assert first.json()["state"] == "submitted"  # API users always go through review
    assert len(api.store.submissions()) == 1


def test_concurrent_retries_of_one_file_store_it_once(api: Api) -> None:
    codes, errors = [], []

    def send() -> None:
        try:
            codes.append(api.send("ken", csv("KEN", 99.0)).status_code)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(codes) == [200] * 5 + [201]
    assert len(api.store.submissions()) == 1 and api.store.check()["ok"]


@pytest.fixture(scope="module")
def gpkg_api(tmp_path_factory: pytest.TempPathFactory) -> Api:
    """One API over one GeoPackage for the tests that store nothing."""
    return Api(tmp_path_factory.mktemp("api") / "s.gpkg")


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_gets_the_cli_messages(gpkg_api: Api, name: str) -> None:
    api = gpkg_api
    r = api.send("ken", (BAD / name).read_bytes(), name=name)
    assert r.status_code == 422
    with pytest.raises(InputErrors) as cli:
        read_submission(BAD / name, codes=CODES, years=YEARS)
    prefix = str(BAD) + "/"
    got = r.json()["errors"]
    assert [e["message"] for e in got] == [str(e).replace(prefix, "") for e in cli.value.errors]
    assert [(e["row"], e["column"]) for e in got] == [(e.row, e.column) for e in cli.value.errors]
    assert r.json()["detail"] == str(cli.value).replace(prefix, "")
    assert api.store.submissions().empty


def test_the_api_and_the_cli_print_the_same_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(tmp_path / "s.gpkg", catalogue=True)  # the CLI's codes and years
    monkeypatch.chdir(BAD)
    name = "many_errors.csv"
    assert main(["submit", name, "--store", str(tmp_path / "cli.gpkg")]) == 2
    cli = capsys.readouterr().err.removeprefix("error: ").strip()
    api_text = api.send("ken", (BAD / name).read_bytes(), name=name).json()["detail"]
    assert api_text == cli


def test_size_is_limited_before_the_body_is_read(tmp_path: Path) -> None:
    api = Api(tmp_path / "s.gpkg", max_bytes=200)
    big = csv("KEN") + b"KEN,2021,0306,pom,1,t\n" * 20
    r = api.send("ken", big)
    assert r.status_code == 413 and "at most 200 bytes" in r.json()["detail"]
    chunks = api.client.post(
        "/v1/submissions", params={"file_name": "a.csv"}, headers=api.h("ken"),
        content=iter([big[:150], big[150:]]),  # no Content-Length: counted while read
    )  # fmt: skip
    assert chunks.status_code == 413
    assert api.send("ken", b"").status_code == 422
    assert api.send("ken", csv("KEN"), name="../../etc/KEN.csv").json()["file_name"] == "KEN.csv"
    assert api.store.check()["submissions"] == 1


def test_review_through_the_api_and_only_published_data_is_used(api: Api) -> None:
    sid = api.send("ken", csv("KEN")).json()["id"]
    assert api.act("ken", sid, "accept").status_code == 403
    assert api.act("rev", sid, "publish").status_code == 409  # not accepted yet
    assert api.act("rev", sid, "reject").status_code == 422  # a rejection needs a reason
    assert api.act("rev", sid, "accept", "matches the customs data").json()["state"] == "accepted"
    assert reported_values(api.store).empty
    assert api.client.get("/v1/published", headers=api.h("ken")).json() == []
    assert api.act("rev", sid, "publish").json()["reviewer"] == "rev"
    published = api.client.get("/v1/published", headers=api.h("nga")).json()
    assert {r["source"] for r in published} == {"submission KEN v1"}
    assert len(reported_values(api.store)) == 2
    trail = api.client.get("/v1/audit", params={"submission_id": sid}, headers=api.h("rev"))
    assert [(r["actor"], r["action"]) for r in trail.json()] == [
        ("ken", "created"), ("ken", "submit"), ("rev", "accept"), ("rev", "publish")]  # fmt: skip
    assert {r["sha256"] for r in trail.json()} == {api.store.submission(sid).sha256}
    values = api.client.get(f"/v1/submissions/{sid}/values", headers=api.h("ken")).json()
    assert sorted(v["value_t"] for v in values) == [30.0, 412.5]


def test_drafts_are_sent_by_their_submitter(api: Api) -> None:
    r = api.send("ken", csv("KEN"), draft="true")
    sid = r.json()["id"]
    assert r.json()["state"] == "draft"
    assert api.act("rev", sid, "submit").status_code == 403
    assert api.act("ken", sid, "submit").json()["state"] == "submitted"
    listed = api.client.get("/v1/submissions", params={"state": "submitted"},
                            headers=api.h("ken")).json()  # fmt: skip
    assert [s["id"] for s in listed] == [sid]


def test_the_openapi_description_covers_the_api(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert spec["info"]["title"] == "ewaste-tracker submissions API"
    paths = spec["paths"]
    for p in ("/v1/submissions", "/v1/submissions/{submission_id}/{action}", "/v1/audit",
              "/v1/published", "/v1/me"):  # fmt: skip
        assert p in paths
    post = paths["/v1/submissions"]["post"]
    assert {"text/csv", "application/octet-stream"} <= set(post["requestBody"]["content"])
    assert {"200", "201", "401", "403", "413", "422"} <= set(post["responses"])
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_serve_binds_to_localhost_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    assert main(["serve", "--store", str(tmp_path / "s.gpkg"), "--port", "8123"]) == 0
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    assert main(["serve", "--store", str(tmp_path / "s.gpkg"), "--port", "0"]) == 2
