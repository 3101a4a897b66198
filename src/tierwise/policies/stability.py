"""Stability policies: how the tier a method computes becomes the tier a customer holds.

A scheme's :class:`~tierwise.spec.models.StabilitySpec` damps flapping between runs: an upgrade
waits for ``upgrade_after`` runs in a row above the held tier, a downgrade for
``downgrade_after`` runs in a row below it (the grace period), a downgrade never comes before
``min_days_in_tier`` days in the tier, two changes are ``cooldown_days`` apart, and a customer
still within the held tier's thresholds loosened by ``downgrade_margin`` keeps it. The state that
carries from one run to the next lives in the grade table itself, so a run needs only the
previous official run's grades:

==============  ================================================================================
column          meaning
==============  ================================================================================
tier            the HELD tier key (what the customer has after the policy)
tier_rank       the held tier's rank (1 = best)
computed_tier   the tier the method computed this run
computed_rank   its rank
since           the date the held tier started
changed_at      the date of the last change of the held tier
pending_tier    the tier a change is waiting to move to (null when none)
pending_runs    confirming runs in a row so far for that change (0 when none)
policy          why the held tier differs from the computed one: ``grace`` (downgrade waiting
                for ``downgrade_after``), ``confirm`` (upgrade waiting for ``upgrade_after``),
                ``min_days``, ``cooldown`` or ``margin``; null when held == computed
policy_n        progress of that policy: runs (grace, confirm), days (min_days, cooldown) or,
                for margin, the margin in basis points
policy_of       what ``policy_n`` counts towards (runs, days, or 10000 for margin)
==============  ================================================================================

Every other column of the method's grade table is kept as it is. :mod:`tierwise.policies.overrides`
runs after this module and adds ``policy_tier`` / ``policy_rank`` (this module's ``tier`` /
``tier_rank``) before it applies an override; given such a table as ``previous``, this module
reads the held tier from ``policy_tier``, so an override never feeds the next run's policy.

Decisions per customer (rank 1 = best; ``p`` = the previous held tier's position in the current
tier list, by key; a key the scheme no longer has counts as no previous grade; ``r`` = the
computed tier's position). Positions are the value ladder's ranks, then the status tiers
(:class:`~tierwise.spec.ladder.Ladder`): only a move between two ladder tiers is an upgrade or a
downgrade. A move into or out of a status is neither, so no grace period, confirmation, margin
or minimum time holds it: it applies at once, and the stored ``tier_rank`` of a status is 0.

* no previous grade, or no policy: the computed tier; ``since`` / ``changed_at`` carry over when
  the tier is the previous one, else they are the as-of date.
* ``r == p``: the tier is kept; nothing is pending.
* ``r != p`` and either is a status: the computed tier, at once.
* ``r < p``: the streak is the previous ``pending_runs`` + 1 when the previous pending change was
  an upgrade too, else 1; the pending tier is the least improvement seen in the streak. The
  customer moves up to it once the streak reaches ``upgrade_after`` and the cooldown has passed.
* ``r > p``: a customer within the margin holds (and the streak restarts). Otherwise the streak
  counts as for upgrades, the pending tier is the least deep downgrade seen, and the customer
  moves down once the streak reaches ``downgrade_after``, the tier has been held
  ``min_days_in_tier`` days and the cooldown has passed (reported in that order).
* after a change ``since`` and ``changed_at`` are the as-of date. When the customer moved to a
  tier short of the computed one (the streak saw a smaller change earlier), the rest of the move
  starts a new streak of one run at once, so ``policy`` always says why held and computed differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise.i18n import N_, _, current, number
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.ladder import STATUS_RANK, Ladder

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import StabilitySpec, TierSpec

#: Columns :func:`apply_stability` adds to the method's grade table, in order.
STATE_COLUMNS = (
    "computed_tier",
    "computed_rank",
    "since",
    "changed_at",
    "pending_tier",
    "pending_runs",
    "policy",
    "policy_n",
    "policy_of",
)

#: ``policy_of`` of a margin hold: ``policy_n`` is the margin in basis points.
MARGIN_SCALE = 10_000

_STATE_TYPES = {
    "computed_tier": "string",
    "computed_rank": "int32",
    "since": "date",
    "changed_at": "date",
    "pending_tier": "string",
    "pending_runs": "int32",
    "policy": "string",
    "policy_n": "int64",
    "policy_of": "int64",
}


def held_tiers(previous: ir.Table) -> ir.Table:
    """The tier each customer held after the previous run, as ``(customer_id, held_tier)``.

    This is the policy tier (``policy_tier`` when overrides were applied, else ``tier``): the
    input :func:`tierwise.methods.margin.within_margin` needs.

    Args:
        previous: The previous official run's grades.

    Returns:
        One row per customer of ``previous``.
    """
    key = previous.policy_tier if "policy_tier" in previous.columns else previous.tier
    return previous.select(customer_id=previous.customer_id, held_tier=key.cast("string"))


#: Given ``(customer_id, held_tier)`` of the customers computed below the tier they hold, tells
#: ``(customer_id, within_margin)``: whether each still meets the held tier's thresholds loosened
#: by the policy's margin. The scheme's method knows its thresholds
#: (:func:`tierwise.methods.within_margin`); this module decides what being within does.
MarginTest = Callable[["ir.Table"], "ir.Table"]


def stabilize(
    raw: ir.Table,
    previous: ir.Table | None,
    tiers: list[TierSpec],
    policy: StabilitySpec | None,
    *,
    as_of: date,
    margin_test: MarginTest | None = None,
) -> ir.Table:
    """:func:`apply_stability`, with the downgrade margin worked out from the previous run.

    The customers computed below the tier they held (:func:`held_tiers` of ``previous``) are
    handed to ``margin_test`` when the policy has a ``downgrade_margin``; the others cannot be
    within a margin. ``raw`` is read twice then (by the test and here): pass it materialized
    (:func:`uses_margin` tells when).
    """
    margin = None
    if margin_test is not None and uses_margin(previous, policy):
        assert previous is not None  # uses_margin
        import ibis

        ladder = Ladder.of(tiers)
        on_ladder = ladder.tiers[: ladder.size]
        ranks = ibis.memtable({"_key": [t.key for t in on_ladder],
                               "_rank": list(range(1, ladder.size + 1))})
        held = held_tiers(previous)
        held = held.join(ranks, held.held_tier == ranks._key).select(
            _pid=held.customer_id, held_tier=held.held_tier, _rank=ranks._rank)
        # Below the held tier on the ladder (a status is not below anything).
        below = raw.join(held, raw.customer_id == held._pid).filter(
            lambda t: (t.tier_rank != STATUS_RANK) & (t.tier_rank > t._rank))
        margin = margin_test(below.select(CUSTOMER, "held_tier"))
    return apply_stability(raw, previous, tiers, policy, as_of=as_of, within_margin=margin)


def uses_margin(previous: ir.Table | None, policy: StabilitySpec | None) -> bool:
    """Whether :func:`stabilize` tests a downgrade margin (and so reads the grades twice)."""
    return previous is not None and policy is not None and policy.downgrade_margin > 0


def apply_stability(
    raw: ir.Table,
    previous: ir.Table | None,
    tiers: list[TierSpec],
    policy: StabilitySpec | None,
    *,
    as_of: date,
    within_margin: ir.Table | None = None,
) -> ir.Table:
    """Turn computed tiers into held tiers under a stability policy.

    Args:
        raw: The method's grade table (``customer_id``, ``tier``, ``tier_rank``, ``score`` and
            detail columns), one row per customer.
        previous: The previous official run's grades as this function (or
            :func:`tierwise.policies.overrides.apply_overrides`) returned them; None for a
            scheme's first run. Missing state columns (grades stored before policies existed)
            read as null.
        tiers: The scheme's current tiers in value order (the ladder, then the statuses).
        policy: The scheme's stability policy; None keeps every computed tier.
        as_of: The as-of date of this run.
        within_margin: Optional ``(customer_id, within_margin)``: whether a customer computed
            below the held tier still meets the held tier's loosened thresholds
            (:func:`tierwise.methods.margin.within_margin`). Customers it lacks are not within.

    Returns:
        Every column of ``raw`` with ``tier`` / ``tier_rank`` replaced by the held tier, then
        :data:`STATE_COLUMNS` (see the module docstring), one row per customer of ``raw``.
    """
    import ibis

    ladder = Ladder.of(tiers)
    rank_of = ladder.positions
    today = ibis.literal(as_of, type="date")
    # The computed tier's position; a key the tiers lack keeps the method's rank.
    table = raw.mutate(_r=ibis.coalesce(_rank(raw.tier.cast("string"), rank_of),
                                        raw.tier_rank.cast("int32")),
                       _k=raw.tier.cast("string"))
    if previous is not None:
        table = _join_previous(table, previous)
    else:
        table = table.mutate(
            _pk=ibis.null("string"),
            _psince=ibis.null("date"),
            _pchanged=ibis.null("date"),
            _ppending=ibis.null("string"),
            _pruns=ibis.null("int32"),
        )
    if within_margin is not None and policy is not None and policy.downgrade_margin > 0:
        wm = within_margin.select(
            _wm_id=within_margin.customer_id, _wm=within_margin.within_margin.cast("boolean")
        )
        table = table.left_join(wm, table.customer_id == wm._wm_id).drop("_wm_id")
        table = table.mutate(_wm=ibis.coalesce(table._wm, False))
    else:
        table = table.mutate(_wm=ibis.literal(False))
    table = table.mutate(_p=_rank(table._pk, rank_of), _pr=_rank(table._ppending, rank_of))

    if policy is None:
        same = table._p.notnull() & (table._p == table._r)
        table = table.mutate(
            _held=table._r,
            _since=ibis.ifelse(same, ibis.coalesce(table._psince, today), today),
            _changed=ibis.ifelse(same, ibis.coalesce(table._pchanged, today), today),
            _pending=ibis.null("int32"),
            _runs=ibis.literal(0, type="int32"),
            _policy=ibis.null("string"),
            _n=ibis.null("int64"),
            _of=ibis.null("int64"),
        )
    else:
        table = _decide(table, policy, today, ladder.size)
    return _finish(raw, table, ladder)


def _rank(key: ir.StringValue, rank_of: dict[str, int]) -> ir.IntegerValue:
    """The current rank of a tier key; null for null or keys the scheme no longer has."""
    import ibis

    return key.cases(*rank_of.items(), else_=ibis.null("int32")).cast("int32")


def _join_previous(table: ir.Table, previous: ir.Table) -> ir.Table:
    import ibis

    def column(name: str, kind: str) -> ir.Value:
        if name in previous.columns:
            return previous[name].cast(kind)
        return ibis.null(kind)

    key = "policy_tier" if "policy_tier" in previous.columns else "tier"
    prev = previous.select(
        _pid=previous.customer_id,
        _pk=previous[key].cast("string"),
        _psince=column("since", "date"),
        _pchanged=column("changed_at", "date"),
        _ppending=column("pending_tier", "string"),
        _pruns=column("pending_runs", "int32"),
    )
    return table.left_join(prev, table.customer_id == prev._pid).drop("_pid")


@dataclass(frozen=True)
class _Residual:
    """The policy reported right after a partial move (static: the state is all 'today')."""

    code: str
    n: int
    of: int


def _residual_up(policy: StabilitySpec) -> _Residual | None:
    if policy.upgrade_after > 1:
        return _Residual("confirm", 1, policy.upgrade_after)
    if policy.cooldown_days > 0:
        return _Residual("cooldown", 0, policy.cooldown_days)
    return None  # upgrades are immediate: a move always goes all the way


def _residual_down(policy: StabilitySpec) -> _Residual | None:
    if policy.downgrade_after > 1:
        return _Residual("grace", 1, policy.downgrade_after)
    if policy.min_days_in_tier > 0:
        return _Residual("min_days", 0, policy.min_days_in_tier)
    if policy.cooldown_days > 0:
        return _Residual("cooldown", 0, policy.cooldown_days)
    return None


def _decide(table: ir.Table, policy: StabilitySpec, today: ir.DateValue, size: int
            ) -> ir.Table:
    """Add the held rank, dates, pending change and policy code of each customer.

    Built in three projections (streaks, moves, results) so that each intermediate is one
    column rather than an expression repeated inside every later one: the SQL stays small,
    which matters for Spark's code generation. ``size`` is the number of ladder tiers.
    """
    res_up, res_down = _residual_up(policy), _residual_down(policy)
    t = _moves(_streaks(table, today, size), policy, res_up, res_down)
    return _outcome(t, policy, today, res_up, res_down)


def _streaks(table: ir.Table, today: ir.DateValue, size: int) -> ir.Table:
    """The direction of each change, the streak of runs it has lasted and the days in tier.

    Up and down are moves between ladder tiers (positions up to ``size``); a move into or out
    of a status is ``_lateral``.
    """
    import ibis

    r, p, pr = table._r, table._p, table._pr
    runs = ibis.coalesce(table._pruns, 0).cast("int32")
    has = p.notnull()
    ladder = has & (r <= size) & (p <= size)
    down = ladder & (r > p)
    table = table.mutate(
        _lateral=has & (r != p) & ~ladder,
        _up=ladder & (r < p),
        _down_open=down & ~table._wm,
        _margin=down & table._wm,
        _up_more=ladder & (r < p) & pr.notnull() & (pr < p),
        _down_more=down & ~table._wm & pr.notnull() & (pr > p),
        _days_in=today.delta(table._psince, unit="day").cast("int64"),
        _days_changed=today.delta(table._pchanged, unit="day").cast("int64"),
        _runs0=runs,
    )
    return table


def _moves(table: ir.Table, policy: StabilitySpec, res_up: _Residual | None,
           res_down: _Residual | None) -> ir.Table:
    """Which changes are confirmed and move, and the held rank that results."""
    import ibis

    t = table
    # An immediate direction moves to the computed tier; otherwise to the smallest change the
    # streak saw (greatest/least skip nulls, and _pr is non-null wherever the branch is taken).
    table = t.mutate(
        _n_up=ibis.ifelse(t._up_more, t._runs0 + 1, 1).cast("int32"),
        _n_down=ibis.ifelse(t._down_more, t._runs0 + 1, 1).cast("int32"),
        _cand_up=t._r if res_up is None else ibis.ifelse(
            t._up_more, ibis.greatest(t._pr, t._r), t._r),
        _cand_down=t._r if res_down is None else ibis.ifelse(
            t._down_more, ibis.least(t._pr, t._r), t._r),
        # Unknown dates (grades stored before policies) do not block a change.
        _min_ok=ibis.coalesce(t._days_in >= policy.min_days_in_tier, True),
        _cool_ok=ibis.coalesce(t._days_changed >= policy.cooldown_days, True),
    )
    t = table.mutate(
        _confirmed_up=table._n_up >= policy.upgrade_after,
        _confirmed_down=table._n_down >= policy.downgrade_after,
    )
    t = t.mutate(
        _move_up=t._up & t._confirmed_up & t._cool_ok,
        _move_down=t._down_open & t._confirmed_down & t._min_ok & t._cool_ok,
    )
    t = t.mutate(
        _held=ibis.cases(
            (t._lateral, t._r), (t._move_up, t._cand_up), (t._move_down, t._cand_down),
            (t._p.notnull(), t._p), else_=t._r,
        ).cast("int32"),
        _kept=t._p.notnull() & ~t._lateral & ~t._move_up & ~t._move_down,
        _held_up=t._up & ~t._move_up,
        _held_down=t._down_open & ~t._move_down,
    )
    # Only a direction with a residual policy can move short of the computed tier.
    return t.mutate(_partial=(t._move_up | t._move_down) & (t._held != t._r))


def _outcome(t: ir.Table, policy: StabilitySpec, today: ir.DateValue, res_up: _Residual | None,
             res_down: _Residual | None) -> ir.Table:
    """The dates, pending change and policy code (with its n of m) of each customer."""
    import ibis

    def on_partial(part: str) -> Any:
        def one(which: _Residual | None) -> Any:
            if which is None:
                return ibis.null("string" if part == "code" else "int64")
            value = {"code": which.code, "n": which.n, "of": which.of}[part]
            return ibis.literal(value, type="string" if part == "code" else "int64")

        return ibis.ifelse(t._move_up, one(res_up), one(res_down))

    bp = ibis.literal(round(policy.downgrade_margin * MARGIN_SCALE), type="int64")
    scale = ibis.literal(MARGIN_SCALE, type="int64")
    up_code = ibis.ifelse(t._confirmed_up, "cooldown", "confirm")
    up_n = ibis.ifelse(t._confirmed_up, t._days_changed, t._n_up.cast("int64"))
    up_of = ibis.ifelse(t._confirmed_up, policy.cooldown_days, policy.upgrade_after)
    blocked = (~t._confirmed_down, ~t._min_ok)
    down_code = ibis.cases((blocked[0], "grace"), (blocked[1], "min_days"), else_="cooldown")
    down_n = ibis.cases(
        (blocked[0], t._n_down.cast("int64")), (blocked[1], t._days_in), else_=t._days_changed
    )
    down_of = ibis.cases(
        (blocked[0], policy.downgrade_after),
        (blocked[1], policy.min_days_in_tier),
        else_=policy.cooldown_days,
    )
    null_s, null_i = ibis.null("string"), ibis.null("int64")
    return t.mutate(
        _since=ibis.ifelse(t._kept, ibis.coalesce(t._psince, today), today),
        _changed=ibis.ifelse(t._kept, ibis.coalesce(t._pchanged, today), today),
        _pending=ibis.cases(
            (t._partial, t._r),
            (t._held_up, t._cand_up),
            (t._held_down, t._cand_down),
            else_=ibis.null("int32"),
        ).cast("int32"),
        _runs=ibis.cases(
            (t._partial, 1), (t._held_up, t._n_up), (t._held_down, t._n_down), else_=0
        ).cast("int32"),
        _policy=ibis.cases(
            (t._partial, on_partial("code")),
            (t._margin, "margin"),
            (t._held_up, up_code),
            (t._held_down, down_code),
            else_=null_s,
        ),
        _n=ibis.cases(
            (t._partial, on_partial("n")),
            (t._margin, bp),
            (t._held_up, up_n),
            (t._held_down, down_n),
            else_=null_i,
        ).cast("int64"),
        _of=ibis.cases(
            (t._partial, on_partial("of")),
            (t._margin, scale),
            (t._held_up, up_of),
            (t._held_down, down_of),
            else_=null_i,
        ).cast("int64"),
    )


def _finish(raw: ir.Table, table: ir.Table, ladder: Ladder) -> ir.Table:
    """Project onto raw's columns (held tier in place) followed by the state columns."""
    import ibis

    def key(position: ir.IntegerValue) -> ir.StringValue:
        return position.cases(
            *((i + 1, t.key) for i, t in enumerate(ladder.tiers)), else_=ibis.null("string")
        )

    # The computed tier keeps the method's key even if it is not among ``tiers``.
    held_key = ibis.ifelse(table._held == table._r, table._k, key(table._held))
    columns: dict[str, Any] = {}
    for name in raw.columns:
        if name == "tier":
            columns[name] = held_key.cast("string")
        elif name == "tier_rank":
            columns[name] = ladder.stored_rank(table._held).cast(raw.tier_rank.type())
        else:
            columns[name] = table[name]
    state = {
        "computed_tier": table._k,
        "computed_rank": ladder.stored_rank(table._r),
        "since": table._since,
        "changed_at": table._changed,
        "pending_tier": key(table._pending),
        "pending_runs": table._runs,
        "policy": table._policy,
        "policy_n": table._n,
        "policy_of": table._of,
    }
    for name, kind in _STATE_TYPES.items():
        columns[name] = state[name].cast(kind)
    return table.select(**columns)


#: The sentence of each policy code; ``{tier}`` is the held tier, ``{n}`` / ``{of}`` its progress.
POLICY_SENTENCES = {
    "grace": N_("held in {tier}: grace period {n} of {of}"),
    "confirm": N_("held in {tier}: upgrade awaiting confirmation, run {n} of {of}"),
    "min_days": N_("held in {tier}: minimum time in tier, {n} of {of} days"),
    "cooldown": N_("held in {tier}: cooldown, {n} of {of} days"),
    "margin": N_("held in {tier}: within the {n}% margin"),
}
#: A policy code this version does not know (a newer run read by an older tierwise).
OTHER_POLICY = N_("held in {tier}: {n}")


def policy_text(policy: str | None, n: int | None, of: int | None, held_label: str) -> str | None:
    """Render a policy decision for a reader, e.g. ``held in Gold: grace period 1 of 2``.

    Args:
        policy: The ``policy`` column: ``grace``, ``confirm``, ``min_days``, ``cooldown``,
            ``margin`` or None.
        n: The ``policy_n`` column.
        of: The ``policy_of`` column.
        held_label: The held tier's label (or key).

    Returns:
        The sentence in the current language, or None when no policy held the tier (held ==
        computed).
    """
    if policy is None:
        return None
    if policy == "margin":
        share = number((n or 0) * 100 / (of or MARGIN_SCALE))
        return _(POLICY_SENTENCES["margin"]).format(tier=held_label, n=share, of=of)
    if policy in POLICY_SENTENCES:
        return _(POLICY_SENTENCES[policy]).format(tier=held_label, n=n, of=of)
    return _(OTHER_POLICY).format(tier=held_label, n=policy)


def policy_texts(table: ir.Table, tiers: list[TierSpec], *, lang: str | None = None
                 ) -> ir.StringValue:
    """The :func:`policy_text` sentence of every row, as an engine expression.

    Args:
        table: Grades with the state columns (after overrides too: the held tier is then read
            from ``policy_tier``).
        tiers: The scheme's tiers, for their labels.
        lang: The language of the tier labels; the current language when None. The sentence
            is in the current language.

    Returns:
        A string column, null where no policy held the tier.
    """
    import ibis

    from tierwise.expr.text import sentence

    held = table.policy_tier if "policy_tier" in table.columns else table.tier
    label = held.cases(*((t.key, t.label_text(lang or current())) for t in tiers), else_=held)
    n = table.policy_n.cast("int64")
    of = table.policy_of.cast("int64")
    n_text, of_text = n.cast("string"), of.cast("string")
    # Basis points as a percentage: 1000 -> "10", 1250 -> "12.5", 5 -> "0.05".
    cents = (n % 100).cast("string").lpad(2, "0").re_replace("0$", "")
    pct = (n // 100).cast("string").concat(ibis.ifelse(n % 100 == 0, "", "." + cents))
    texts = {code: sentence(_(msg), tier=label, n=pct if code == "margin" else n_text,
                            of=of_text)
             for code, msg in POLICY_SENTENCES.items()}
    text = table.policy.cases(*texts.items(),
                              else_=sentence(_(OTHER_POLICY), tier=label, n=table.policy))
    return ibis.ifelse(table.policy.isnull(), ibis.null("string"), text)
