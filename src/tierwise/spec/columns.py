"""Column names every layer agrees on: the customer key of feature and grade tables.

A source names its own id column (``columns.id`` in ``tierwise.yaml``); reading renames it to
:data:`CUSTOMER`, so features, grades, changes and history all key customers by this one name.
"""

#: The customer key of every table tierwise computes or writes.
CUSTOMER = "customer_id"

#: A name conditions may test besides the indicators: the tier the customer held in the same
#: scheme's previous official run (text; null on the scheme's first run, for a customer it did
#: not grade, and when grading outside the store). Lifecycle stages use it: a customer who was
#: lost in the previous run and buys again is "won back".
PREVIOUS_TIER = "previous_tier"
