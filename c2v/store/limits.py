"""Requests per minute per tenant, counted in the store so every HTTP replica sees one count."""

from __future__ import annotations

import time

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from c2v.store.db import Database
from c2v.store.schema import RateWindow


def hit(db: Database, tenant_id: str, rpm: int, now: float | None = None) -> int | None:
    """Count one request; None when it is allowed, else the seconds until the window ends."""
    now = time.time() if now is None else now
    window = int(now // 60)
    insert = sqlite_insert if db.is_sqlite else pg_insert
    stmt = insert(RateWindow).values(tenant_id=tenant_id, window=window, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[RateWindow.tenant_id, RateWindow.window], set_={"count": RateWindow.count + 1}
    )
    with db.session() as s:
        s.execute(stmt)
        count = s.scalar(
            select(RateWindow.count).where(RateWindow.tenant_id == tenant_id, RateWindow.window == window)
        )
        s.execute(delete(RateWindow).where(RateWindow.tenant_id == tenant_id, RateWindow.window < window))
    if count is not None and count > rpm:
        return max(1, int((window + 1) * 60 - now) + 1)
    return None
