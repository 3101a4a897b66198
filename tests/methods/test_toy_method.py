"""A method defined here, registered at run time, runs end to end: service, CLI and API.

The toy method ``cutoff`` grades by one indicator into two tiers at a cut-off. Registering it
(its own module, one ``register`` line) is all it takes: the project loader, the editor's
validation, the JSON schema, recorded and unrecorded runs, ``tierwise run`` and the REST API
accept it, and an unknown ``method:`` stays a located error that lists the known methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest
from pydantic import Field

from tests.conftest import write
from tests.services.conftest import CUSTOMERS, PROJECT, expected_tier, write_months
from tierwise.errors import SpecError
from tierwise.methods import registry
from tierwise.methods.base import concat, fmt, select_grades
from tierwise.methods.fitted import FittedModel
from tierwise.methods.protocol import Method
from tierwise.spec.schemes import IndicatorRef, SchemeBase, SchemeContext, SchemeProblem, TierSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

AS_OF = date(2026, 6, 30)
BUILT_IN = "abc, cluster, clv, credit, model, rfm, risk, rules, scorecard"
CUT = """
  cut:
    method: cutoff
    indicator: orders_3m
    at: 3
    tiers:
      - {key: high, label: High}
      - {key: low, label: Low}
"""


class CutoffSchemeSpec(SchemeBase):
    """Two tiers: ``indicator`` at or above ``at``, and the rest."""

    method: Literal["cutoff"]
    indicator: str
    at: float
    tiers: list[TierSpec] = Field(min_length=2, max_length=2)

    def indicator_refs(self) -> list[IndicatorRef]:
        return [*super().indicator_refs(), (("indicator",), self.indicator, "the cut-off")]

    def problems(self, context: SchemeContext) -> Iterator[SchemeProblem]:
        if self.tiers[0].key == self.tiers[1].key:
            yield ("tiers",), "the two tiers need two keys"


class CutoffMethod(Method[CutoffSchemeSpec]):
    name = "cutoff"
    spec = CutoffSchemeSpec

    def reads(self, spec: CutoffSchemeSpec) -> list[str]:
        return [spec.indicator]

    def tiers(self, spec: CutoffSchemeSpec) -> list[TierSpec]:
        return list(spec.tiers)

    def grade(self, spec: CutoffSchemeSpec, features: ir.Table, *, as_of: date,
              model: FittedModel | None) -> ir.Table:
        import ibis

        value = features[spec.indicator].cast("float64")
        top = ibis.coalesce(value >= spec.at, False)
        high, low = spec.tiers[0].key, spec.tiers[1].key
        return select_grades(features, tier=ibis.ifelse(top, high, low),
                             rank=ibis.ifelse(top, 1, 2), score=value, value=spec.value)

    def texts(self, spec: CutoffSchemeSpec, table: ir.Table, *, as_of: date
              ) -> tuple[ir.StringValue, ir.Value]:
        import ibis

        value = table[spec.indicator].cast("float64")
        reasons = concat([f"{spec.indicator}=", fmt(value), f" against the cut-off {spec.at:g}"])
        gap = ibis.ifelse(table.tier_rank == 2,
                          concat([f"{spec.indicator} +", fmt(spec.at - value.fill_null(0.0)),
                                  f" to reach {spec.tiers[0].key}"]), ibis.null("string"))
        return reasons, gap


@pytest.fixture
def toy() -> Iterator[CutoffMethod]:
    method = CutoffMethod()
    registry.register(method)
    try:
        yield method
    finally:
        registry.unregister(method.name)


@pytest.fixture
def shop(toy: CutoffMethod, tmp_path: Path, store_url: str,
         monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIERWISE_STORE_URL", store_url)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    return write_months(tmp_path / "months", PROJECT + CUT)


def expected(customer: str) -> str:
    # orders_3m >= 3 is the months project's gold rule (tests/services/conftest.py).
    return "high" if expected_tier(customer, AS_OF) == "gold" else "low"


def test_the_service_runs_it_unrecorded_and_recorded(shop: Path) -> None:
    from tierwise.services import explain_run, grading, runs
    from tierwise.services.grading import Project

    project = Project.open(shop)
    counts = {c: sum(expected(x) == c for x in CUSTOMERS) for c in ("high", "low")}
    assert counts == {"high": 1, "low": 4}  # C1 orders monthly; the others not 3 in 3 months
    result = grading.run(project, "cut", as_of=AS_OF)
    assert {t.key: t.customers for t in result.tiers} == counts
    recorded = runs.run(project, ["cut"], as_of=AS_OF)[0]
    assert {t.key: t.customers for t in recorded.tiers} == counts
    assert '"method": "cutoff"' in (recorded.folder / "run.json").read_text(encoding="utf-8")
    explained = explain_run.explain(project, "cut", "C2", as_of=AS_OF)
    assert explained.grade["tier"] == "low"
    assert explained.grade["reasons"] == "orders_3m=0 against the cut-off 3"
    assert explained.grade["gap"] == "orders_3m +3 to reach high"


def test_the_cli_runs_it(shop: Path) -> None:
    from typer.testing import CliRunner

    from tierwise.cli import main

    result = CliRunner().invoke(main.app, ["run", "cut", "-p", str(shop), "--as-of",
                                           AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert "cut (cutoff)" in result.output
    assert "High" in result.output and "Low" in result.output


def test_the_api_explains_a_customer_of_it(shop: Path) -> None:
    from fastapi.testclient import TestClient

    from tierwise.api.app import create_app
    from tierwise.services import runs
    from tierwise.services.grading import Project
    from tierwise.store import users as store_users

    runs.run(Project.open(shop), ["cut"], as_of=AS_OF)
    store = runs.open_store(Project.open(shop))
    with store.begin() as conn:
        store_users.create(conn, "aud", role="auditor", password="a long enough password",
                           actor="setup")
        _, secret = store_users.new_token(conn, "aud", "test", actor="setup")
    store.close()
    with TestClient(create_app(shop)) as client:
        got = client.get("/api/v1/customers/C1", params={"scheme": "cut"},
                         headers={"Authorization": f"Bearer {secret}"})
    assert got.status_code == 200, got.json()
    grade = got.json()["grade"]
    assert grade["tier"] == expected("C1") == "high"
    assert grade["reasons"] == "orders_3m=3 against the cut-off 3"


def test_its_section_parses_everywhere_a_scheme_does(shop: Path) -> None:
    from tierwise.services.grading import Project
    from tierwise.services.versions import with_scheme
    from tierwise.spec.models import ProjectSpec

    project = Project.open(shop)
    assert type(project.scheme("cut")).__name__ == "CutoffSchemeSpec"
    choices = ProjectSpec.model_json_schema()["properties"]["schemes"]["additionalProperties"]
    # Each choice is inline (with a title) or a reference to the model's definition.
    names = [c.get("title") or c.get("$ref", "").rsplit("/", 1)[-1] for c in choices["oneOf"]]
    assert "CutoffSchemeSpec" in names
    # The editor's validation: the section's own checks and its indicator references.
    with pytest.raises(SpecError) as caught:
        with_scheme(project, "cut", {"method": "cutoff", "indicator": "orderz", "at": 1,
                                     "tiers": [{"key": "a"}, {"key": "a"}]})
    messages = {(p.path, p.message) for p in caught.value.problems}
    assert ("schemes.cut.tiers", "the two tiers need two keys") in messages
    assert ("schemes.cut.indicator",
            "unknown indicator 'orderz'; did you mean 'orders_3m'?") in messages


def test_once_unregistered_it_is_an_unknown_method(toy: CutoffMethod, tmp_path: Path) -> None:
    from tierwise.spec import load_project

    folder = write_months(tmp_path / "months", PROJECT + CUT)
    assert "cutoff" in registry.names()
    registry.unregister("cutoff")
    assert "cutoff" not in registry.names()
    with pytest.raises(SpecError) as caught:
        load_project(folder)
    [problem] = caught.value.problems
    line = 1 + (PROJECT + CUT).lstrip("\n").splitlines().index("    method: cutoff")
    assert problem.where == f"{folder / 'tierwise.yaml'}:{line}"
    assert problem.path == "schemes.cut.method"
    assert problem.message.startswith(f"unknown method 'cutoff'; the known methods are {BUILT_IN}.")


def test_an_unknown_method_is_located_and_lists_the_known_ones(tmp_path: Path) -> None:
    from tierwise.spec import load_project

    text = PROJECT + CUT.replace("cutoff", "cutof")
    folder = write_months(tmp_path / "months", text)
    with pytest.raises(SpecError) as caught:
        load_project(folder)
    [problem] = caught.value.problems
    line = 1 + text.lstrip("\n").splitlines().index("    method: cutof")
    assert (problem.path, problem.where) == ("schemes.cut.method",
                                             f"{folder / 'tierwise.yaml'}:{line}")
    assert problem.message == (f"unknown method 'cutof'; the known methods are {BUILT_IN}. "
                               "Check the spelling, or register the method "
                               "(tierwise.methods.registry.register)")
    write(folder, "tierwise.yaml", PROJECT + "  bare:\n    tiers: [{key: a}]\n")
    with pytest.raises(SpecError) as caught:
        load_project(folder)
    [problem] = caught.value.problems
    assert (problem.path, problem.message) == (
        "schemes.bare.method", f"a scheme needs `method:`, one of {BUILT_IN}")


def test_registering_checks_names(toy: CutoffMethod) -> None:
    with pytest.raises(SpecError, match="'cutoff' is registered already"):
        registry.register(CutoffMethod())

    class Misnamed(CutoffMethod):
        name = "cut_off"

    with pytest.raises(SpecError, match="declares method 'cutoff'; make them the same"):
        registry.register(Misnamed())
    with pytest.raises(SpecError, match="unknown method 'nope'; the known methods are abc, "):
        registry.get("nope")


def test_packages_publish_methods_as_entry_points(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "toy_plugin-0.1.dist-info"
    write(info, "METADATA", "Metadata-Version: 2.1\nName: toy-plugin\nVersion: 0.1\n")
    write(info, "entry_points.txt", "[tierwise.methods]\n"
          "cutoff = tests.methods.test_toy_method:CutoffMethod\n"
          "broken = tierwise_no_such_plugin:Method\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from tierwise.spec import load_project

    assert "cutoff" not in registry.names()
    try:
        # A scheme naming a method not registered yet has the published plugins looked up.
        with pytest.warns(UserWarning, match="plugin 'broken' .* was not loaded"):
            project, _ = load_project(write_months(tmp_path / "months", PROJECT + CUT))
        assert type(project.schemes["cut"]).__name__ == "CutoffSchemeSpec"
        assert isinstance(registry.get("cutoff"), CutoffMethod)
        with pytest.warns(UserWarning, match="plugin 'broken'"):
            assert registry.load_entry_points() == []  # registered already: kept as it is
    finally:
        registry.unregister("cutoff")
