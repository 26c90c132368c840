"""Alembic environment: always online, on the connection (and transaction) the ledger gives."""

from alembic import context

from cos_xl.ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
