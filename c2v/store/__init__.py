"""The hosted service's job store: tenants, API keys, videos, their events (SQLAlchemy 2).

SQLite in the output folder by default, PostgreSQL for a cluster (``--db`` or
``C2V_DATABASE_URL``). The schema is owned by the Alembic migrations shipped in
``migrations/`` and applied on start (:func:`c2v.store.db.migrate`).
"""
