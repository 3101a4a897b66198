"""Events of one system read as events of linked customers.

A system's event source carries that system's customer ids (``S0000017``). Once record linkage
has run (:mod:`tierwise.sources.linkage`), its mapping names each record's linked customer
(``shop:S0000017`` -> ``app:A0000391``); :func:`relink` replaces every row's id with it, so
indicators aggregate a person's orders from every system. A row whose id the mapping does not
hold (a member who joined after the last linkage run) keeps its own id, which the customers do
not hold: the unknown-customer check names it, with the fix.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from tierwise.spec.linkage import LINKED_ID

if TYPE_CHECKING:
    from tierwise.engine import Engine
    from tierwise.sources.read import LoadedSource

_SOURCE = "__tw_link_source"
_LINKED = "__tw_link_customer"


def relink(loaded: LoadedSource, engine: Engine, mapping: Path, system: str) -> LoadedSource:
    """``loaded`` with each row's customer id replaced by its linked customer's.

    Args:
        loaded: an event source of ``system``, as read.
        engine: the engine it was read into.
        mapping: the linkage version's mapping file (``system``, ``source_id``, ``customer_id``).
        system: the system whose ids the rows carry.
    """
    import ibis

    column = loaded.spec.id
    table = loaded.typed
    if column not in table.columns:
        return loaded  # the read names the missing column
    links = engine.read_parquet(f"link_{system}", mapping.resolve())
    links = links.filter(links.system == system).select(
        **{_SOURCE: links.source_id, _LINKED: links[LINKED_ID]})
    own = table[column].cast("string")
    joined = table.left_join(links, own == links[_SOURCE])
    mapped = joined.mutate(**{column: ibis.coalesce(joined[_LINKED],
                                                    joined[column].cast("string"))})
    typed = mapped.drop(_SOURCE, _LINKED)
    # What the file's statistics prove about the ids no longer holds for the mapped ids.
    facts = {k: v for k, v in loaded.facts.items() if k != column}
    return dataclasses.replace(loaded, typed=typed, facts=facts, system=system,
                               stamp=loaded.stamp if facts else None)
