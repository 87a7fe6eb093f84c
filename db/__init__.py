"""The database: SQLAlchemy 2 models, sessions and Alembic migrations; SQLite by default, PostgreSQL in production."""

from db.session import connect, session_scope, upgrade

__all__ = ["connect", "session_scope", "upgrade"]
