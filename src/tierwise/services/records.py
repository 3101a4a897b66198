"""The records the services hand to the edges, under the names the edges type them with.

The edges (``cli``, ``api``, ``web``, ``http``) never import the store or the methods: the
objects the services return are the store's records (a user, an override, a run ...), and this
module is where an edge finds their types.
"""

from __future__ import annotations

from tierwise.methods.rules import RuleAnalysis
from tierwise.methods.wording import METHOD_NAMES
from tierwise.store import Store
from tierwise.store.audit import AuditEvent, AuditReport
from tierwise.store.overrides import PENDING, STATUS_NAMES, Override
from tierwise.store.runs import Run, TierCount
from tierwise.store.schemes import Activation, Version
from tierwise.store.users import Session, Token, User

__all__ = [
    "METHOD_NAMES",
    "PENDING",
    "STATUS_NAMES",
    "Activation",
    "AuditEvent",
    "AuditReport",
    "Override",
    "RuleAnalysis",
    "Run",
    "Session",
    "Store",
    "TierCount",
    "Token",
    "User",
    "Version",
]
