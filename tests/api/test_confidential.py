"""A confidential scheme leaks nowhere: every role x every API route and dashboard page.

The months project gains ``aml_secret``, a risk scheme only compliance and auditors (and
administrators) may see, graded in two runs with an override. For a supervisor and a manager,
every route of the app is called with the secret scheme's name, run, override and job where it
takes one; the answer must never name the scheme, its levels or their labels, and must be what
the same request gets for a scheme, run or override that does not exist. For the roles allowed,
the same requests do show it (so the matrix cannot pass by showing nothing to anyone).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_api import token
from tests.web.clients import dashboard, login
from tierwise.services import overrides as override_service
from tierwise.services import runs, schedules
from tierwise.services.grading import Project
from tierwise.store.overrides import OverrideRequest

SECRET = """
  aml_secret:
    method: risk
    label: {en: Secret Risk Level, zh: 机密风险等级}
    confidential: {roles: [compliance, auditor]}
    factors: [{indicator: orders_3m, weight: 1, default: 0, bins: [[null, 0], [1, 50], [3, 90]]}]
    tiers:
      - {key: lvl_red, label: RedMarker, min_score: 80, review_months: 6}
      - {key: lvl_amber, label: AmberMarker, min_score: 40}
      - {key: lvl_green, label: GreenMarker}
"""
MARKERS = ("aml_secret", "lvl_red", "lvl_amber", "lvl_green", "RedMarker", "AmberMarker",
           "GreenMarker", "Secret Risk", "机密风险")
ROLES = {"ada": "admin", "cat": "compliance", "aud": "auditor", "sue": "supervisor",
         "max": "manager"}
HIDDEN_FROM = ("sue", "max")
ALLOWED = ("ada", "cat", "aud")
MISSING = {"scheme": "nope_scheme", "run": "987654", "override": "987653", "job": "0" * 32}


@dataclass(frozen=True)
class Secret:
    """The ids of the secret scheme's records."""

    run: int
    override: int


def leaks(text: str) -> list[str]:
    """The secret's markers found in ``text``."""
    return [m for m in MARKERS if m.lower() in text.lower()]


@pytest.fixture
def world(months: Path) -> Iterator[tuple[TestClient, Secret]]:
    path = months / "tierwise.yaml"
    path.write_text(path.read_text(encoding="utf-8") + SECRET, encoding="utf-8")
    project = Project.open(months)
    outcomes = runs.backfill(project, ["tier", "aml_secret"],
                             [date(2026, 5, 31), date(2026, 6, 30)])
    assert all(o.status == "done" for o in outcomes)
    secret_run = max(o.run.id for o in outcomes if o.scheme == "aml_secret")
    with dashboard(months, ROLES, assign={"max": ["C1", "C2", "C3", "C4", "C5"]}) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        made = override_service.create(
            project, OverrideRequest("aml_secret", "C1", "pin", "lvl_red", "adverse media"),
            actor="ada", store=store)
        schedules.add(store, project, "monthly_all", schedules.Settings(["tier", "aml_secret"]),
                      actor="ada")
        yield client, Secret(int(str(secret_run)), made.id)


def _fill(path: str, secret: Secret | None) -> str | None:
    """The route's path with the secret's (or the missing) ids; None for a route left out."""
    values = {
        "name": "aml_secret" if secret else MISSING["scheme"],
        "run_id": str(secret.run) if secret else MISSING["run"],
        "override_id": str(secret.override) if secret else MISSING["override"],
        "job_id": MISSING["job"],
        "customer_id": "C1",
    }
    if path.startswith(("/api/v1/actions/{name}", "/actions/{name}", "/api/v1/users", "/users",
                        "/api/v1/sessions", "/api/v1/tokens")):
        return None  # names of actions and users: never a scheme (checked apart)
    if path.startswith("/schedules/{name}"):  # the schedule that runs the secret scheme
        values["name"] = "monthly_all" if secret else "no_such_schedule"
    out = path
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return None if "{" in out else out


def _requests(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every route."""
    found = []
    routes: list[Any] = []
    for route in app.routes:  # included routers list their routes lazily
        contexts = getattr(route, "effective_route_contexts", None)
        routes += list(contexts()) if contexts is not None else [route]
    for route in routes:
        methods = getattr(route, "methods", None) or set()
        path = getattr(route, "path", "")
        if not path or path.startswith(("/static", "/docs", "/redoc", "/openapi")):
            continue
        for method in sorted(methods & {"GET", "POST"}):
            found.append((method, path))
    return found


def _query(path: str, secret: bool) -> dict[str, str]:
    name = "aml_secret" if secret else MISSING["scheme"]
    return {"scheme": name, "schemes": name}


def _call(client: TestClient, method: str, path: str, secret: bool, auth: dict[str, str],
          csrf: str | None) -> Any:
    name = "aml_secret" if secret else MISSING["scheme"]
    if method == "GET":
        return client.get(path, params=_query(path, secret), headers=auth)
    body = {"scheme": name, "schemes": [name], "customer_id": "C1", "tier": "lvl_red",
            "reason": "probe", "kind": "pin", "spec": {"method": "risk"}, "new_name": "x2",
            "version": 1}
    if path.startswith("/api/"):
        return client.post(path, json=body, headers=auth)
    form = {k: v for k, v in body.items() if isinstance(v, (str, int))}
    form["schemes"] = name
    return client.post(path, data={**form, "csrf": csrf or ""}, headers=auth)


def _text(answer: Any) -> str:
    """An answer's body and headers as text (a binary export read as UTF-8 with repairs)."""
    body = answer.content.decode("utf-8", "replace")
    return body + " ".join(f"{k}: {v}" for k, v in answer.headers.items())


def _same(a: Any, b: Any) -> bool:
    """Two answers alike once the ids asked for are taken out."""
    if a.status_code != b.status_code:
        return False
    if a.headers.get("content-type", "").startswith("application/json") and a.content \
            and b.content:
        ja, jb = a.json(), b.json()
        if isinstance(ja, dict) and isinstance(jb, dict):
            return ja.get("code") == jb.get("code")
    return True


@pytest.mark.slow
@pytest.mark.parametrize("user", HIDDEN_FROM)
def test_the_secret_scheme_does_not_exist_for_other_roles(
        world: tuple[TestClient, Secret], user: str) -> None:
    client, secret = world
    api = token(client, user)
    csrf = login(client, user)
    seen: list[str] = []
    problems: list[str] = []
    for method, template in _requests(client.app):
        asked, missing = _fill(template, secret), _fill(template, None)
        if asked is None or missing is None:
            continue
        auth = api if template.startswith("/api/") else {}
        got = _call(client, method, asked, True, auth, csrf)
        other = _call(client, method, missing, False, auth, csrf)
        sent = {"lvl_red"} if method == "POST" else set()  # an override asks for a level
        said, other_said = _text(got), _text(other)
        found = [m for m in leaks(said.replace("aml_secret", "")) if m not in sent]
        # The name only as often as a missing one's name is repeated back (its own request).
        if said.count("aml_secret") != other_said.count(MISSING["scheme"]):
            found.append("aml_secret")
        found += [f"{m} (for a missing one)" for m in leaks(other_said) if m not in sent]
        if found:
            problems.append(f"{user} {method} {asked} -> {got.status_code} shows {found}")
        elif not _same(got, other):
            problems.append(f"{user} {method} {asked}: {got.status_code} vs "
                            f"{other.status_code} for a missing one")
        seen.append(template)
    assert not problems, "\n".join(problems)
    assert len(seen) > 40  # every route was tried
    # Nothing the hidden roles posted changed the secret scheme.
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.read() as tx:
        assert [v.number for v in tx.schemes.versions("aml_secret")] == [1]
        assert tx.schemes.info("aml_secret").retired_at is None
        assert {o.id for o in tx.overrides.listing(scheme="aml_secret")} == {secret.override}


@pytest.mark.slow
@pytest.mark.parametrize("user", ALLOWED)
def test_the_roles_allowed_see_it(world: tuple[TestClient, Secret], user: str) -> None:
    client, secret = world
    api = token(client, user)
    listed = client.get("/api/v1/schemes", headers=api).json()
    assert "aml_secret" in [s["name"] for s in listed]
    run = client.get(f"/api/v1/runs/{secret.run}", headers=api)
    assert run.status_code == 200 and run.json()["scheme"] == "aml_secret"
    login(client, user)
    page = client.get("/schemes/aml_secret")
    assert page.status_code == 200 and "RedMarker" in page.text
    assert "Secret Risk" in client.get("/overview").text


def test_only_named_roles_may_be_given() -> None:
    from pydantic import ValidationError

    from tierwise.spec.schemes import ConfidentialSpec

    with pytest.raises(ValidationError):
        ConfidentialSpec.model_validate({"roles": ["marketing"]})
    with pytest.raises(ValidationError):
        ConfidentialSpec.model_validate({"roles": ["compliance"], "retention_years": 3})


def test_an_action_on_a_confidential_scheme_is_refused(months: Path) -> None:
    from tierwise.errors import SpecError
    from tierwise.spec.loader import load_project

    path = months / "tierwise.yaml"
    path.write_text(path.read_text(encoding="utf-8") + SECRET + """
actions:
  leak:
    scheme: aml_secret
    kind: file
    on: enter
    tiers: [lvl_red]
""", encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape("scheme 'aml_secret' is confidential")):
        load_project(months)


def test_the_audit_log_leaves_out_what_an_auditor_may_not_see(months: Path) -> None:
    path = months / "tierwise.yaml"
    path.write_text(path.read_text(encoding="utf-8")
                    + SECRET.replace("roles: [compliance, auditor]", "roles: [compliance]"),
                    encoding="utf-8")
    project = Project.open(months)
    runs.backfill(project, ["tier", "aml_secret"], [date(2026, 6, 30)])
    with dashboard(months, ROLES) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        override_service.create(
            project, OverrideRequest("aml_secret", "C1", "pin", "lvl_red", "adverse media"),
            actor="ada", store=store)
        auditor = client.get("/api/v1/audit", params={"limit": 500},
                             headers=token(client, "aud"))
        compliance = client.get("/api/v1/audit", params={"limit": 500},
                                headers=token(client, "cat"))
        assert auditor.status_code == compliance.status_code == 200
        assert not leaks(auditor.text) and "aml_secret" in compliance.text
        seen = {(e["object_type"], e["object_id"]) for e in auditor.json()}
        assert ("scheme", "tier") in seen or any(t == "run" for t, _ in seen)
        login(client, "cat")
        assert client.get("/api/v1/customers/C1", params={"scheme": "aml_secret"},
                          headers=token(client, "cat")).status_code == 200  # a read logged
        login(client, "aud")
        page = client.get("/audit")
        assert page.status_code == 200 and not leaks(page.text)
        with store.read() as tx:  # the chain itself is whole
            assert tx.audit.verify().ok


def test_a_confidential_scheme_not_run_yet_is_hidden_too(months: Path) -> None:
    path = months / "tierwise.yaml"
    path.write_text(path.read_text(encoding="utf-8") + SECRET, encoding="utf-8")
    runs.backfill(Project.open(months), ["tier"], [date(2026, 6, 30)])  # not the secret one
    with dashboard(months, ROLES) as client:
        login(client, "sue")
        for url in ("/schemes", "/overview"):
            assert not leaks(client.get(url).text), url
        secret = client.get("/schemes/aml_secret/document")
        missing = client.get("/schemes/nope_scheme/document")
        assert secret.status_code == missing.status_code == 404
        api = token(client, "sue")
        assert client.get("/api/v1/schemes/aml_secret/document", headers=api).status_code == 404
        login(client, "cat")
        assert "aml_secret" in client.get("/schemes").text
