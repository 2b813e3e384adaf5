"""Web pages as sources: the article's text out of a page, and a guarded fetch of a page by URL.

The text a curator's quotes are checked against is the page's main text (trafilatura drops the
navigation, share buttons and related links); title, date and language come from the page's own
metadata. A fetch goes only where a curator's key may send it: http(s), a public address (checked
after resolving, and connected to as checked, so a second lookup cannot swap it), bounded bytes,
time and redirects, and an HTML or plain-text answer.
"""

import hashlib
import ipaddress
import re
import socket
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin

import httpx
import trafilatura

from app.config import Settings
from app.domain.errors import InvalidInput, RemoteFailed, RemoteTimeout
from app.domain.text.languages import detect_language, normalize_language

TEXT_TYPES = ("text/html", "text/plain", "application/xhtml+xml")
MAX_REDIRECTS = 5
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST = re.compile(rf"^{LABEL}(?:\.{LABEL})*\.?$|^[0-9A-Fa-f:.]+$")
HTML_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z0-9-]{2,35})", re.IGNORECASE)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class FetchLimits:
    """What one fetch may cost and where it may go (the FETCH_* settings)."""

    max_bytes: int
    timeout: float
    allow_private: bool


@dataclass(frozen=True)
class Page:
    """A page's article text and what the page says of itself, with the hash of its bytes."""

    text: str
    title: str | None
    published_on: date | None
    language: str | None
    publisher: str | None
    raw_hash: str
    url: str | None = None
    retrieved_at: datetime | None = None


def fetch_limits(settings: Settings) -> FetchLimits:
    """The FETCH_* settings as the guard takes them."""
    return FetchLimits(settings.fetch_max_bytes, settings.fetch_timeout, settings.fetch_allow_private)


def _refuse(code: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, code=code, field="url")


def _page_language(raw: bytes) -> str | None:
    """The `<html lang>` of a page, when it is a well-formed tag."""
    m = HTML_LANG.search(raw[:65536])
    try:
        return normalize_language(m[1].decode("ascii")) if m else None
    except InvalidInput:
        return None


def _iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def read_page(raw: bytes, *, content_type: str = "text/html") -> Page:
    """The article of a saved or fetched page; a page with no article text is refused."""
    digest = hashlib.sha256(raw).hexdigest()
    if content_type.startswith("text/plain"):
        text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").strip()
        return Page(text, None, None, None, None, digest)
    doc = trafilatura.bare_extraction(
        raw, with_metadata=True, include_comments=False, include_tables=True, favor_precision=True
    )
    meta: dict[str, Any] = {} if doc is None else (doc if isinstance(doc, dict) else doc.as_dict())
    text = str(meta.get("text") or "").strip()
    if not text:
        raise InvalidInput("The page has no article text to store.", code="page-without-text", field="html")
    language = _page_language(raw) or detect_language(text)
    return Page(text, meta.get("title"), _iso_date(meta.get("date")), language, meta.get("sitename"), digest)


def _addresses(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RemoteFailed(f"The host '{host}' cannot be resolved.", code="host-not-found") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def _public(addr: Address) -> bool:
    """True for an address a server's fetch may reach: not private, loopback, link-local or special."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


def _checked_address(url: httpx.URL, limits: FetchLimits) -> Address:
    """The one address this URL is fetched from, refused unless public (or private is allowed)."""
    if url.scheme not in ("http", "https"):
        raise _refuse("url-scheme", f"Only http and https pages are fetched, not '{url.scheme}:'.")
    if not HOST.match(url.host):
        raise _refuse("url-invalid", f"'{url.host}' is not a host name or address.")
    addrs = _addresses(url.host, url.port or (443 if url.scheme == "https" else 80))
    allowed = [a for a in addrs if limits.allow_private or _public(a)]
    if not allowed:
        raise _refuse(
            "url-not-public",
            f"'{url.host}' is a private, loopback or link-local address; such pages are not fetched.",
        )
    return allowed[0]


def _pinned(url: httpx.URL, addr: Address) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The request to `addr` itself, with the host's name in Host and TLS SNI (no second lookup)."""
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return url.copy_with(host=str(addr)), {"Host": url.netloc.decode("ascii")}, extensions


def _body(response: httpx.Response, limits: FetchLimits, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise _refuse("page-too-large", f"The page is larger than {limits.max_bytes} bytes.")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limits.max_bytes:
            raise _refuse("page-too-large", f"The page is larger than {limits.max_bytes} bytes.")
        if time.monotonic() > deadline:
            raise RemoteTimeout(f"The page took longer than {limits.timeout:g} s.", code="fetch-timeout")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_page(url: str, limits: FetchLimits) -> Page:
    """Fetch a page by URL under the guard, following at most five redirects, each one checked."""
    deadline = time.monotonic() + limits.timeout
    target = _parse(url)
    with httpx.Client(timeout=limits.timeout, follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            raw, ctype, location = _one_hop(client, target, limits, deadline)
            if location is None:
                page = read_page(raw, content_type=ctype)
                return replace(page, url=url, retrieved_at=datetime.now(UTC))
            target = _parse(urljoin(str(target), location))
    raise RemoteFailed(f"The page redirects more than {MAX_REDIRECTS} times.", code="too-many-redirects")


def _parse(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise _refuse("url-invalid", f"'{url}' is not a URL.") from exc


def _one_hop(
    client: httpx.Client, url: httpx.URL, limits: FetchLimits, deadline: float
) -> tuple[bytes, str, str | None]:
    """One request: the body and its type, or where it redirects to."""
    pinned, headers, extensions = _pinned(url, _checked_address(url, limits))
    try:
        with client.stream("GET", pinned, headers=headers, extensions=extensions) as response:
            if response.is_redirect and "location" in response.headers:
                return b"", "", response.headers["location"]
            if response.status_code >= 400:
                raise RemoteFailed(
                    f"The page's server answered {response.status_code}.",
                    code="remote-status",
                    remote_status=response.status_code,
                )
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype not in TEXT_TYPES:
                raise _refuse("page-type", f"The page is '{ctype or 'untyped'}', not HTML or plain text.")
            return _body(response, limits, deadline), ctype, None
    except httpx.TimeoutException as exc:
        raise RemoteTimeout(f"The page took longer than {limits.timeout:g} s.", code="fetch-timeout") from exc
    except httpx.HTTPError as exc:
        raise RemoteFailed(
            f"The page could not be fetched: {type(exc).__name__}.", code="fetch-failed"
        ) from exc
