"""The rules editor's condition builder on the real app: rows posted, buttons, counts, texts."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.web.clients import login
from tests.web.test_editor import _fields, _form, _when, client
from tierwise.store import schemes as store_schemes
from tierwise.web import rules_form

__all__ = ["client"]


def _saved_spec(client: TestClient) -> dict:  # type: ignore[type-arg]
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        return store_schemes.versions(conn, "tier")[-1].spec


def _press(client: TestClient, form: dict[str, str], action: str) -> dict[str, str]:
    shown = client.post("/schemes/tier", data={**form, "action": action})
    assert shown.status_code == 200, shown.text
    return _fields(shown.text)


def test_rows_built_without_javascript_are_saved_as_canonical_text(client: TestClient) -> None:
    login(client, "sam")
    form = _form(client)
    assert form["tiers[0].c.join"] == "and" and form["tiers[0].c.0.ind"] == "orders_3m"
    form = _press(client, form, "add_group:0:")  # an OR group with one empty row
    assert form["tiers[0].c.1.join"] == "or" and form["tiers[0].c.1.0.ind"] == ""
    form = _press(client, form, "add_row:0:1")
    form.update({"tiers[0].c.0.v": "5,000", "tiers[0].c.1.0.ind": "spend_3m",
                 "tiers[0].c.1.0.op": ">", "tiers[0].c.1.0.v": "1.2万",
                 "tiers[0].c.1.1.ind": "orders_3m", "tiers[0].c.1.1.op": "between",
                 "tiers[0].c.1.1.v": "1", "tiers[0].c.1.1.v2": "２"})
    saved = client.post("/schemes/tier", data={**form, "action": "save"})
    assert saved.status_code == 303, saved.text
    assert _saved_spec(client)["tiers"][0]["when"] == (
        "orders_3m >= 5000 and (spend_3m > 12000 or orders_3m between 1 and 2)")


def test_rows_that_cannot_be_read_are_reported_where_they_are(client: TestClient) -> None:
    login(client, "sam")
    form = _form(client)
    form = _press(client, form, "add_row:0:")
    form.update({"tiers[0].c.0.v": "5,0", "tiers[0].c.1.ind": "", "action": "save"})
    refused = client.post("/schemes/tier", data=form)
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "tiers[0].c.0" in text and "tier gold, condition 1: '5,0' is not a number" in text
    assert "tier gold, condition 2: choose an indicator" in text
    assert 'value="5,0"' in refused.text  # what the user typed stays
    zh = client.post("/schemes/tier?lang=zh", data=form)
    assert "等级 gold，条件 1：'5,0' 不是数字" in html.unescape(zh.text)
    assert len(_saved_spec(client)["tiers"]) == 3 and _saved_spec(client)["tiers"][0][
        "when"] == "orders_3m >= 3"  # nothing saved


def test_remove_and_switch_between_rows_and_text(client: TestClient) -> None:
    login(client, "sam")
    form = _press(client, _form(client), "add_row:0:")
    form.update({"tiers[0].c.1.ind": "spend_3m", "tiers[0].c.1.op": "<", "tiers[0].c.1.v": "¥800"})
    form = _press(client, form, "remove:0:0")
    assert form["tiers[0].c.0.ind"] == "spend_3m" and "tiers[0].c.1.ind" not in form
    as_text = client.post("/schemes/tier", data={**form, "action": "text:0"})
    assert '>spend_3m &lt; 800</textarea>' in as_text.text
    form = _fields(as_text.text)
    assert form["tiers[0].mode"] == "text"
    form["tiers[0].when"] = "orders_3m + 1 > 3"  # arithmetic: no rows for it
    kept = client.post("/schemes/tier", data={**form, "action": "rows:0"})
    assert "The builder has no rows for this condition" in html.unescape(kept.text)
    form = _fields(kept.text)
    assert form["tiers[0].mode"] == "text" and form["tiers[0].when"] == "orders_3m + 1 > 3"
    form["tiers[0].when"] = "5 <= orders_3m"
    back = _press(client, form, "rows:0")
    assert (back["tiers[0].mode"], back["tiers[0].c.0.ind"], back["tiers[0].c.0.op"],
            back["tiers[0].c.0.v"]) == ("rows", "orders_3m", ">=", "5")


def test_count_button_shows_counts_gaps_and_overlaps(client: TestClient) -> None:
    # As of 2026-06-30 (tests/services/conftest.py) only C1 has orders in the last 3 months
    # (3 of them, spend 300); C2 to C5 have none.
    login(client, "sam")
    form = _form(client)
    form.update({"tiers[1].c.0.v": "0", "tiers[1].c.0.op": ">"})  # silver: orders_3m > 0
    shown = client.post("/schemes/tier", data={**form, "action": "count"})
    assert shown.status_code == 200, shown.text
    text = re.sub(r"\s+", " ", html.unescape(shown.text))
    assert "1 customer matches (100.0% of value); 1 gets this tier (100.0% of value)" in text
    assert "1 customer matches (100.0% of value); 0 get this tier (0.0% of value)" in text
    assert ("1 customer matches both Gold and Silver: Gold is tried first and wins." in text)
    assert "4 customers match no condition and fall to the fallback tier Bronze." in text
    assert "4 customers fall to this tier (no rule above matches them), 0.0% of value" in text
    assert "Value is the sum of spend_3m." in text
    assert "On the latest run's features as of" in text


def test_count_endpoint_answers_json_for_the_script(client: TestClient) -> None:
    csrf = login(client, "sam")
    form = _form(client)
    form.update({"tiers[0].c.0.v": "1"})
    got = client.post("/schemes/tier/count", data=form)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["when"] == {"0": "orders_3m >= 1", "1": "orders_3m >= 1", "2": ""}
    assert "1 customer matches" in body["tiers"]["0"] and "0 get this tier" in body["tiers"]["1"]
    assert "Gold is tried first and wins" in body["panel"]
    # A row being typed (no indicator yet) is left out; a value that cannot be read says so.
    form.update({"tiers[0].c.1.ind": "", "tiers[0].c.1.op": ">=", "tiers[0].c.1.v": "",
                 "tiers[1].c.0.v": "lots"})
    body = client.post("/schemes/tier/count", data=form).json()
    assert body["when"]["0"] == "orders_3m >= 1"
    assert "Cannot count:" in body["tiers"]["1"] and "&#39;lots&#39; is not a number" in \
        body["tiers"]["1"]
    assert client.post("/schemes/tier/count", data={**form, "csrf": "x"}).status_code == 403
    missing = client.post("/schemes/nope/count", data=form)
    assert missing.status_code == 404 and missing.json()["kind"] == "info"
    client.cookies.clear()
    login(client, "max")  # a manager may read the scheme, not edit or count it
    form["csrf"] = _form(client)["csrf"]
    refused = client.post("/schemes/tier/count", data=form)
    assert refused.status_code == 403 and refused.json()["error"]
    assert csrf != form["csrf"]


def test_descriptions_and_strategies_in_three_languages(client: TestClient) -> None:
    login(client, "sam")
    form = _form(client)
    assert form["tiers[0].description.en"] == "" and "tiers[0].strategy.zh-Hant" in form
    form.update({"tiers[0].description.en": "Orders every month",
                 "tiers[0].description.zh": "每月都下单",
                 "tiers[0].strategy.zh-Hant": "專屬客服", "tiers[0].strategy.en": "A personal host",
                 "tiers[0].label.zh-Hant": "金卡", "action": "save"})
    saved = client.post("/schemes/tier", data=form)
    assert saved.status_code == 303 and "same=1" in saved.headers["location"]  # texts only
    tier = _saved_spec(client)["tiers"][0]
    assert tier["description"] == {"en": "Orders every month", "zh": "每月都下单"}
    assert tier["strategy"] == {"en": "A personal host", "zh-Hant": "專屬客服"}
    assert tier["label"] == {"en": "Gold", "zh": "金卡", "zh-Hant": "金卡"}
    page = client.get("/schemes/tier?lang=zh-Hant").text
    assert "專屬客服" in page and _when(client, "tier", 0) == "orders_3m >= 3"


def test_reading_posted_rows_tolerates_holes_and_limits() -> None:
    form = {"tiers[0].c.join": "or", "tiers[0].c.0.ind": "a", "tiers[0].c.0.op": ">",
            "tiers[0].c.0.v": "1", "tiers[0].c.4.join": "and", "tiers[0].c.4.2.ind": "b",
            "tiers[0].c.9.9.ind": "orphan", "tiers[0].c.5.join": "xor",
            "tiers[1].c.0.ind": "other tier"}
    box = rules_form.read_box(form, 0)
    assert box.join == "or" and len(box.items) == 3
    group = box.items[1]
    assert isinstance(group, rules_form.Box) and group.join == "and"
    assert [r.ind for r in group.items if isinstance(r, rules_form.Row)] == ["b"]
    assert isinstance(box.items[2], rules_form.Box) and box.items[2].join == "and"
    written = rules_form.write_box(box, 0)
    assert written["tiers[0].c.1.0.ind"] == "b" and "tiers[0].c.9.9.ind" not in written
    assert rules_form.ACTION.match("add_row:0:1.2") and not rules_form.ACTION.match("drop:0:1")
