"""Tier colours belong to the tier's key, never to its position in the scheme."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from tierwise.reports.colours import LADDER, STATUS, ink, tier_colour, tier_colours
from tierwise.services.versions import dump_scheme, fingerprint
from tierwise.spec.models import RulesSchemeSpec, TierSpec

KEYS = ["vip", "gold", "silver", "bronze", "new"]


def _tiers(keys: list[str], **declared: str) -> list[TierSpec]:
    return [TierSpec(key=k, status=k in ("churn_risk", "lost"), colour=declared.get(k))
            for k in keys]


def test_reordering_tiers_keeps_every_colour() -> None:
    first = tier_colours(_tiers(KEYS))
    for order in itertools.permutations(KEYS):
        assert tier_colours(_tiers(list(order))) == first
    # One colour per tier while the palette has room.
    assert len(set(first.values())) == len(KEYS)


def test_the_same_tier_keeps_its_colour_in_every_scheme_run() -> None:
    # A run where nobody reached silver still colours gold the same.
    assert tier_colour(_tiers(KEYS), "gold") == tier_colour(_tiers(KEYS[::-1]), "gold")


def test_statuses_take_greys_and_reds_and_declared_colours_win() -> None:
    colours = tier_colours(_tiers([*KEYS, "churn_risk", "lost"], gold="#ffd700"))
    assert colours["gold"] == "#FFD700"
    assert colours["churn_risk"] in STATUS and colours["lost"] in STATUS
    assert all(colours[k] in LADDER for k in KEYS if k != "gold")
    # A key the scheme does not have (an older version's) still gets a stable grey or red.
    assert tier_colour(_tiers(KEYS), "retired") == tier_colour(_tiers(KEYS[:2]), "retired")


def test_a_colour_is_validated() -> None:
    with pytest.raises(ValidationError, match=r"colour 'gold' is not a hex colour; write it as "
                                              r"#RRGGBB"):
        TierSpec(key="gold", colour="gold")


def test_a_colour_does_not_change_the_version() -> None:
    def scheme(colour: str | None) -> RulesSchemeSpec:
        return RulesSchemeSpec(method="rules", fallback="b", tiers=[
            TierSpec(key="a", when="x > 1", colour=colour), TierSpec(key="b")])

    plain, coloured = dump_scheme(scheme(None)), dump_scheme(scheme("#123456"))
    assert "colour" not in plain["tiers"][0] and coloured["tiers"][0]["colour"] == "#123456"
    assert fingerprint(plain, {}) == fingerprint(coloured, {})
    # An indicator that happens to be called colour still counts.
    assert fingerprint(plain, {"colour": {"attribute": "colour"}}) != fingerprint(
        plain, {"colour": {"attribute": "shade"}})


def test_ink_reads_on_its_background() -> None:
    assert ink("#FFFFFF") == "#000000" and ink("#000000") == "#FFFFFF"
    assert ink("#0072B2") == "#FFFFFF" and ink("#E69F00") == "#000000"
