"""Sources in their language and from the web: saved pages, pages fetched by URL, the fetch guard."""

import hashlib
import http.server
import ipaddress
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.curation.pages import FetchLimits, _public, fetch_page, read_page
from app.domain.errors import InvalidInput, RemoteFailed, RemoteTimeout
from tests.factories import bearer

PAGES = Path(__file__).parent / "pages"
CLUTTERED = (PAGES / "cluttered.html").read_bytes()
SAMPLE_PAGE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "sample_page.html"
RU_TEXT = "Изъято свыше 4 тонн наркотиков и почти 90 кг героина; задержано около 200 человек."
BIG = 4096


class Pages(http.server.BaseHTTPRequestHandler):
    """A local site: a page, a large one, a slow one, redirects, an image and a missing page."""

    def log_message(self, *_: object) -> None:
        pass

    def _send(
        self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", **headers: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        if path == "/page.html":
            self._send(200, CLUTTERED)
        elif path == "/plain.txt":
            self._send(200, RU_TEXT.encode(), "text/plain; charset=utf-8")
        elif path == "/big.html":
            self._send(200, b"<p>" + b"x" * BIG * 2 + b"</p>")
        elif path == "/slow.html":
            time.sleep(1.5)
            self._send(200, CLUTTERED)
        elif path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            self._send(302, b"", Location="/page.html" if n == 0 else f"/hop/{n - 1}")
        elif path == "/image.png":
            self._send(200, b"\x89PNG....", "image/png")
        else:
            self._send(404, b"gone", "text/plain")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Pages)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FETCH_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("FETCH_TIMEOUT", "1")
    monkeypatch.setenv("FETCH_MAX_BYTES", str(BIG))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


LOCAL = FetchLimits(max_bytes=BIG, timeout=1.0, allow_private=True)
GUARDED = FetchLimits(max_bytes=BIG, timeout=1.0, allow_private=False)


# ---------------------------------------------------------------- language


def test_a_russian_text_is_a_russian_source_and_a_given_tag_wins(client, session):
    cur = bearer(session)
    body = {"text": RU_TEXT, "title": "Тест", "publisher": "Пример", "published_on": "2024-03-05"}
    r = client.post("/api/v1/sources", json=body, headers=cur)
    assert r.status_code == 201 and r.json()["language"] == "ru", r.text
    assert client.get(f"/api/v1/sources/{r.json()['id']}").json()["language"] == "ru"
    other = {**body, "text": RU_TEXT + " (kk)", "language": "KK"}
    assert client.post("/api/v1/sources", json=other, headers=cur).json()["language"] == "kk"
    listed = client.get("/api/v1/sources?limit=500").json()["items"]
    assert {"language", "retrieved_at", "raw_hash"} <= set(listed[0])


def test_a_malformed_language_is_a_422_naming_it(client, session):
    body = {
        "text": RU_TEXT,
        "title": "Т",
        "publisher": "П",
        "published_on": "2024-03-05",
        "language": "русский",
    }
    r = client.post("/api/v1/sources", json=body, headers=bearer(session))
    assert r.status_code == 422 and r.json()["field"] == "language", r.text


def test_russian_candidates_are_read_with_the_sources_language(client, session):
    cur = bearer(session)
    body = {"text": RU_TEXT, "title": "Тест", "publisher": "Пример", "published_on": "2024-03-05"}
    sid = client.post("/api/v1/sources", json=body, headers=cur).json()["id"]
    items = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
    got = {(c["value"], c["qualifier"]) for c in items}
    assert {(4, "more_than"), (90, "almost"), (200, "about")} <= got


# ---------------------------------------------------------------- saved pages


def test_a_saved_page_is_its_article_with_the_pages_own_metadata():
    page = read_page(CLUTTERED)
    assert page.title == "Итоги операции «Канал – Опытный рубеж»"
    assert str(page.published_on) == "2025-04-11" and page.language == "ru"
    assert page.raw_hash == hashlib.sha256(CLUTTERED).hexdigest()
    assert "свыше 3 тонн" in page.text and "не менее 120 преступлений" in page.text
    for clutter in (
        "Главная",
        "Поделиться",
        "Читайте также",
        "5 тонн героина",
        "Все права защищены",
        "8 800",
    ):
        assert clutter not in page.text, clutter


@pytest.mark.skipif(
    not SAMPLE_PAGE.exists(), reason="../shared/conformance/sample_page.html is not beside us"
)
def test_the_shared_sample_page_gives_its_article():
    page = read_page(SAMPLE_PAGE.read_bytes())
    assert "изъято более 12 тонн" in page.text and "Главная" not in page.text
    assert str(page.published_on) == "2024-03-05"


def test_a_pages_candidates_equal_those_of_its_plain_text(client, session):
    cur = bearer(session)
    page = client.post("/api/v1/sources", json={"html": CLUTTERED.decode()}, headers=cur)
    assert page.status_code == 201, page.text
    src = page.json()
    assert (
        src["publisher"] == "Пресс-центр (тест)" and src["raw_hash"] == hashlib.sha256(CLUTTERED).hexdigest()
    )
    plain = {"text": src["text"] + "\n", "title": "plain", "publisher": "P", "published_on": "2025-04-11"}
    plain_id = client.post("/api/v1/sources", json=plain, headers=cur).json()["id"]

    def figures(sid: int) -> list[tuple]:
        items = client.post(f"/api/v1/sources/{sid}/candidates", headers=cur).json()["items"]
        return [(c["quote"], c["value"], c["unit"], c["qualifier"], c["metric"]) for c in items]

    assert figures(src["id"]) == figures(plain_id) and len(figures(plain_id)) >= 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": "x", "html": "<p>x</p>"}, "html"),
        ({"html": "<html><body></body></html>"}, "html"),
        ({"text": "Seized 5 tons.", "title": "t", "publisher": "p"}, "published_on"),
        (
            {
                "html": "<html><body><article><p>"
                + "Изъято 5 тонн героина. " * 5
                + "</p></article></body></html>"
            },
            "title",
        ),
    ],
)
def test_what_a_body_lacks_is_a_422_naming_the_field(client, session, body, field):
    r = client.post("/api/v1/sources", json=body, headers=bearer(session))
    assert r.status_code == 422 and r.json()["field"] == field, r.text


# ---------------------------------------------------------------- pages fetched by URL


@pytest.mark.usefixtures("allow_private")
def test_a_page_fetched_by_url_keeps_its_address_and_time(client, session, site):
    r = client.post("/api/v1/sources", json={"url": f"{site}/hop/2"}, headers=bearer(session))
    assert r.status_code == 201, r.text
    src = r.json()
    assert src["url"] == f"{site}/hop/2" and src["retrieved_at"] and src["language"] == "ru"
    assert src["raw_hash"] == hashlib.sha256(CLUTTERED).hexdigest() and "свыше 3 тонн" in src["text"]


def test_a_plain_text_page_is_stored_as_it_is(site):
    page = fetch_page(f"{site}/plain.txt", LOCAL)
    assert page.text == RU_TEXT and page.retrieved_at is not None


@pytest.mark.usefixtures("allow_private")
def test_fetching_needs_a_curator_key(client, site):
    assert client.post("/api/v1/sources", json={"url": f"{site}/page.html"}).status_code == 401


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/nope.html", 502, "remote-status"),
        ("/image.png", 422, "page-type"),
        ("/big.html", 422, "page-too-large"),
        ("/slow.html", 504, "fetch-timeout"),
        ("/hop/6", 502, "too-many-redirects"),
    ],
)
@pytest.mark.usefixtures("allow_private")
def test_the_guard_refuses_with_a_problem_naming_why(client, session, site, path, status, code):
    r = client.post("/api/v1/sources", json={"url": f"{site}{path}"}, headers=bearer(session))
    assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json"), (
        r.text
    )
    assert r.json()["type"].endswith(":" + code)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/hostname", "gopher://x"])
def test_only_http_and_https_are_fetched(client, session, url):
    r = client.post("/api/v1/sources", json={"url": url}, headers=bearer(session))
    assert r.status_code == 422 and r.json()["field"] == "url", r.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url):
    with pytest.raises(InvalidInput) as caught:
        fetch_page(url, GUARDED)
    assert caught.value.code == "url-not-public" and caught.value.extra["field"] == "url"


def test_a_redirect_is_checked_like_the_first_address(site, monkeypatch):
    """A public page that redirects to a private address is refused at the hop."""
    seen: list[str] = []

    def public_first(addr):  # the local site stands in for a public one; every later hop is itself
        seen.append(str(addr))
        return len(seen) == 1

    monkeypatch.setattr("app.curation.pages._public", public_first)
    with pytest.raises(InvalidInput) as caught:
        fetch_page(f"{site}/hop/1", GUARDED)
    assert caught.value.code == "url-not-public" and len(seen) == 2


@pytest.mark.parametrize(
    ("addr", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("100.64.0.1", False),
        ("169.254.1.1", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("0.0.0.0", False),
    ],
)
def test_which_addresses_are_public(addr, public):
    assert _public(ipaddress.ip_address(addr)) is public


def test_an_unknown_host_is_a_502(monkeypatch):
    def unresolvable(*_: object, **__: object) -> None:  # no lookup leaves the machine in tests
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr("app.curation.pages.socket.getaddrinfo", unresolvable)
    with pytest.raises(RemoteFailed) as caught:
        fetch_page("http://no-such-host.invalid/", GUARDED)
    assert caught.value.code == "host-not-found"


def test_a_slow_page_is_a_504(site):
    with pytest.raises(RemoteTimeout):
        fetch_page(f"{site}/slow.html", LOCAL)


# ---------------------------------------------------------------- opstats ingest


def test_ingest_adds_a_saved_page_and_a_text(tmp_path, monkeypatch, fresh_db):
    from app import db as storage

    storage.upgrade(fresh_db.url)
    monkeypatch.setenv("DATABASE_URL", fresh_db.url)
    get_settings.cache_clear()
    runner = CliRunner()
    page = runner.invoke(cli, ["ingest", str(PAGES / "cluttered.html")])
    assert page.exit_code == 0, page.output
    text = tmp_path / "release.txt"
    text.write_text(RU_TEXT, encoding="utf-8")
    args = ["ingest", str(text), "--title", "Тест", "--publisher", "П", "--published-on", "2024-03-05"]
    plain = runner.invoke(cli, args)
    assert plain.exit_code == 0, plain.output
    assert int(plain.stdout.strip().splitlines()[-1]) == int(page.stdout.strip().splitlines()[-1]) + 1
    missing = runner.invoke(cli, ["ingest", str(text) + ".nope"])
    bare = runner.invoke(cli, ["ingest", str(text)])
    assert missing.exit_code == 2 and bare.exit_code == 1 and "`title` is required" in bare.output
    get_settings.cache_clear()
