"""Record linkage: which records of several systems are one customer (splink on DuckDB).

Each system's customers become records ``system:id`` with their compared fields in normal form
(``sources.normalise``). A Fellegi-Sunter model (splink) is trained without labels: the share
of matching pairs from exact agreement on identifying fields, the ``u`` probabilities (how often
two random records agree by chance) from random pairs, and the ``m`` probabilities (how often a
customer's two records agree) by expectation maximisation, once per blocking rule. Pairs that
share a blocking field are scored; those at or above ``match`` are linked, and records joined
by links (directly or through others) are one customer. Pairs from ``review`` up to ``match``
that would join two customers wait for a person.

A person's decisions outrank the model: a pair accepted is linked whatever its score, a pair
rejected is never linked directly; both survive retraining because they are applied after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tierwise.errors import SpecError
from tierwise.i18n import _
from tierwise.sources import normalise
from tierwise.spec.linkage import IDENTIFYING, LINKED_COLUMNS, LinkageSpec

RECORD = "unique_id"  # splink's name for a record's id: "system:source id"
SYSTEM = "system"
SOURCE_ID = "source_id"
CUSTOMER = "customer_id"  # the linked customer: the smallest record id of its cluster (kept
# from version to version by :func:`keep_ids`)
U_PAIRS = 5e6  # random pairs the u probabilities are counted on
EM_MIN_PAIRS = 20  # pairs a blocking rule must give for the m probabilities to be learnt on it


def record_id(system: str, source_id: str) -> str:
    """The id of a system's record, ``system:source id``."""
    return f"{system}:{source_id}"


def _column(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """``convert`` over ``values``, each distinct value converted once."""
    seen: dict[Any, Any] = {}
    out = []
    for value in values:
        if value not in seen:
            seen[value] = convert(None if value is None else str(value))
        out.append(seen[value])
    return out


def _normal_forms(spec: LinkageSpec, name: str, kind: str, values: list[Any]
                  ) -> dict[str, pa.Array]:
    """The columns a field adds to the records.

    Its normal form, and for names their pinyin and the keys any one of which matching counts
    as the same name.
    """
    if kind == "name":
        return {name: pa.array(_column(values, normalise.name), pa.string()),
                f"{name}_pinyin": pa.array(_column(values, normalise.pinyin), pa.string()),
                f"{name}_keys": pa.array(_column(values, normalise.name_keys),
                                         pa.list_(pa.string()))}
    converters: dict[str, Callable[[str | None], str | None]] = {
        "phone": lambda v: normalise.phone(v, spec.region),
        "email": normalise.email, "id": normalise.identifier, "address": normalise.address,
        "date": lambda v: None if v is None else v[:10], "text": normalise.chinese,
    }
    return {name: pa.array(_column(values, converters[kind]), pa.string())}


def records(spec: LinkageSpec, tables: Mapping[str, pa.Table], ids: Mapping[str, str]
            ) -> pa.Table:
    """All systems' customers as one table of records in normal form.

    Args:
        spec: the project's ``linkage:`` section.
        tables: per system, its customer table (the columns a run reads).
        ids: per system, the name of its customer id column.
    """
    parts = []
    for system in spec.systems:
        table = tables[system]
        source_ids = [None if v is None else str(v) for v in table[ids[system]].to_pylist()]
        columns: dict[str, pa.Array] = {
            RECORD: pa.array([None if v is None else record_id(system, v) for v in source_ids],
                             pa.string()),
            SYSTEM: pa.array([system] * table.num_rows, pa.string()),
            SOURCE_ID: pa.array(source_ids, pa.string()),
        }
        for name, fld in spec.fields.items():
            values = (table[name].to_pylist() if name in table.column_names
                      else [None] * table.num_rows)
            columns.update(_normal_forms(spec, name, fld.kind, values))
        parts.append(pa.table(columns))
    out = pa.concat_tables(parts)
    return out.filter(pa.compute.is_valid(out[RECORD]))


def _comparison(name: str, kind: str) -> Any:
    """The splink comparison of one field: its levels from agreeing to differing."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    if kind == "name":
        # Term frequencies: agreeing on a common name (张伟) says less than on a rare one.
        return cl.CustomComparison(output_column_name=name, comparison_levels=[
            cll.NullLevel(name), cll.ExactMatchLevel(name, term_frequency_adjustments=True),
            cll.ArrayIntersectLevel(f"{name}_keys", 1),
            cll.JaroWinklerLevel(f"{name}_pinyin", 0.92),
            cll.JaroWinklerLevel(f"{name}_pinyin", 0.8), cll.ElseLevel()])
    if kind == "email":
        return cl.EmailComparison(name)
    if kind in ("phone", "id", "date"):
        return cl.CustomComparison(output_column_name=name, comparison_levels=[
            cll.NullLevel(name), cll.ExactMatchLevel(name),
            cll.DamerauLevenshteinLevel(name, 1), cll.ElseLevel()])
    return cl.JaroWinklerAtThresholds(name, [0.95, 0.85])


def _blocking(spec: LinkageSpec) -> list[Any]:
    """Blocking rules for splink: pairs equal on every field of a rule are compared."""
    return _rules(spec, spec.blocking_rules(), explode=True)


def _rules(spec: LinkageSpec, fields: list[list[str]], *, explode: bool) -> list[Any]:
    """Blocking rules over ``fields``.

    A name field blocks on its keys (a pair sharing any spelling: an exploded array), or,
    where splink cannot explode arrays (training by EM), on its pinyin.
    """
    from splink import block_on

    rules = []
    for rule in fields:
        columns = [(f"{f}_keys" if explode else f"{f}_pinyin")
                   if spec.fields[f].kind == "name" else f for f in rule]
        arrays = [c for c in columns if c.endswith("_keys")]
        rules.append(block_on(*columns, arrays_to_explode=arrays or None))
    return rules


@dataclass(frozen=True)
class Linked:
    """What linkage found: every record's customer, the pairs to review, the model."""

    mapping: pa.Table  # unique_id, system, source_id, customer_id, records (of the customer)
    review: pa.Table  # unique_id_l, unique_id_r, match_probability
    model: dict[str, Any]  # splink's settings with the trained m and u probabilities
    pairs_scored: int
    seconds: dict[str, float] = field(default_factory=dict)


def link(spec: LinkageSpec, table: pa.Table, *, accepted: Iterable[tuple[str, str]] = (),
         rejected: Iterable[tuple[str, str]] = (), spark: Any = None) -> Linked:
    """Train the model on ``table`` (from :func:`records`), score pairs, cluster customers.

    Args:
        spec: the ``linkage:`` section.
        table: the records.
        accepted: pairs of record ids a person linked (linked whatever the model says).
        rejected: pairs a person kept apart (never linked directly).
        spark: a Spark session to train and score on (splink's Spark backend; the session
            needs splink's similarity jar, which :func:`tierwise.engine.spark_session` adds);
            None: an embedded DuckDB.

    Raises:
        SpecError: splink is missing, or there are fewer than two records.
    """
    if table.num_rows < 2:
        raise SpecError(_("record linkage needs at least two customer records; the systems "
                          "hold {count}").format(count=table.num_rows))
    try:
        import duckdb
        from splink import DuckDBAPI, Linker, SettingsCreator
    except ImportError:
        raise SpecError(_("record linkage needs splink; install it with `pip install "
                          "'tierwise[linkage]'`")) from None
    clock = {"start": time.perf_counter()}
    con = duckdb.connect()
    try:
        if spark is not None:
            from splink.backends.spark import SparkAPI

            # Persisted, not checkpointed: a checkpoint needs a folder every worker shares.
            db: Any = SparkAPI(  # type: ignore[no-untyped-call]
                spark_session=spark, break_lineage_method="persist")
        else:
            db = DuckDBAPI(connection=con)
        settings = SettingsCreator(
            link_type="dedupe_only", unique_id_column_name=RECORD,
            comparisons=[_comparison(n, f.kind) for n, f in spec.fields.items()],
            blocking_rules_to_generate_predictions=_blocking(spec),
            additional_columns_to_retain=[SYSTEM], retain_matching_columns=False)
        # splink's notes (in English, about its own parameters) stay out of the user's terminal.
        linker = Linker(db.register(table, table_name="tw_records"), settings,
                        log_level="ERROR")
        _train(spec, linker, table)
        clock["trained"] = time.perf_counter()
        scored = linker.inference.predict(threshold_match_probability=spec.review)
        pairs = scored.as_pyarrow_table().select(  # type: ignore[no-untyped-call]
            [f"{RECORD}_l", f"{RECORD}_r", "match_probability"])
        clock["scored"] = time.perf_counter()
        model = linker.misc.save_model_to_json()
    finally:
        con.close()
    mapping, review = _customers(spec, table, pairs, accepted, rejected)
    clock["clustered"] = time.perf_counter()
    return Linked(mapping=mapping, review=review, model=model, pairs_scored=pairs.num_rows,
                  seconds={"train": clock["trained"] - clock["start"],
                           "score": clock["scored"] - clock["trained"],
                           "cluster": clock["clustered"] - clock["scored"]})


def _pairs(table: pa.Table, columns: list[str]) -> int:
    """Pairs of records equal (and not null) on every one of ``columns``."""
    import pyarrow.compute as pc

    known = table.select(columns)
    for column in columns:
        known = known.filter(pc.is_valid(known[column]))
    counts = known.group_by(columns).aggregate([([], "count_all")])["count_all"].to_pylist()
    return sum(n * (n - 1) // 2 for n in counts)


def _train(spec: LinkageSpec, linker: Any, table: pa.Table) -> None:
    """Prior from exact agreement on identifying fields, u from random pairs, m by EM."""
    from splink import block_on

    exact = [block_on(n) for n, f in spec.fields.items() if f.kind in IDENTIFYING
             and f.kind != "name"] or [block_on(n) for n in spec.fields]
    linker.training.estimate_probability_two_random_records_match(exact, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=spec.seed)
    trained = 0
    # m from pairs agreeing on an identifier: pairs sharing only a name are mostly two people,
    # and EM over them learns that a customer's two records often differ in phone and email.
    rules = spec.blocking_rules()
    unique = [r for r in rules if not any(spec.fields[f].kind == "name" for f in r)]
    for fields, rule in zip(unique or rules, _rules(spec, unique or rules, explode=False),
                            strict=True):
        # A field only one system holds gives no pairs to learn from. (A session that fails
        # on that leaves splink's prior changed, so such rules are not tried at all.)
        if _pairs(table, [f"{f}_pinyin" if spec.fields[f].kind == "name" else f
                          for f in fields]) < EM_MIN_PAIRS:
            continue
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True,
            fix_probability_two_random_records_match=True)
        trained += 1
    if not trained:
        raise SpecError(_(
            "record linkage learns from pairs of records that agree on a phone, an email or an "
            "id, and needs at least {minimum} such pairs on one of them ({rules}); these "
            "records have fewer: check that the systems' compared columns hold values, or "
            "link more records at once").format(
            minimum=EM_MIN_PAIRS, rules="; ".join(" + ".join(r) for r in unique or rules)))


def _customers(spec: LinkageSpec, table: pa.Table, pairs: pa.Table,
               accepted: Iterable[tuple[str, str]], rejected: Iterable[tuple[str, str]]
               ) -> tuple[pa.Table, pa.Table]:
    """Clusters of linked records (connected components), and the pairs to review."""
    ids = table[RECORD].to_pylist()
    parent = {r: r for r in ids}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    kept_apart = {frozenset(p) for p in rejected}
    forced = [p for p in accepted if p[0] in parent and p[1] in parent]
    left = pairs[f"{RECORD}_l"].to_pylist()
    right = pairs[f"{RECORD}_r"].to_pylist()
    probability = pairs["match_probability"].to_pylist()
    for a, b, p in zip(left, right, probability, strict=True):
        if p >= spec.match and frozenset((a, b)) not in kept_apart:
            join(a, b)
    for a, b in forced:
        join(a, b)
    decided = kept_apart | {frozenset(p) for p in forced}
    review = [(a, b, p) for a, b, p in zip(left, right, probability, strict=True)
              if p < spec.match and frozenset((a, b)) not in decided and root(a) != root(b)]
    review.sort(key=lambda r: -r[2])
    customers = [root(r) for r in ids]
    sizes: dict[str, int] = {}
    for c in customers:
        sizes[c] = sizes.get(c, 0) + 1
    mapping = pa.table({
        RECORD: table[RECORD], SYSTEM: table[SYSTEM], SOURCE_ID: table[SOURCE_ID],
        CUSTOMER: pa.array(customers, pa.string()),
        "records": pa.array([sizes[c] for c in customers], pa.int32()),
    })
    return mapping, pa.table({
        f"{RECORD}_l": pa.array([r[0] for r in review], pa.string()),
        f"{RECORD}_r": pa.array([r[1] for r in review], pa.string()),
        "match_probability": pa.array([r[2] for r in review], pa.float64()),
    })


def keep_ids(mapping: pa.Table, previous: Mapping[str, str]) -> pa.Table:
    """``mapping`` with each customer keeping its id from the previous version where it can.

    A new customer takes the smallest of the previous customer ids that are records of its own
    (a previous customer's id is one of its records, so no two new customers can take the same
    one); a customer without such a record keeps the smallest of its records' ids. A customer
    who gains a record with a smaller id, or whose records another customer joined, keeps its
    id and its grade history; of two previous customers now one, the smaller id goes on.

    Args:
        mapping: every record's customer (:attr:`Linked.mapping`).
        previous: per record id, its customer in the previous version.
    """
    records = mapping[RECORD].to_pylist()
    customers = mapping[CUSTOMER].to_pylist()
    ids_of: dict[str, set[str]] = {}
    for record, customer in zip(records, customers, strict=True):
        ids_of.setdefault(customer, set()).add(record)
    renamed = {}
    for customer, members in ids_of.items():
        kept = [previous[r] for r in members if previous.get(r) in members]
        renamed[customer] = min(kept) if kept else customer
    return mapping.set_column(mapping.schema.get_field_index(CUSTOMER), CUSTOMER,
                              pa.array([renamed[c] for c in customers], pa.string()))


@dataclass(frozen=True)
class Accuracy:
    """Linkage against known truth, pair by pair."""

    precision: float  # of the pairs of records linked into one customer, the share truly one
    recall: float  # of the pairs of records truly one person, the share linked
    linked_pairs: int
    true_pairs: int
    correct_pairs: int


def _pairs_within(groups: Iterable[str]) -> int:
    counts: dict[str, int] = {}
    for g in groups:
        counts[g] = counts.get(g, 0) + 1
    return sum(n * (n - 1) // 2 for n in counts.values())


def accuracy(mapping: pa.Table, truth: Mapping[str, str]) -> Accuracy:
    """Pairwise precision and recall of ``mapping`` (from :func:`link`) against ``truth``.

    Args:
        mapping: every record's customer.
        truth: per record id, the person it truly is (records missing from it are skipped).
    """
    rows = [(c, truth[r]) for r, c in zip(mapping[RECORD].to_pylist(),
                                          mapping[CUSTOMER].to_pylist(), strict=True)
            if r in truth]
    linked = _pairs_within(c for c, _p in rows)
    true = _pairs_within(p for _c, p in rows)
    both = _pairs_within(f"{c}\x00{p}" for c, p in rows)
    return Accuracy(precision=both / linked if linked else 1.0,
                    recall=both / true if true else 1.0,
                    linked_pairs=linked, true_pairs=true, correct_pairs=both)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def linked_customers(spec: LinkageSpec, tables: Mapping[str, pa.Table], ids: Mapping[str, str],
                     mapping: pa.Table) -> pa.Table:
    """One row per linked customer, as the grading reads its customers.

    ``customer_id``; ``source_ids``, every record id of the customer (``shop:S01, app:A07``,
    in the systems' order); ``systems``; and each column of the systems' tables: dates and
    times the earliest (a customer since their first registration anywhere), other values
    the first system's that has one. A column typed differently by two systems is text.

    Args:
        spec: the ``linkage:`` section (its systems' order decides whose value comes first).
        tables: per system, its customer table with its own types.
        ids: per system, the name of its id column.
        mapping: every record's customer (:attr:`Linked.mapping`).
    """
    import duckdb

    types: dict[str, pa.DataType] = {}
    for system in spec.systems:
        for fld in tables[system].schema:
            if fld.name == ids[system] or fld.name in LINKED_COLUMNS:
                continue
            seen = types.get(fld.name)
            types[fld.name] = fld.type if seen is None or seen == fld.type else pa.string()
    parts = []
    for order, system in enumerate(spec.systems):
        table = tables[system]
        # Helper columns named apart from any column a member table may have.
        columns: dict[str, pa.Array] = {
            "__tw_record": pa.array([record_id(system, str(v)) for v in
                                     table[ids[system]].to_pylist()], pa.string()),
            "__tw_order": pa.array([order] * table.num_rows, pa.int32())}
        for name, kind in types.items():
            columns[name] = (table[name].cast(kind) if name in table.column_names
                             else pa.nulls(table.num_rows, kind))
        parts.append(pa.table(columns))
    picks = []
    for name, kind in types.items():
        q = _quoted(name)
        if pa.types.is_temporal(kind):
            picks.append(f"min(r.{q}) AS {q}")
        else:
            picks.append(f"first(r.{q} ORDER BY r.__tw_order, r.__tw_record) FILTER "
                         f"(WHERE r.{q} IS NOT NULL) AS {q}")
    # Records and systems both in the systems' order (the order of `linkage.systems`).
    sql = ("WITH r AS (SELECT r.*, m.__tw_customer, m.__tw_system FROM records_table r "
           "JOIN links m ON r.__tw_record = m.__tw_link), "
           "s AS (SELECT __tw_customer, string_agg(__tw_system, ', ' ORDER BY o) AS systems "
           "FROM (SELECT __tw_customer, __tw_system, min(__tw_order) AS o FROM r "
           "GROUP BY ALL) GROUP BY __tw_customer) "
           f"SELECT r.__tw_customer AS {CUSTOMER}, string_agg(r.__tw_record, ', ' ORDER BY "
           "r.__tw_order, r.__tw_record) AS source_ids, any_value(s.systems) AS systems"
           f"{''.join(', ' + p for p in picks)} "
           "FROM r JOIN s USING (__tw_customer) GROUP BY r.__tw_customer "
           "ORDER BY r.__tw_customer")
    con = duckdb.connect()
    try:
        con.register("records_table", pa.concat_tables(parts))
        con.register("links", pa.table({
            "__tw_link": mapping[RECORD], "__tw_system": mapping[SYSTEM],
            "__tw_customer": mapping[CUSTOMER]}))
        out = con.execute(sql).fetch_arrow_table()
    finally:
        con.close()
    return out.cast(pa.schema([pa.field(CUSTOMER, pa.string()),
                               pa.field("source_ids", pa.string()),
                               pa.field("systems", pa.string()),
                               *[pa.field(n, k) for n, k in types.items()]]))

