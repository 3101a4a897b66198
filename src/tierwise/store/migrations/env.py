"""Alembic environment: migrations run on the connection tierwise hands over."""

from alembic import context

from tierwise.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
