"""A result's revision tag: its ETag, which changes exactly when the result does (If-Match on PATCH)."""

import hashlib


def result_etag(result_id: str, revision: int, representation: str = "json", *, epoch: str = "") -> str:
    """The strong ETag of one revision of one result in one representation of one database (epoch)."""
    parts = ("result", epoch, result_id, revision, representation)
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def tag_matches(header: str | None, etag: str) -> bool:
    """True when an If-Match header names `etag` (or is `*`): the strong comparison of RFC 9110
    13.1.1, so a weak tag `W/"..."` never matches."""
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in tags
