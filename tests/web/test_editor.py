"""The scheme editor on the real app: check, preview, save, conflict, activate, diff, roles."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import dashboard, login
from tests.web.forms import editor_fields as _fields
from tierwise import i18n
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import schemes as store_schemes
from tierwise.web import editor


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    yaml = months / "tierwise.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        "label: Gold", "label: {en: Gold, zh: 金卡}"), encoding="utf-8")
    project = Project.open(months)
    runs.backfill(project, ["tier", "steady"], [date(2026, 5, 31), date(2026, 6, 30)])
    roles = {"sam": "supervisor", "sue": "supervisor", "max": "manager"}
    with dashboard(months, roles) as test_client:
        yield test_client


def _form(client: TestClient, scheme: str = "tier") -> dict[str, str]:
    """The editor's fields as the page renders them, ready to post back."""
    page = client.get(f"/schemes/{scheme}")
    assert page.status_code == 200, page.text
    return _fields(page.text)


def _as_text(fields: dict[str, str], tier: int, when: str) -> dict[str, str]:
    """``fields`` with tier ``tier``'s condition typed as text ("Edit as text")."""
    return {**fields, f"tiers[{tier}].mode": "text", f"tiers[{tier}].when": when}


def _when(client: TestClient, scheme: str, tier: int) -> str:
    """A tier's condition as the page shows it as text (the builder's text preview too)."""
    page = client.get(f"/schemes/{scheme}").text
    found = re.search(rf'id="f-tiers\[{tier}\]\.(?:preview|when)"[^>]*>([^<]*)</textarea>', page)
    assert found, page
    return html.unescape(found.group(1)).strip()


def _active(client: TestClient, scheme: str = "tier") -> int:
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        found = store_schemes.active_version(conn, scheme)
    assert found is not None
    return found.number


def test_editor_shows_the_active_version(client: TestClient) -> None:
    login(client, "sam")
    listing = client.get("/schemes")  # the scheme list links each scheme's editor
    assert listing.status_code == 200 and 'href="/schemes/steady"' in listing.text
    fields = _form(client)
    # The condition shows as builder rows, and as text beside them.
    assert fields["tiers[0].mode"] == "rows" and fields["tiers[0].c.0.ind"] == "orders_3m"
    assert fields["tiers[0].c.0.op"] == ">=" and fields["tiers[0].c.0.v"] == "3"
    assert _when(client, "steady", 0) == "orders_3m >= 3"
    assert fields["tiers[0].label.en"] == "Gold" and fields["tiers[0].label.zh"] == "金卡"
    assert fields["base"] == "1" and fields["source"] == "1"
    assert "stability.cooldown_days" in fields
    page = client.get("/schemes/steady")
    assert 'name="stability.downgrade_after" type="number" value="2"' in page.text
    assert 'value="save"' in page.text and not re.search(r"<input[^>]* readonly", page.text)
    zh = client.get("/schemes/tier", params={"lang": "zh"})
    assert "另存为新版本" in zh.text and "版本历史" in zh.text
    assert client.get("/schemes/nope").status_code == 404


def test_check_shows_every_problem_at_its_path(client: TestClient) -> None:
    login(client, "sam")
    fields = _form(client)
    fields = _as_text(_as_text(fields, 0, "orders_3m >>> 3"), 1, "nope > 1")
    fields["action"] = "check"
    checked = client.post("/schemes/tier", data=fields)
    assert checked.status_code == 422
    assert "tiers[0].when" in checked.text and "tiers[1].when" in checked.text
    assert "unknown name &#39;nope&#39;" in checked.text
    # The form keeps what the user typed (escaped).
    assert '>orders_3m &gt;&gt;&gt; 3</textarea>' in checked.text
    fields.update({"tiers[0].when": "orders_3m >= 3", "tiers[1].when": "orders_3m >= 1",
                   "stability.cooldown_days": "x"})
    bad_number = client.post("/schemes/tier", data=fields)
    assert bad_number.status_code == 422 and "stability.cooldown_days" in bad_number.text
    fields["stability.cooldown_days"] = ""
    ok = client.post("/schemes/tier", data=fields)
    assert ok.status_code == 200 and "No problems found." in ok.text


def test_preview_of_a_stricter_gold(client: TestClient) -> None:
    login(client, "sam")
    fields = _form(client)
    fields.update({"tiers[0].c.0.v": "4", "action": "preview"})
    shown = client.post("/schemes/tier", data=fields)
    assert shown.status_code == 200, shown.text
    # C1 has 3 orders in the window at 2026-06-30: gold before, silver with the edit.
    assert "0 up, 1 down, 0 new, 0 gone, 4 unchanged" in shown.text
    assert re.search(r'<small class="samples">C1</small>', shown.text)
    assert 'name="tiers[0].c.0.v" type="text" value="4"' in shown.text
    # Nothing was saved.
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        assert [v.number for v in store_schemes.versions(conn, "tier")] == [1]


def test_save_conflict_activate_and_diff(client: TestClient) -> None:
    csrf = login(client, "sam")
    first, stale = _form(client), _form(client)
    first.update({"tiers[0].c.0.v": "4", "note": "stricter gold", "action": "save"})
    saved = client.post("/schemes/tier", data=first)
    assert saved.status_code == 303 and saved.headers["location"] == "/schemes/tier?saved=2"
    page = client.get(saved.headers["location"])
    assert "Version 2 saved; it is not active yet." in page.text
    assert "Activate version 2" in page.text and "stricter gold" in page.text
    assert _active(client) == 1
    # A second edit from the page read before version 2 was saved.
    stale = _as_text(stale, 0, "orders_3m >= 5")
    stale["action"] = "save"
    conflict = client.post("/schemes/tier", data=stale)
    assert conflict.status_code == 409
    assert "Someone saved version 2 meanwhile; reload" in conflict.text
    assert '>orders_3m &gt;= 5</textarea>' in conflict.text
    # The diff between version 2 and the active version 1 (shown by default).
    diff = client.get("/schemes/tier")
    assert "<code>scheme.tiers[0].when</code>" in diff.text
    assert ('<td class="text-break">orders_3m &gt;= 3</td><td class="text-break">orders_3m &gt;= '
            '4</td><td>yes</td>') in diff.text
    assert client.post("/schemes/tier/activate", data={"version": "2"}).status_code == 403
    done = client.post("/schemes/tier/activate", data={"csrf": csrf, "version": "2"})
    assert done.status_code == 303
    assert done.headers["location"] == "/runs?scheme=tier&activated=2"
    assert _active(client) == 2
    # Active "now" means from the latest graded date: the page says so and offers that run.
    after = client.get(done.headers["location"])
    assert ("Version 2 of tier is active from Jun 30, 2026 (the latest graded date). Grades "
            "change when that date is graded again.") in after.text
    assert "Run now for Jun 30, 2026" in after.text
    assert _when(client, "tier", 0) == "orders_3m >= 4"
    back = client.get("/schemes/tier", params={"diff": "1"})
    assert ('<td class="text-break">orders_3m &gt;= 4</td><td class="text-break">orders_3m &gt;= '
            '3</td><td>yes</td>') in back.text


def test_label_only_edit_updates_texts_not_a_new_version(client: TestClient) -> None:
    login(client, "sue")
    fields = _form(client)
    fields.update({"tiers[1].label.zh": "银卡", "action": "save"})
    saved = client.post("/schemes/tier", data=fields)
    assert saved.status_code == 303 and "same=1" in saved.headers["location"]
    assert "changes no grade" in client.get(saved.headers["location"]).text
    assert _form(client)["tiers[1].label.zh"] == "银卡"


def test_manager_reads_but_may_not_edit(client: TestClient) -> None:
    csrf = login(client, "max")
    page = client.get("/schemes/tier")
    assert page.status_code == 200
    assert re.search(r'<select [^>]*name="tiers\[0\]\.c\.0\.ind"[^>]* disabled>', page.text)
    assert 'name="tiers[0].c.0.v" type="text" value="3" data-field="v"' in page.text
    assert "Add a condition" not in page.text and "builder.js" not in page.text
    assert 'value="save"' not in page.text and "Activate version" not in page.text
    fields = _form(client)
    fields["action"] = "check"
    assert client.post("/schemes/tier", data=fields).status_code == 403
    assert client.post("/schemes/tier/activate",
                       data={"csrf": csrf, "version": "1"}).status_code == 403
    client.cookies.clear()
    login(client, "sam")
    fields = _form(client)
    del fields["csrf"]
    fields["action"] = "save"
    assert client.post("/schemes/tier", data=fields).status_code == 403


def test_edited_spec_from_a_form() -> None:
    spec = {"method": "rules", "tiers": [{"key": "a", "label": {"en": "A"}, "when": "x > 1"},
                                         {"key": "b"}], "fallback": "b"}
    form = {"tiers[0].label.en": "", "tiers[0].label.zh": "甲", "tiers[0].when": " x > 2 ",
            "tiers[1].when": "", "stability.upgrade_after": "2",
            "stability.cooldown_days": ""}
    out = editor.edited_spec(spec, form)
    assert out["tiers"][0] == {"key": "a", "label": {"zh": "甲"}, "when": "x > 2"}
    assert out["tiers"][1] == {"key": "b"}
    assert out["stability"] == {"upgrade_after": 2}
    assert spec["tiers"][0]["when"] == "x > 1"  # the stored spec is not changed
    assert "stability" not in editor.edited_spec(spec, {"stability.cooldown_days": ""})
    card = {"method": "scorecard", "tiers": [{"key": "a", "min_score": 60}, {"key": "b"}]}
    edited = editor.edited_spec(card, {"tiers[0].min_score": "70.5", "tiers[0].top_share": "",
                                       "tiers[1].min_score": "lots", "tiers[0].when": "x"})
    assert edited["tiers"] == [{"key": "a", "min_score": 70.5}, {"key": "b", "min_score": "lots"}]
    assert editor.form_values(card)["tiers[0].min_score"] == "60"


def test_other_methods_show_their_own_settings(client: TestClient) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    spec = {"method": "abc", "value": "spend_3m",
            "tiers": [{"key": "a", "label": {"en": "<A>"}, "cumulative": 0.8}, {"key": "c"}]}
    with store.begin() as conn:
        store_schemes.save_version(conn, "value", spec=spec, indicators={}, fingerprint="x",
                                   actor="setup")
        store_schemes.activate(conn, "value", 1, actor="setup",
                               effective_from=store_schemes.FOREVER)
    login(client, "sam")
    page = client.get("/schemes/value")
    assert page.status_code == 200
    # The method's settings as a form (web/method_forms.py), the definition as JSON below it.
    assert 'name="tiers[0].cumulative" type="number" step="any" value="0.8"' in page.text
    assert 'name="by"' in page.text and "&#34;cumulative&#34;: 0.8" in page.text
    assert 'name="tiers[0].when"' not in page.text and "&lt;A&gt;" in page.text


def test_add_move_and_remove_tiers_then_save(client: TestClient) -> None:
    login(client, "sam")
    fields = _form(client)
    assert fields["tiers.count"] == "3" and fields["tiers[2].key"] == "bronze"
    assert fields["fallback"] == "bronze"
    # The fallback tier has no condition to edit: the page says what it takes instead.
    assert "tiers[2].when" not in fields
    page = client.get("/schemes/tier").text
    assert "it takes every customer no rule above matches" in page
    # The fallback choice names each tier by its label, key beside it.
    assert re.search(r'<option value="bronze" selected>Bronze \(bronze\)</option>', page)
    fields["tiers[1].c.0.v"] = "2"  # typed before pressing "Add a tier"
    added = client.post("/schemes/tier", data={**fields, "action": "add_tier"})
    assert added.status_code == 200, added.text
    # The new tier goes above the fallback, with an empty key field; the typed text is kept.
    form = _fields(added.text)
    assert form["tiers.count"] == "4" and form["tiers[2].key"] == "" and \
        form["tiers[3].key"] == "bronze" and form["tiers[1].c.0.v"] == "2"
    form = _as_text(form, 2, "orders_3m >= 5")
    form.update({"tiers[2].key": "platinum", "tiers[2].label.en": "Platinum"})
    form = _fields(client.post("/schemes/tier", data={**form, "action": "up:2"}).text)
    assert [form[f"tiers[{i}].key"] for i in range(4)] == ["gold", "platinum", "silver",
                                                             "bronze"]
    # A new tier's key stays editable until saved; a stored tier's key is fixed.
    page = client.post("/schemes/tier", data={**form, "action": "up:1"}).text
    assert 'name="tiers[0].key" type="text" value="platinum"' in page
    assert '<input type="hidden" name="tiers[1].key" value="gold">' in page
    form = _fields(page)
    assert [form[f"tiers[{i}].key"] for i in range(4)] == ["platinum", "gold", "silver",
                                                             "bronze"]
    shown = client.post("/schemes/tier", data={**form, "action": "preview"})
    assert shown.status_code == 200, shown.text
    assert re.search(r"\d+ up, \d+ down, 0 new, 0 gone, \d+ unchanged", shown.text)
    saved = client.post("/schemes/tier", data={**form, "action": "save", "note": "platinum"})
    assert saved.status_code == 303, saved.text
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        spec = store_schemes.versions(conn, "tier")[-1].spec
    assert [t["key"] for t in spec["tiers"]] == ["platinum", "gold", "silver", "bronze"]
    assert spec["tiers"][0] == {"key": "platinum", "label": {"en": "Platinum"},
                                "when": "orders_3m >= 5"}
    assert spec["tiers"][1]["label"] == {"en": "Gold", "zh": "金卡"}  # kept by key
    assert spec["tiers"][2]["when"] == "orders_3m >= 2" and spec["fallback"] == "bronze"


def test_a_rules_tier_is_made_a_status_in_the_form(client: TestClient) -> None:
    login(client, "sam")
    fields = _form(client)
    # Every rules tier has the status choice, "no" for the stored tiers (none is a status).
    assert [fields[f"tiers[{i}].status"] for i in range(3)] == ["no", "no", "no"]
    added = _fields(client.post("/schemes/tier", data={**fields, "action": "add_tier"}).text)
    form = _as_text(added, 2, "orders_3m == 0")
    form.update({"tiers[2].key": "lapsed", "tiers[2].label.en": "Lapsed",
                 "tiers[2].status": "yes"})
    saved = client.post("/schemes/tier", data={**form, "action": "save", "note": "lapsed"})
    assert saved.status_code == 303, saved.text
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        spec = store_schemes.versions(conn, "tier")[-1].spec
    assert spec["tiers"][2] == {"key": "lapsed", "label": {"en": "Lapsed"}, "status": True,
                                "when": "orders_3m == 0"}
    assert all("status" not in t for i, t in enumerate(spec["tiers"]) if i != 2)


def test_removing_the_fallback_tier_is_reported(client: TestClient) -> None:
    login(client, "sam")
    fields = _form(client)
    removed = client.post("/schemes/tier", data={**fields, "action": "remove:2"})
    form = _fields(removed.text)
    assert form["tiers.count"] == "2" and "bronze" not in removed.text.split("<select")[1] \
        .split("</select>")[0]
    # The fallback select no longer offers bronze; a stale value is reported by the check.
    checked = client.post("/schemes/tier", data={**form, "fallback": "bronze",
                                                 "action": "check"})
    assert checked.status_code == 422 and "fallback" in checked.text
    # Choosing silver as the fallback, with silver's condition removed, passes.
    form = _as_text(form, 1, "")
    form.update({"fallback": "silver", "action": "check"})
    ok = client.post("/schemes/tier", data=form)
    assert ok.status_code == 200 and "No problems found." in ok.text, ok.text
    new_key = client.post("/schemes/tier", data={**form, "action": "add_tier"})
    form = _fields(new_key.text)
    form.update({"tiers[1].key": "Bad Key!", "action": "check"})
    bad = client.post("/schemes/tier", data=form)
    assert bad.status_code == 422 and "tiers[1].key" in bad.text


def test_go_live_date_schedules_a_version(client: TestClient) -> None:
    csrf = login(client, "sam")
    fields = _form(client)
    fields.update({"tiers[0].c.0.v": "4", "action": "save"})
    assert client.post("/schemes/tier", data=fields).status_code == 303
    later = date.today().replace(year=date.today().year + 1)
    done = client.post("/schemes/tier/activate",
                       data={"csrf": csrf, "version": "2", "go_live": later.isoformat()})
    assert done.status_code == 303
    assert done.headers["location"] == "/runs?scheme=tier&activated=2"
    page = client.get(done.headers["location"])
    assert (f"Version 2 of tier goes live on {i18n.date(later)}. Grades change when that "
            "date is graded") in page.text
    assert "Run now for" not in page.text  # nothing to run before the go-live date
    assert f"goes live {i18n.date(later)}<" in client.get("/schemes/tier").text  # versions
    assert _active(client) == 1  # still version 1 today
    bad = client.post("/schemes/tier/activate",
                      data={"csrf": csrf, "version": "2", "go_live": "next week"})
    assert bad.status_code == 400
    # Refused in the editor: a danger alert that says why, the typed date kept in its form.
    alert = re.search(r'<div class="alert alert-danger[^"]*" role="alert">(.*?)</div>', bad.text,
                      re.S)
    assert alert and "The go-live date 'next week' is not a date" in html.unescape(alert[1])
    assert 'name="go_live" type="date" min=' in bad.text and 'value="next week"' in bad.text
    assert _active(client) == 1
    zh = client.get(done.headers["location"] + "&lang=zh")
    assert f"{later.year}年{later.month}月{later.day}日" in zh.text


def test_weights_and_margin_from_the_form() -> None:
    card = {"method": "scorecard", "dimensions": [{"indicator": "x", "weight": 2.0},
                                                  {"indicator": "y", "weight": 1}],
            "tiers": [{"key": "a", "min_score": 60}, {"key": "b"}]}
    values = editor.form_values(card)
    assert values["dimensions[0].weight"] == "2" and "fallback" not in values
    edited = editor.edited_spec(card, {"dimensions[1].weight": "3.5",
                                       "stability.downgrade_margin": "0.1",
                                       "stability.cooldown_days": "30"})
    assert [d["weight"] for d in edited["dimensions"]] == [2.0, 3.5]
    assert edited["stability"] == {"downgrade_margin": 0.1, "cooldown_days": 30}
    reshaped = editor.reshape({"tiers.count": "2", "tiers[0].key": "a", "tiers[1].key": "b",
                               "tiers[1].min_score": "", "x": "1"}, "down:0")
    assert reshaped["tiers[0].key"] == "b" and reshaped["tiers[1].key"] == "a"
    assert reshaped["x"] == "1"
    assert editor.reshape(reshaped, "remove:7") == reshaped  # out of range: unchanged
