"""API keys: generated once, shown once, stored only as a SHA-256 hash and found by it."""

import hashlib
import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.curation.unit_of_work import unit_of_work
from app.domain.errors import Conflict, NotFound
from app.models import ApiKey, KeyScope
from app.writes import WriteContext

KEY_PREFIX = "ops_"
SHOWN_PREFIX = 12  # characters of a key kept in clear to recognise it in `keys list`


def generate_key() -> str:
    """A new random key (256 bits of entropy)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(*, session: Session, name: str, scope: KeyScope, actor: str = "cli") -> tuple[ApiKey, str]:
    """Store a new key's hash and return the row with the clear key (the only time it exists)."""
    key = generate_key()
    try:
        with unit_of_work(WriteContext(session, actor), versioned=False) as uow:
            row = uow.add(
                ApiKey(name=name, scope=scope.value, key_hash=hash_key(key), prefix=key[:SHOWN_PREFIX])
            )
            uow.record(
                "create", "apikey", name, after={"name": name, "scope": scope.value, "prefix": row.prefix}
            )
    except IntegrityError as exc:
        raise Conflict(f"a key named {name!r} already exists") from exc
    session.refresh(row)
    return row, key


def list_keys(*, session: Session) -> list[ApiKey]:
    """Every key, oldest first (revoked ones included, flagged)."""
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


def revoke_key(*, session: Session, name: str, actor: str = "cli") -> ApiKey:
    """Revoke a key by name: it stops working at once; the row stays for the record."""
    with unit_of_work(WriteContext(session, actor), versioned=False) as uow:
        row = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
        if row is None:
            raise NotFound(f"no key named {name!r}")
        if row.revoked_at is None:
            row.revoked_at = uow.instant
            uow.add(row)
            uow.record("revoke", "apikey", name)
    session.refresh(row)
    return row


def find_active_key(*, session: Session, key: str) -> ApiKey | None:
    """The unrevoked key with this clear value, by its hash (a unique-index lookup)."""
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row
