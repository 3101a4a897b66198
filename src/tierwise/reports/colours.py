"""The colour of each tier: the tier's own ``colour:``, else one derived from its key.

A colour belongs to a tier, never to a position: reordering the rules of a scheme, or a run
with fewer tiers present, leaves every tier its colour. Tiers on the value ladder take colours
from a colour-blind-safe palette; status tiers (churn risk, unclassified) take greys and reds,
so they read apart from the ladder. Two tiers of one scheme never share a derived colour while
the palette has room: a key's preferred slot comes from a hash of the key, and keys that want
the same slot take the next free one in the order of their names (never of their position).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tierwise.spec.schemes import TierSpec

#: Colours of ladder tiers (Okabe & Ito 2008, with darker companions; no greys and no reds).
LADDER = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#7B3294", "#B8860B",
          "#117A65", "#1F3A93", "#F0A6CA")
#: Colours of status tiers: greys and reds.
STATUS = ("#6C757D", "#B03A2E", "#495057", "#E57373", "#ADB5BD", "#7B241C")


def _slot(key: str, size: int) -> int:
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % size


def _assign(keys: Sequence[str], palette: Sequence[str]) -> dict[str, str]:
    taken: set[int] = set()
    out: dict[str, str] = {}
    for key in sorted(set(keys)):
        slot = _slot(key, len(palette))
        if len(taken) < len(palette):
            while slot in taken:
                slot = (slot + 1) % len(palette)
        taken.add(slot)
        out[key] = palette[slot]
    return out


def tier_colours(tiers: Sequence[TierSpec]) -> dict[str, str]:
    """Tier key -> colour (``#RRGGBB``) for every tier of a scheme.

    A tier's ``colour:`` wins; the others get a colour derived from their key, which depends on
    the set of keys and never on their order.
    """
    out = {t.key: t.colour.upper() for t in tiers if t.colour}
    used = set(out.values())
    ladder = [c for c in LADDER if c not in used] or list(LADDER)
    status = [c for c in STATUS if c not in used] or list(STATUS)
    out |= _assign([t.key for t in tiers if not t.colour and not t.status], ladder)
    out |= _assign([t.key for t in tiers if not t.colour and t.status], status)
    return out


def tier_colour(tiers: Sequence[TierSpec], key: str) -> str:
    """The colour (``#RRGGBB``) of tier ``key`` of a scheme whose tiers are ``tiers``.

    A key the scheme no longer has (a tier of an older version) gets a colour of its own from
    its key alone, in grey when the scheme never declared it.
    """
    known = tier_colours(tiers)
    if key in known:
        return known[key]
    return STATUS[_slot(key, len(STATUS))]


def ink(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (WCAG relative luminance)."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05).
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#FFFFFF"
