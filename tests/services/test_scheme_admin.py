"""Schemes made outside tierwise.yaml: templates, create, duplicate, rename, retire; runs of them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tierwise import i18n
from tierwise.demo import write_retail
from tierwise.errors import ConflictError, NotFoundError, SpecError
from tierwise.services import catalog, scheme_admin
from tierwise.services import runs as recorded
from tierwise.services import versions as version_service
from tierwise.services.demo import copy_example
from tierwise.services.grading import Project
from tierwise.store import Store


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("retail")
    copy_example("retail", folder)
    write_retail(folder / "data", customers=300)
    return Project.open(folder)


@pytest.fixture
def store(retail: Project) -> Store:
    st = recorded.open_store(retail)
    yield st  # type: ignore[misc]
    st.close()


def test_every_template_creates_a_scheme_that_runs_and_records_grades(
        retail: Project, store: Store) -> None:
    names = []
    for t in scheme_admin.templates():
        assert scheme_admin.missing_indicators(retail, t) == [], t.key
        name = f"t_{t.key}"
        saved = scheme_admin.create(store, retail, scheme_admin.NewScheme(
            name, f"From {t.key}", t.key), actor="sam")
        assert saved.number == 1
        names.append(name)
    assert all(n not in retail.spec.schemes for n in names)
    outcomes = recorded.run(retail, names, store=store, actor="sam")
    for outcome in outcomes:
        assert outcome.status == "done", outcome.scheme
        assert outcome.run.official
        assert outcome.notes == []
        grades = pq.read_table(outcome.folder / "grades.parquet")
        assert grades.num_rows == 300
        tiers = {t.key for t in catalog.scheme_tiers(store, outcome.scheme)}
        assert set(grades.column("tier").to_pylist()) <= tiers, outcome.scheme
        assert sum(c.customers for c in outcome.counts) == 300
    with store.read() as tx:
        assert [e.action for e in tx.audit.events(object_id="t_abc")][:1] == ["scheme.created"]
    titles = scheme_admin.titles(store)
    assert titles["t_rfm_cn8"] == "From rfm_cn8"


def test_templates_are_labelled_in_three_languages() -> None:
    for t in scheme_admin.templates():
        assert set(t.title) == {"en", "zh", "zh-Hant"}, t.key
        assert set(t.description) == {"en", "zh", "zh-Hant"}, t.key
        for tier in t.scheme.get("tiers", []):
            for field in ("label", "description", "strategy"):
                if t.key != "blank":
                    assert set(tier.get(field) or {}) == {"en", "zh", "zh-Hant"}, (t.key, tier)
    with i18n.use("zh-Hans"):
        cn8 = scheme_admin.template("rfm_cn8")
        labels = [i18n.label_of(t["label"], "") for t in cn8.scheme["tiers"]]
    assert sorted(labels) == sorted(["重要价值客户", "重要发展客户", "重要保持客户", "重要挽留客户",
                                     "一般价值客户", "一般发展客户", "一般保持客户", "一般挽留客户"])


def test_a_template_the_project_cannot_feed_names_the_indicators_to_add(months: Path) -> None:
    project = Project.open(months)
    st = recorded.open_store(project)
    try:
        fits = {f.template.key: f.missing for f in scheme_admin.fits(project)}
        assert fits["blank"] == []
        assert "spend_12m" in fits["abc"]
        with pytest.raises(SpecError) as caught:
            scheme_admin.create(st, project, scheme_admin.NewScheme("shop", None, "abc"),
                                actor="sam")
        text = str(caught.value)
        assert "spend_12m" in text and "indicators:" in text and "agg: sum" in text
        assert catalog.scheme_names(st) == []
    finally:
        st.close()


def test_keys_are_checked_and_never_taken_twice(retail: Project, store: Store) -> None:
    with pytest.raises(SpecError, match="scheme name"):
        scheme_admin.create(store, retail, scheme_admin.NewScheme("../x"), actor="sam")
    with pytest.raises(ConflictError, match=r"tierwise\.yaml"):
        scheme_admin.create(store, retail, scheme_admin.NewScheme("value"), actor="sam")
    scheme_admin.create(store, retail, scheme_admin.NewScheme("twice"), actor="sam")
    with pytest.raises(ConflictError, match="store"):
        scheme_admin.create(store, retail, scheme_admin.NewScheme("twice"), actor="sam")
    with pytest.raises(NotFoundError, match="template"):
        scheme_admin.create(store, retail, scheme_admin.NewScheme("t2", None, "nope"),
                            actor="sam")
    with pytest.raises(SpecError, match="U\\+0000"):
        scheme_admin.rename(store, "twice", "a\x00b", actor="sam")
    with pytest.raises(SpecError, match="200"):
        scheme_admin.create(store, retail, scheme_admin.NewScheme("t3", "x" * 201),
                            actor="sam")


def test_duplicate_rename_retire_restore(retail: Project, store: Store) -> None:
    scheme_admin.create(store, retail, scheme_admin.NewScheme("orig", "Original", "abc"),
                        actor="sam")
    copy = scheme_admin.duplicate(store, retail, "orig", "orig_copy", title="Copy", actor="sam")
    with store.read() as tx:
        original = tx.schemes.active_version("orig")
        assert tx.schemes.active_version("orig_copy") == copy
    assert copy.number == 1 and copy.spec == original.spec
    assert copy.fingerprint == original.fingerprint
    scheme_admin.rename(store, "orig", "  Shop   ABC ", actor="sue")
    assert scheme_admin.titles(store)["orig"] == "Shop ABC"
    scheme_admin.retire(store, "orig_copy", actor="sue")
    assert "orig_copy" not in catalog.scheme_names(store)
    assert "orig_copy" in catalog.scheme_names(store, retired=True)
    catalog.require_scheme(store, "orig_copy")  # still there to be read and restored
    assert "orig_copy" not in recorded.runnable_schemes(retail, store)
    assert "orig" in recorded.runnable_schemes(retail, store)
    with pytest.raises(ConflictError, match="retired"):
        recorded.run(retail, ["orig_copy"], store=store)
    rows = {r.name: r for r in scheme_admin.listing(store, retail, retired=True)}
    assert rows["orig_copy"].retired and rows["orig"].title == "Shop ABC"
    assert rows["orig"].method == "abc" and rows["orig"].tiers == 3
    assert not rows["orig"].in_file
    scheme_admin.retire(store, "orig_copy", actor="sue", retired=False)
    assert "orig_copy" in catalog.scheme_names(store)
    with store.read() as tx:
        actions = [e.action for e in tx.audit.events(object_id="orig_copy")]
    assert actions[:3] == ["scheme.restored", "scheme.retired", "scheme.created"]


def test_unknown_schemes_are_named_with_both_lists(retail: Project, store: Store) -> None:
    with pytest.raises(NotFoundError, match="or in the store") as caught:
        recorded.run(retail, ["nowhere"], store=store)
    assert "value" in str(caught.value)


def test_a_store_only_scheme_backfills(retail: Project, store: Store) -> None:
    scheme_admin.create(store, retail, scheme_admin.NewScheme("monthly", None, "retail_value"),
                        actor="sam")
    done = recorded.backfill(retail, ["monthly"], [date(2026, 5, 31), date(2026, 6, 30)])
    assert [o.status for o in done] == ["done", "done"]
    assert [r.as_of for r in catalog.runs(store, "monthly")] == [date(2026, 5, 31),
                                                                 date(2026, 6, 30)]


def test_a_dashboard_edit_newer_than_the_file_is_said_to_grade(months: Path) -> None:
    """The file holds version 1, the dashboard saved and activated version 2: the note says 2
    grades and how to update the file, never to activate the file's older version."""
    project = Project.open(months)
    recorded.run(project, ["tier"])
    st = recorded.open_store(project)
    try:
        with st.read() as tx:
            spec = dict(tx.schemes.active_version("tier").spec)
        spec["tiers"] = [dict(t) for t in spec["tiers"]]
        spec["tiers"][0]["when"] = "orders_3m >= 2"
        saved, created = version_service.save_edit(st, project, "tier", spec, actor="sam",
                                                   base=1)
        assert created and saved.number == 2
        version_service.activate(st, "tier", 2, actor="sam")
    finally:
        st.close()
    outcome = recorded.run(project, ["tier"], force=True)[0]
    assert outcome.version == 2
    text = " ".join(outcome.notes)
    assert "version 2" in text and "tierwise scheme show tier" in text
    assert "scheme activate tier 1" not in text


def test_a_fitted_model_names_indicators_by_their_labels(retail: Project) -> None:
    """The run summary, the dashboard and the API describe a model through one service, which
    names the outcome by the project's label in the reader's language."""
    from tierwise.methods.fitted import ClassifierModel
    from tierwise.services.recording import described
    from tierwise.services.texts import SCHEME_ADAPTER

    spec = SCHEME_ADAPTER.validate_python(scheme_admin.template("churn_model").scheme)
    fitted = ClassifierModel(
        kind="outcome", settings={}, classes=["0", "1"],
        training={"rows": 90, "classes": {"0": 60, "1": 30},
                  "target": {"outcome": "orders_6m", "event": "none", "top_share": 0.2}},
        metrics={"folds": 3, "accuracy": 0.8, "balanced_accuracy": 0.7, "auc": 0.75,
                 "log_loss": 0.5},
        medians=[], sha256="ab" * 32, artifact_bytes=None)
    with i18n.use("zh-Hans"):
        trained = described(retail.spec, spec, fitted)[0]
    assert trained == ("训练数据", "90 位客户（其后的时间窗内近6个月订单数为 0 的 30 位，大于 0 的 60 位）")
    assert "orders_6m = 0" in described(None, spec, fitted)[0][1]  # no project: the name
