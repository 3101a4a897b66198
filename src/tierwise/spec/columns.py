"""Column names every layer agrees on: the customer key of feature and grade tables.

A source names its own id column (``columns.id`` in ``tierwise.yaml``); reading renames it to
:data:`CUSTOMER`, so features, grades, changes and history all key customers by this one name.
"""

#: The customer key of every table tierwise computes or writes.
CUSTOMER = "customer_id"
