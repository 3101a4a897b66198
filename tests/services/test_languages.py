"""Service refusals, notes and audit-chain problems in Simplified and Traditional Chinese.

For a representative text of each family the Chinese text must quote no English catalogue text,
and must keep what locates the problem: the scheme, the customer, the date, the seq.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_error_languages import assert_translated
from tierwise import i18n
from tierwise.errors import ConflictError, NotFoundError, SpecError
from tierwise.services import explain_run, runs
from tierwise.services import overrides as override_service
from tierwise.services.auth import LockedOut
from tierwise.services.grading import Project
from tierwise.services.overrides import OverrideRequest
from tierwise.store import Store, audit

ZH = ("zh-Hans", "zh-Hant")
DAY = date(2026, 6, 30)


@pytest.mark.parametrize(("lang", "words"), [("zh-Hans", "请对调"), ("zh-Hant", "請對調")])
def test_backfill_date_errors_keep_the_dates(lang: str, words: str) -> None:
    with i18n.use(lang), pytest.raises(SpecError) as info:
        runs.backfill_dates(date(2026, 5, 31), date(2026, 1, 31))
    message = str(info.value)
    assert "2026-01-31" in message and "2026-05-31" in message and words in message
    assert_translated(message)
    with i18n.use(lang), pytest.raises(SpecError) as info:
        runs.backfill_dates(date(2026, 1, 31), date(2026, 5, 31), every="weekly")
    assert "'weekly'" in str(info.value) and "7d" in str(info.value)
    assert_translated(str(info.value))


@pytest.mark.parametrize(("lang", "saved", "done"), [
    ("zh-Hans", "保存为版本 1", "已运行过"), ("zh-Hant", "儲存為版本 1", "已執行過")])
def test_run_notes_speak_chinese(months: Path, lang: str, saved: str, done: str) -> None:
    project = Project.open(months)
    with i18n.use(lang):
        first = runs.run(project, ["tier"], as_of=DAY)[0]
        again = runs.run(project, ["tier"], as_of=DAY)[0]
    assert any(saved in note and "tier" in note for note in first.notes), first.notes
    note = again.notes[-1]
    assert done in note and "2026-06-30" in note and f"{first.run.id}" in note
    for text in [*first.notes, *again.notes]:
        assert_translated(text)


@pytest.mark.parametrize("lang", ZH)
def test_explain_and_override_refusals_keep_the_customer(months: Path, lang: str) -> None:
    project = Project.open(months)
    runs.run(project, ["tier"], as_of=DAY)
    with i18n.use(lang), pytest.raises(NotFoundError) as info:
        explain_run.explain(project, "tier", "c1", as_of=DAY)
    assert "'c1'" in str(info.value) and "2026-06-30" in str(info.value)
    assert_translated(str(info.value))
    with i18n.use(lang), pytest.raises(NotFoundError) as info:
        override_service.create(project, OverrideRequest("tier", "NOBODY", kind="pin",
                                                         tier="gold", reason="test",
                                                         valid_from=DAY))
    assert "'NOBODY'" in str(info.value) and "'tier'" in str(info.value)
    assert_translated(str(info.value))


@pytest.mark.parametrize(("lang", "word"), [("zh-Hans", "人工调整"), ("zh-Hant", "人工調整")])
def test_the_override_status_conflict_speaks_chinese(months: Path, lang: str, word: str) -> None:
    project = Project.open(months)
    runs.run(project, ["tier"], as_of=DAY)
    made = override_service.create(project, OverrideRequest("tier", "C5", kind="pin", tier="gold",
                                                            reason="key account",
                                                            valid_from=DAY))
    override_service.revoke(project, made.id, actor="supervisor")
    with i18n.use(lang), pytest.raises(ConflictError) as info:
        override_service.approve(project, made.id, actor="supervisor")
    message = str(info.value)
    assert word in message and f"#{made.id}" in message and "revoked" in message
    assert_translated(message)


@pytest.mark.parametrize(("lang", "word"), [("zh-Hans", "审计事件"), ("zh-Hant", "稽核事件")])
def test_audit_chain_problems_speak_chinese(store: Store, lang: str, word: str) -> None:
    import sqlalchemy as sa

    for i in range(1, 6):
        with store.begin() as conn:
            audit.append(conn, actor="analyst", action="override.create", object_type="override",
                         object_id=str(i), before=None, after={"n": i})
    with store.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET after = :after WHERE seq = 3"),
                     {"after": '{"n":30}'})
        conn.execute(sa.text("DELETE FROM audit_events WHERE seq = 5"))
    with store.connect() as conn, i18n.use(lang):
        report = audit.verify(conn)
    assert {p.kind for p in report.problems} >= {"edited"}
    for problem in report.problems:
        assert word in problem.message or "audit_head" in problem.message
        assert "seq" in problem.message
        assert_translated(problem.message)
    edited = next(p for p in report.problems if p.kind == "edited")
    assert "seq 3" in edited.message and "audit_events" in edited.message


@pytest.mark.parametrize(("lang", "text"), [("zh-Hans", "请在 5 分钟后重试"),
                                            ("zh-Hant", "請在 5 分鐘後重試")])
def test_a_lock_out_speaks_chinese(lang: str, text: str) -> None:
    moment = datetime(2026, 6, 30, 12, tzinfo=UTC)
    with i18n.use(lang):
        message = str(LockedOut(moment + timedelta(minutes=4, seconds=30), moment))
    assert text in message
    assert_translated(message)


@pytest.mark.parametrize(("lang", "words"), [("zh-Hans", ("未知方法", "请检查拼写")),
                                             ("zh-Hant", ("未知方法", "請檢查拼寫"))])
def test_an_unknown_method_is_refused_in_chinese(lang: str, words: tuple[str, ...]) -> None:
    from tierwise.methods import registry

    with i18n.use(lang), pytest.raises(SpecError) as info:
        registry.get("rfn")
    message = str(info.value)
    assert "'rfn'" in message and "rfm" in message and all(w in message for w in words)
    assert_translated(message)


@pytest.mark.parametrize(("lang", "fallback"), [("zh-Hans", "请使用 method: rfm 或 rules"),
                                                ("zh-Hant", "請使用 method: rfm 或 rules")])
def test_a_lifetime_model_refuses_thin_data_in_chinese(lang: str, fallback: str) -> None:
    import numpy as np

    from tierwise.errors import MethodError
    from tierwise.methods.lifetime._fit import require_fit_support

    ones = np.ones(30)
    with i18n.use(lang), pytest.raises(MethodError) as info:
        require_fit_support(np.zeros(30), ones * 100, ones, model="BG/NBD")
    message = str(info.value)
    assert message.startswith("BG/NBD") and fallback in message
    assert_translated(message)
