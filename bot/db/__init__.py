"""Persistence: models, engine/session factory, Alembic migrations."""
