"""The editor's form for every method: RFM, ABC, CLV, cluster, scorecard settings and tier texts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import dashboard, login
from tests.web.forms import editor_fields as fields
from tierwise.demo import write_retail
from tierwise.services import runs, scheme_admin
from tierwise.services import versions as version_service
from tierwise.services.demo import copy_example
from tierwise.services.grading import Project

SCHEMES = ("value", "rfm", "rfm_cn", "clv", "clusters")


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("retail")
    copy_example("retail", folder)
    write_retail(folder / "data", customers=200)
    return folder


def every_method(store: Any, project: Project) -> None:
    """Version 1 of the example's schemes, and a store-only ABC and scorecard scheme: one
    scheme of each method."""
    for name in SCHEMES:
        version_service.save(store, project, name, actor="setup")
    for key in ("abc", "scorecard"):
        scheme_admin.create(store, project, scheme_admin.NewScheme(f"{key}_s", None, key),
                            actor="setup")


@pytest.fixture
def client(retail: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    project = Project.open(retail)
    store = runs.open_store(project)
    every_method(store, project)
    store.close()
    with dashboard(retail, {"sam": "supervisor", "max": "manager"}) as test_client:
        yield test_client


def _active(client: TestClient, name: str) -> Any:
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.read() as tx:
        return tx.schemes.active_version(name), tx.schemes.versions(name)[-1]


def _save(client: TestClient, name: str, changes: dict[str, str]) -> Any:
    form = fields(client.get(f"/schemes/{name}").text)
    missing = set(changes) - set(form)
    assert not missing, missing
    form.update(changes)
    form["action"] = "save"
    return client.post(f"/schemes/{name}", data=form)


def test_every_method_shows_its_settings(client: TestClient) -> None:
    login(client, "sam")
    expected = {"rfm": {"scores": "5", "segments": "standard11", "recency":
                        "days_since_last_order", "tiers[10].status": "no",
                        "tiers[0].strategy.zh": "奖励和认可；邀请他们写评价、推荐新客户；新品抢先体验。"},
                "rfm_cn": {"segments": "cn8", "tiers.count": "8"},
                "clv": {"horizon": "12m", "discount_rate": "0.01", "model": "bgnbd",
                        "tiers[0].top_share": "0.05"},
                "clusters": {"k": "4", "algorithm": "kmeans", "log": "yes"},
                "abc_s": {"value": "spend_12m", "by": "value", "tiers[0].cumulative": "0.8"},
                "scorecard_s": {"dimensions[2].normalize": "percentile",
                                "tiers[0].description.zh-Hant": "得分 80 分及以上。"},
                "value": {"tiers[0].description.en": "Frequent buyers with high spend.",
                          "tiers[0].label.zh-Hant": "高價值客戶"}}
    for name, wanted in expected.items():
        page = client.get(f"/schemes/{name}")
        assert page.status_code == 200, name
        shown = fields(page.text)
        for key, value in wanted.items():
            assert shown.get(key) == value, (name, key, shown.get(key))


def test_method_settings_save_as_a_new_version(client: TestClient) -> None:
    login(client, "sam")
    done = _save(client, "rfm", {"tiers[10].status": "yes", "tiers[0].strategy.zh": "新策略"})
    assert done.status_code == 303, done.text
    _active_rfm, latest = _active(client, "rfm")
    assert latest.number == 2
    tiers = {t["key"]: t for t in latest.spec["tiers"]}
    assert tiers["lost"]["status"] is True and tiers["champions"]["strategy"]["zh"] == "新策略"
    assert tiers["champions"]["strategy"]["zh-Hant"] == "獎勵和認可；邀請他們寫評價、推薦新客戶；新品搶先體驗。"
    assert _save(client, "clv", {"horizon": "6m", "tiers[0].top_share": "0.1"}
                 ).status_code == 303
    latest = _active(client, "clv")[1]
    assert latest.spec["horizon"] == "6m" and latest.spec["tiers"][0]["top_share"] == 0.1
    assert _save(client, "abc_s", {"tiers[0].cumulative": "0.7", "by": "customers"}
                 ).status_code == 303
    latest = _active(client, "abc_s")[1]
    assert latest.spec["by"] == "customers" and latest.spec["tiers"][0]["cumulative"] == 0.7
    assert _save(client, "scorecard_s", {"dimensions[0].normalize": "zscore"}).status_code == 303
    assert _active(client, "scorecard_s")[1].spec["dimensions"][0]["normalize"] == {
        "method": "zscore"}
    assert _save(client, "clusters", {"seed": "3"}).status_code == 303
    assert _active(client, "clusters")[1].spec["seed"] == 3


def test_a_text_only_edit_keeps_the_version(client: TestClient) -> None:
    login(client, "sam")
    done = _save(client, "clv", {"tiers[1].description.zh-Hant": "其後 15% 的客戶"})
    assert done.status_code == 303 and "same=1" in done.headers["location"]
    active, latest = _active(client, "clv")
    assert latest.number == 1
    assert active.spec["tiers"][1]["description"]["zh-Hant"] == "其後 15% 的客戶"


def test_invalid_settings_are_shown_next_to_their_field(client: TestClient) -> None:
    login(client, "sam")
    page = _save(client, "clusters", {"k": "3"})  # four tier labels for three clusters
    assert page.status_code == 422
    assert 'message error' in page.text and _active(client, "clusters")[1].number == 1
    assert fields(page.text)["k"] == "3"  # what was typed stays
    bad = _save(client, "clv", {"horizon": "soon"})
    assert bad.status_code == 422 and 'data-path="horizon"' in bad.text


def test_a_reader_sees_the_settings_read_only(client: TestClient) -> None:
    login(client, "max")
    page = client.get("/schemes/clv")
    assert page.status_code == 200
    assert 'name="horizon" type="text" step' not in page.text
    assert 'value="12m" readonly' in page.text and 'value="save"' not in page.text
