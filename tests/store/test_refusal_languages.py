"""The store's refusals in Simplified and Traditional Chinese keep the names and values seen."""

from __future__ import annotations

import pytest

from tests.test_error_languages import assert_translated
from tierwise import i18n
from tierwise.errors import ConflictError, NotFoundError, StoreError
from tierwise.store import Store
from tierwise.store import runs as store_runs
from tierwise.store import users as store_users

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize(("lang", "exists", "role"), [
    ("zh-Hans", "用户 'ana' 已存在", "未知角色 'boss'"),
    ("zh-Hant", "使用者 'ana' 已存在", "未知角色 'boss'"),
])
def test_store_refusals_speak_chinese(store: Store, lang: str, exists: str, role: str) -> None:
    with store.begin() as conn:
        store_users.create(conn, "ana", role="supervisor", password=PASSWORD, actor="admin")
    refusals: list[str] = []
    with i18n.use(lang):
        with store.begin() as conn, pytest.raises(ConflictError) as conflict:
            store_users.create(conn, "ana", role="supervisor", password=PASSWORD, actor="admin")
        refusals.append(str(conflict.value))
        with store.begin() as conn, pytest.raises(StoreError) as unknown:
            store_users.create(conn, "cy", role="boss", password=PASSWORD, actor="admin")
        refusals.append(str(unknown.value))
        with store.connect() as conn, pytest.raises(NotFoundError) as missing:
            store_runs.get(conn, 4711)
        refusals.append(str(missing.value))
    assert refusals[0].startswith(exists)
    assert refusals[1].startswith(role) and "supervisor" in refusals[1]
    assert "4711" in refusals[2] and "`tierwise runs list SCHEME`" in refusals[2]
    for text in refusals:
        assert_translated(text)
