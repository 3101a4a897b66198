"""The store's tables (SQLAlchemy Core), the single description the migrations follow.

The store holds what is small and must be transactional: schemes and their versions, activations,
runs with their per-tier counts, overrides and the audit log. A run's grades, features and tier
changes are large and append-only, so they live as Parquet files in the run's folder; a run is
visible only once its ``runs`` row says ``done``, which is committed after the files are in place.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

Timestamp = sa.DateTime(timezone=True)

schemes = sa.Table(
    "schemes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", Timestamp, nullable=False),
    # What people call the scheme (the name is the key runs and history reference, never changed).
    sa.Column("title", sa.String(200)),
    # A retired scheme is hidden and no longer run, its history kept; restoring clears both.
    sa.Column("retired_at", Timestamp),
    sa.Column("retired_by", sa.String(200)),
)

scheme_versions = sa.Table(
    "scheme_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scheme_id", sa.ForeignKey("schemes.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    # sha256 of what decides grades: the scheme without labels and texts, plus its indicators.
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("indicators", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("note", sa.Text),
    # Optimistic concurrency: bumped by every edit of the texts.
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("scheme_id", "number"),
    sa.UniqueConstraint("scheme_id", "fingerprint"),
)

# Append-only: the active version on a date is the latest activation effective on or before it.
activations = sa.Table(
    "activations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scheme_id", sa.ForeignKey("schemes.id"), nullable=False),
    sa.Column("version_id", sa.ForeignKey("scheme_versions.id"), nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # activate | rollback | schedule
    sa.Index(None, "scheme_id", "effective_from"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scheme_id", sa.ForeignKey("schemes.id"), nullable=False),
    sa.Column("version_id", sa.ForeignKey("scheme_versions.id"), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    # running -> done | failed; done -> superseded when a forced re-run of the date lands.
    sa.Column("status", sa.String(20), nullable=False),
    # Official runs (the active version) make the history; others answer "what would V give".
    sa.Column("official", sa.Boolean, nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("data_fingerprint", sa.String(64)),
    sa.Column("started_by", sa.String(200), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp),
    sa.Column("host", sa.String(200)),
    sa.Column("pid", sa.Integer),
    sa.Column("folder", sa.String(1000)),
    sa.Column("customers", sa.BigInteger),
    sa.Column("counts", sa.JSON),
    sa.Column("timings", sa.JSON),
    sa.Column("error", sa.Text),
    sa.Column("superseded_by", sa.Integer),
    sa.Index(None, "scheme_id", "as_of"),
)

run_tiers = sa.Table(
    "run_tiers",
    metadata,
    sa.Column("run_id", sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("tier", sa.String(200), primary_key=True),
    sa.Column("tier_rank", sa.Integer, nullable=False),
    sa.Column("customers", sa.BigInteger, nullable=False),
    sa.Column("computed", sa.BigInteger, nullable=False),
    sa.Column("held", sa.BigInteger, nullable=False),
    sa.Column("overridden", sa.BigInteger, nullable=False),
    sa.Column("value_sum", sa.Float),
    sa.Column("entered", sa.BigInteger, nullable=False),
    sa.Column("left", sa.BigInteger, nullable=False),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("object_type", sa.String(50), nullable=False),
    sa.Column("object_id", sa.String(200), nullable=False),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# One row: the last sequence number and hash, updated with every append, so a deleted tail shows.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

overrides = sa.Table(
    "overrides",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scheme_id", sa.ForeignKey("schemes.id"), nullable=False),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # pin | floor | ceiling | exclude
    sa.Column("tier", sa.String(200)),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("expires", sa.Date),
    # pending -> active | rejected; active -> revoked
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("decided_by", sa.String(200)),
    sa.Column("decided_at", Timestamp),
    sa.Column("decision_note", sa.Text),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.Index(None, "scheme_id", "customer_id"),
)

# -- people: users, their credentials and sessions, and the customers assigned to managers ----

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(200), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200)),
    sa.Column("role", sa.String(20), nullable=False),  # admin | supervisor | manager | auditor | compliance
    # scrypt: "scrypt$n$r$p$salt$hash" (base64); never the password.
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
)

# Tokens and sessions are stored as sha256 of the secret: a copy of the store grants nothing.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_used_at", Timestamp),
    sa.Column("revoked_at", Timestamp),
    # None: never expires (tokens issued before expiry existed); new tokens always get one.
    sa.Column("expires_at", Timestamp),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    # Written at most once a minute: a session unused for the idle timeout ends.
    sa.Column("last_seen_at", Timestamp),
    sa.Column("client", sa.String(100)),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("assigned_at", Timestamp, nullable=False),
    sa.Index(None, "user_id"),
)

# Failed logins per key: "user:<name>" and "addr:<client address>", each locked on its own.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("first_at", Timestamp, nullable=False),
    sa.Column("locked_until", Timestamp),
)

# Reads of personal data and token use: who saw what, kept apart from the hash-chained audit log
# so that the chain stays small; pruned by age (`tierwise audit prune-access`).
access_log = sa.Table(
    "access_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("object_type", sa.String(50), nullable=False),
    sa.Column("object_id", sa.String(200), nullable=False),
    sa.Column("client", sa.String(100)),
    sa.Column("detail", sa.Text),
    sa.Index(None, "at"),
)

# Runs the server starts by itself: a cadence and a time of day (UTC), the next time it is due,
# who is running it now (an atomic claim with a lease), and how the last run ended.
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("schemes", sa.JSON, nullable=False),
    sa.Column("cadence", sa.String(20), nullable=False),  # monthly | weekly | daily
    sa.Column("at_time", sa.String(5), nullable=False),  # HH:MM, UTC
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("next_due_at", Timestamp, nullable=False),
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("claimed_until", Timestamp),
    sa.Column("last_started_at", Timestamp),
    sa.Column("last_finished_at", Timestamp),
    sa.Column("last_status", sa.String(20)),  # done | skipped | failed
    sa.Column("last_as_of", sa.Date),
    sa.Column("last_error", sa.Text),
    sa.Column("last_runs", sa.JSON),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.Index(None, "next_due_at"),
)

# The action ledger: every customer an action reached, held out or left over budget on a run,
# one row per action, run and customer (its idempotency key), with the delivery's state. Rows are
# written in one transaction after the run committed; delivery updates them one by one, so a
# crash resumes exactly the rows not yet sent.
action_ledger = sa.Table(
    "action_ledger",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),  # sha256 of action/run/customer
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("scheme", sa.String(200), nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("edge", sa.String(20), nullable=False),  # enter | leave | up | down | stay
    sa.Column("from_tier", sa.String(100)),
    sa.Column("to_tier", sa.String(100)),
    sa.Column("value", sa.Float),
    # planned | holdout | over_budget | sent | failed (will retry) | dead (no more tries)
    # | review (a reassignment waiting for approval) | rejected (the reviewer kept the manager)
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_try_at", Timestamp),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp),
    # an assign row in review: the manager proposed ("" = none; the customer would lose theirs)
    sa.Column("proposal", sa.String(200)),
    sa.Column("held_by", sa.String(200)),  # who had the customer when the move was proposed
    # a follow-up task's person responsible and due date (actions with `follow_up:`)
    sa.Column("owner", sa.String(200)),
    sa.Column("due_on", sa.Date),
    sa.Index(None, "action", "run_id"),
    sa.Index(None, "status", "next_try_at"),
    sa.Index(None, "action", "as_of"),
)

# Record linkage (issue 17): each linkage run is a version; its mapping (every system record's
# customer), its review pairs and the records' compared values are Parquet files in its folder
# (`<output>/linkage/v<number>/`), like a run's grades, and the row is committed after them.
link_versions = sa.Table(
    "link_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.Integer, nullable=False, unique=True),
    # sha256 of the linkage section as used (systems, fields, blocking, thresholds).
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    # splink's trained model: settings with the m and u probabilities.
    sa.Column("model", sa.JSON, nullable=False),
    sa.Column("folder", sa.String(1000), nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("customers", sa.Integer, nullable=False),
    sa.Column("review", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

# A person's decision on a pair of records: `link` (one customer) or `apart` (never linked
# directly). The latest decision on a pair is in force; every linkage run applies them after
# training, so they survive retraining. record_a < record_b.
link_decisions = sa.Table(
    "link_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("record_a", sa.String(400), nullable=False),
    sa.Column("record_b", sa.String(400), nullable=False),
    sa.Column("decision", sa.String(10), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    # The model's match probability when the pair came from the review queue.
    sa.Column("probability", sa.Float),
    sa.Column("version_id", sa.ForeignKey("link_versions.id")),
    sa.Column("decided_at", Timestamp, nullable=False),
    sa.Column("decided_by", sa.String(200), nullable=False),
    sa.CheckConstraint("decision IN ('link', 'apart')", name="decision"),
    sa.CheckConstraint("record_a < record_b", name="ordered"),
    sa.Index(None, "record_a", "record_b"),
)
