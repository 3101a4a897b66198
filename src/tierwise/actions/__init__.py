"""Turning tiers into actions: who an action reaches on a run, its control group, its budget.

The modules here are pure: they read a run's moves and grades as Arrow tables and say who fires,
who is held out and who is over budget. :mod:`tierwise.services.actions` records that in the
store's action ledger and delivers it.
"""
