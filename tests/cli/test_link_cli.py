"""``tierwise link``: run, review, accept, reject, show, and the store that keeps them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.cli.running import flat, invoke
from tierwise.demo._common import write_csv
from tierwise.demo._systems import build
from tierwise.services import linkage as service
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import audit
from tierwise.store import linkage as stored

pytest.importorskip("splink")

PROJECT = """\
name: shops
sources:
  customers: {path: data/shop_members.csv, id: member_id}
  shop_members: {path: data/shop_members.csv, id: member_id}
  app_members: {path: data/app_members.csv, id: member_id}
  store_members: {path: data/store_members.csv, id: member_id}
linkage:
  systems:
    shop: {source: shop_members, label: {en: Online shop, zh: 网店}}
    app: {source: app_members, label: {en: App, zh: 应用}}
    store: {source: store_members, label: {en: Stores, zh: 门店}}
  fields:
    name: {kind: name, label: {en: Name, zh: 姓名}}
    mobile: phone
    email: email
    id_card: id
    birth_date: date
"""


def write_shops(folder: Path, people: int = 400) -> Path:
    """The three systems' members of ``people`` people, and a project linking them."""
    for name, table in build(people, seed=5).tables.items():
        write_csv(table, folder / "data" / f"{name}_members.csv")
    (folder / "tierwise.yaml").write_text(PROJECT, encoding="utf-8")
    return folder


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return write_shops(tmp_path / "shops")


def _version(folder: Path) -> stored.LinkVersion:
    store = runs.open_store(Project.open(folder))
    try:
        with store.connect() as conn:
            found = stored.version(conn)
    finally:
        store.close()
    assert found is not None
    return found


def _service(folder: Path, call: Any, *args: Any, **kwargs: Any) -> Any:
    """A linkage service call on the project's own store."""
    proj = Project.open(folder)
    store = runs.open_store(proj)
    try:
        return call(proj, store, *args, **kwargs)
    finally:
        store.close()


def test_link_run_review_decide_and_run_again(project: Path) -> None:
    done = invoke("link", "run", "-p", project)
    assert done.exit_code == 0, done.output
    assert "linkage version 1:" in flat(done.output)
    first = _version(project)
    assert first.records == pq.read_metadata(project / first.folder / "records.parquet").num_rows
    assert (project / first.folder / "mapping.parquet").exists()

    count, pairs = _service(project, service.review, limit=100)
    assert count == first.review and count > 0
    shown = invoke("link", "review", "--limit", "1", "--lang", "zh", "-p", project)
    assert shown.exit_code == 0, shown.output
    assert "姓名" in shown.output and pairs[0].left.id in shown.output

    # A pair to link (the most likely) and a pair linked by the model to keep apart.
    join = pairs[0]
    mapping = pq.read_table(project / first.folder / "mapping.parquet").to_pylist()
    linked = next(r for r in mapping if r["records"] == 2)
    other = sorted(r["unique_id"] for r in mapping if r["customer_id"] == linked["customer_id"])
    assert invoke("link", "accept", join.left.id, join.right.id, "--reason", "same email",
                  "-p", project).exit_code == 0
    rejected = invoke("link", "reject", other[0], other[1], "--reason", "two people",
                      "--lang", "zh", "-p", project)
    assert rejected.exit_code == 0, rejected.output

    again = invoke("link", "run", "-p", project)
    assert again.exit_code == 0, again.output
    assert "2 decisions by people applied" in flat(again.output)
    second = _version(project)
    assert second.number == 2
    _n, after = _service(project, service.customer, join.left.id)
    assert {r.id for r in after} >= {join.left.id, join.right.id}
    _n, apart = _service(project, service.customer, other[0])
    assert other[1] not in {r.id for r in apart}
    remaining, waiting = _service(project, service.review, limit=1000)
    assert (join.left.id, join.right.id) not in {(p.left.id, p.right.id) for p in waiting}
    assert len(waiting) == remaining

    show = invoke("link", "show", join.left.id, "--lang", "zh", "-p", project)
    assert show.exit_code == 0, show.output
    assert join.right.id.split(":")[1] in show.output
    # The decisions and the versions are in the audit chain.
    store = runs.open_store(Project.open(project))
    try:
        with store.connect() as conn:
            actions = [e.action for e in audit.events(conn)]
    finally:
        store.close()
    assert actions.count("linkage.version") == 2
    assert "linkage.link" in actions and "linkage.apart" in actions


def test_link_mistakes_say_the_fix(project: Path) -> None:
    before = invoke("link", "review", "-p", project)
    assert before.exit_code == 1
    assert "no linkage has run yet; `tierwise link run`" in flat(before.output)
    assert invoke("link", "run", "-p", project).exit_code == 0
    wrong = invoke("link", "accept", "shop:NOPE", "app:A0000001", "--reason", "x", "-p", project)
    assert wrong.exit_code == 1
    assert "no record 'shop:NOPE' in linkage version 1" in flat(wrong.output)
    blank = invoke("link", "reject", "shop:S0000001", "app:A0000001", "--reason", " ",
                   "-p", project)
    assert blank.exit_code == 1 and "give a reason" in flat(blank.output)
    same = invoke("link", "accept", "shop:S0000001", "shop:S0000001", "--reason", "x",
                  "-p", project)
    assert same.exit_code == 1 and "the same record twice" in flat(same.output)


def test_a_second_run_at_once_is_refused(project: Path) -> None:
    import fcntl

    folder = project / "output" / "linkage"
    folder.mkdir(parents=True)
    with open(folder / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a run in another process holds it
        done = invoke("link", "run", "-p", project)
    assert done.exit_code == 1
    assert "another `tierwise link run` is linking this project's customers" in flat(done.output)
    assert invoke("link", "run", "-p", project).exit_code == 0  # once it is let go


def test_repeated_ids_in_a_system_are_refused(project: Path) -> None:
    path = project / "data" / "app_members.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    done = invoke("link", "run", "-p", project)
    assert done.exit_code == 1
    twice = lines[1].split(",")[0]
    assert f"source app_members: 1 ids appear on several rows, e.g. '{twice}'" in flat(
        done.output)


def test_a_project_without_linkage_says_how_to_add_it(project: Path) -> None:
    (project / "tierwise.yaml").write_text(
        "name: shops\nsources:\n  customers: {path: data/shop_members.csv, id: member_id}\n",
        encoding="utf-8")
    done = invoke("link", "run", "-p", project)
    assert done.exit_code == 2  # a project file problem, as every such error
    assert "has no `linkage:` section" in flat(done.output)
    assert "linking" not in done.output
