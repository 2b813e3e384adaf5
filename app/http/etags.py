"""ETags: derived from the data version (lists) or a row's revision (one result), per representation."""

import hashlib

from app.models import Result


def make_etag(*parts: object) -> str:
    """A strong ETag naming one representation of one state."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def result_etag(result: Result, representation: str = "json") -> str:
    """The ETag of one result: changes exactly when that result changes (for If-Match on PATCH)."""
    return make_etag("result", result.id, result.revision, representation)


def etag_matches(header: str | None, etag: str) -> bool:
    """True when an If-None-Match / If-Match header names `etag` (or is `*`)."""
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags
