"""Tenants and API keys: a key is shown once, when made; the store keeps its SHA-256 only.

A key reads ``c2v_<id>_<secret>``: the id finds the row, the hash of the whole key proves
it. Secrets are 32 random bytes, so a plain (fast) hash is enough: there is nothing to
guess, unlike a password.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from c2v.errors import UsageError
from c2v.store.db import Database
from c2v.store.schema import ApiKey, Tenant, as_utc, utcnow

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_KEY = re.compile(r"^c2v_([a-z0-9]{12})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class Caller:
    """Who an authenticated request comes from."""

    tenant_id: str
    tenant: str
    key_id: str
    max_in_flight: int | None
    rpm: int | None


@dataclass(frozen=True)
class KeyInfo:
    id: str
    tenant: str
    created_at: datetime
    revoked_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_tenant(name: str) -> str:
    if not _TENANT.match(name):
        raise UsageError(
            f"tenant name {name!r} is not allowed: use letters, digits, '.', '_' and '-' (at most 80)"
        )
    return name


def create_key(db: Database, tenant: str) -> tuple[str, str]:
    """Make a key for ``tenant`` (created when new); returns (key id, the key itself)."""
    name = check_tenant(tenant)
    key_id = secrets.token_hex(6)
    key = f"c2v_{key_id}_{secrets.token_urlsafe(32)}"
    with db.session() as s:
        row = s.scalars(select(Tenant).where(Tenant.name == name)).one_or_none()
        if row is None:
            row = Tenant(id=secrets.token_hex(8), name=name, created_at=utcnow())
            s.add(row)
            s.flush()
        s.add(ApiKey(id=key_id, tenant_id=row.id, key_hash=hash_key(key), created_at=utcnow()))
    return key_id, key


def set_limits(db: Database, tenant: str, max_in_flight: int | None, rpm: int | None) -> bool:
    with db.session() as s:
        row = s.scalars(select(Tenant).where(Tenant.name == tenant)).one_or_none()
        if row is None:
            return False
        row.max_in_flight, row.rpm = max_in_flight, rpm
    return True


def list_keys(db: Database) -> list[KeyInfo]:
    with db.session() as s:
        rows = s.execute(
            select(ApiKey, Tenant.name).join(Tenant).order_by(Tenant.name, ApiKey.created_at)
        ).all()
        return [
            KeyInfo(
                id=k.id,
                tenant=name,
                created_at=as_utc(k.created_at),
                revoked_at=as_utc(k.revoked_at) if k.revoked_at else None,
            )
            for k, name in rows
        ]


def revoke_key(db: Database, key_id: str) -> bool:
    """Revoke a key; False when there is no such key (revoking twice is fine)."""
    with db.session() as s:
        row = s.get(ApiKey, key_id)
        if row is None:
            return False
        if row.revoked_at is None:
            row.revoked_at = utcnow()
    return True


def authenticate(db: Database, key: str) -> Caller | None:
    """The caller a presented key belongs to, or None (unknown, malformed or revoked)."""
    match = _KEY.match(key.strip())
    if match is None:
        return None
    with db.session() as s:
        found = s.execute(
            select(ApiKey, Tenant).join(Tenant).where(ApiKey.id == match.group(1))
        ).one_or_none()
        if found is None:
            return None
        row, tenant = found
        if row.revoked_at is not None or not hmac.compare_digest(row.key_hash, hash_key(key.strip())):
            return None
        return Caller(
            tenant_id=tenant.id,
            tenant=tenant.name,
            key_id=row.id,
            max_in_flight=tenant.max_in_flight,
            rpm=tenant.rpm,
        )
