"""Record linkage on the synthetic three-system members: precision and recall against the truth.

    python benchmarks/linkage.py --people 20000 [--seed 7]

Builds the shop, app and store member tables (``tierwise.demo._systems``: typos, pinyin and
Traditional names, phone formats, full-width digits, shop members registered twice, people who
share a name), links them with the project's linkage settings below, and compares the linked
customers with the planted persons pair by pair: precision is the share of linked pairs that
are one person, recall the share of one person's pairs that were linked. Prints the figures,
the time of each step and the review queue's size.
"""

from __future__ import annotations

import argparse
import time

from tierwise.demo._systems import SYSTEMS, build
from tierwise.sources import linkage
from tierwise.spec.linkage import LinkageSpec

SPEC = LinkageSpec.model_validate({
    "systems": {s: {"source": f"{s}_members"} for s in SYSTEMS},
    "fields": {"name": "name", "mobile": "phone", "email": "email", "id_card": "id",
               "address": "address", "birth_date": "date"},
})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    clock = time.perf_counter()
    systems = build(args.people, seed=args.seed)
    built = time.perf_counter()
    table = linkage.records(SPEC, systems.tables, {s: "member_id" for s in SYSTEMS})
    normalised = time.perf_counter()
    linked = linkage.link(SPEC, table)
    done = time.perf_counter()
    truth = {linkage.record_id(s, i): p for s, i, p in zip(
        systems.truth["system"].to_pylist(), systems.truth["source_id"].to_pylist(),
        systems.truth["person"].to_pylist(), strict=True)}
    figures = linkage.accuracy(linked.mapping, truth)
    print(f"{args.people} people, {table.num_rows} records "
          f"({', '.join(f'{s} {systems.tables[s].num_rows}' for s in SYSTEMS)}), "
          f"{len(set(linked.mapping[linkage.CUSTOMER].to_pylist()))} linked customers")
    print(f"precision {figures.precision:.4f}, recall {figures.recall:.4f} "
          f"({figures.correct_pairs} of {figures.linked_pairs} linked pairs correct, "
          f"{figures.true_pairs} true pairs); {linked.review.num_rows} pairs to review; "
          f"{linked.pairs_scored} pairs scored")
    print(f"seconds: generate {built - clock:.1f}, normalise {normalised - built:.1f}, "
          + ", ".join(f"{k} {v:.1f}" for k, v in linked.seconds.items())
          + f", total linkage {done - built:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
