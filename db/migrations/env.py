"""Alembic environment: the URL comes from db.session.alembic_config (R4D_DATABASE_URL or embedded SQLite).

Every upgrade runs in one transaction on both databases (`transactional_ddl`): db.session.upgrade hands in a
connection that holds the upgrade lock and, on SQLite, really runs DDL inside a transaction.
"""

from contextlib import nullcontext

from alembic import context

from db.models import Base
from db.session import connect

config = context.config


def run_migrations() -> None:
    given = config.attributes.get("connection")
    with (
        nullcontext(given)
        if given is not None
        else connect(config.get_main_option("sqlalchemy.url")).connect() as connection
    ):
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            transactional_ddl=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
