"""The dashboard at `/` in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

A real `opstats serve` on a seeded SQLite file; the page is checked against the JSON API it is
built on. Screenshots go to tests/artifacts/ (gitignored). Locally a missing Chromium skips the
browser tests with a reason; with CI=true they fail instead.
"""

import csv as csv_module
import io
import json
import os
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.factories import IN_CI, ROOT, SOURCE, cli_key, free_port, start, wait_healthy

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
MAX_PAGE_BYTES = 300 * 1024
OWN_FILES = ("/", "/assets/dashboard.js", "/assets/dashboard.css", "/assets/icon.svg")


def require_chromium() -> None:
    """Skip (locally) or fail (in CI) when the Debian Chromium is not installed."""
    if CHROMIUM.exists():
        return
    why = f"{CHROMIUM} is missing (apt-get install -y chromium); never downloaded by Playwright"
    if IN_CI:
        pytest.fail(f"{why} (CI=true: the browser tests must run)")
    pytest.skip(why)


@dataclass
class Server:
    """A running `opstats serve` on a seeded SQLite file."""

    base: str
    db_url: str
    proc: subprocess.Popen[bytes]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict[str, Any], key: str) -> Any:
        req = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


@contextmanager
def serve(tmp: Path) -> Iterator[Server]:
    """Start `opstats serve` (migrate, seed) on a new SQLite file; stop it afterwards."""
    url = f"sqlite:///{tmp / 'dashboard.db'}"
    port = free_port()
    proc = start(url, port)
    try:
        wait_healthy(port, proc)
        yield Server(f"http://127.0.0.1:{port}", url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the read-only checks of this module."""
    with serve(tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield b
        finally:
            b.close()


@dataclass
class Visit:
    """A page and what happened while it was open."""

    page: Page
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    own_bytes: dict[str, int] = field(default_factory=dict)
    all_bytes: int = 0


def visit(browser: Browser, server: Server, viewport: dict[str, int], path: str = "/", **kw: Any) -> Visit:
    """Open a page, recording console errors, page errors, failed and off-origin requests, sizes."""
    page = browser.new_page(viewport=viewport, **kw)
    seen = Visit(page)
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("requestfailed", lambda r: seen.errors.append(f"failed: {r.url}"))

    def on_request(request: Any) -> None:
        if not request.url.startswith(server.base + "/"):
            seen.foreign.append(request.url)

    def on_response(response: Any) -> None:
        size = len(response.body()) if response.status == 200 else 0
        seen.all_bytes += size
        local = response.url.removeprefix(server.base)
        if local in OWN_FILES:
            seen.own_bytes[local] = size

    page.on("request", on_request)
    page.on("response", on_response)
    page.goto(server.base + path)
    if path == "/":
        page.wait_for_selector("body[data-loaded=true]", timeout=15000)
    return seen


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def figures(page: Page) -> list[dict[str, Any]]:
    """Every figure on the page: its base value and the result ids it names."""
    return page.eval_on_selector_all(
        "[data-value-base]",
        """els => els.map(e => ({value: Number(e.dataset.valueBase),
            ids: (e.dataset.resultId || e.dataset.resultIds || '').split(' ').filter(Boolean),
            one: e.hasAttribute('data-result-id'), text: e.textContent}))""",
    )


QUAL = {"exact": "", "more_than": "more than ", "about": "about ", "almost": "almost ", "up_to": "up to "}


# ---------- HTTP, no browser needed ----------


def test_page_and_assets_have_types_caching_and_stay_out_of_the_schema(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache" and page.headers["etag"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text and " style=" not in page.text, "CSP: no inline script or style"
    assert client.get("/", headers={"If-None-Match": page.headers["etag"]}).status_code == 304
    for name, ctype in (
        ("dashboard.js", "text/javascript; charset=utf-8"),
        ("dashboard.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ):
        r = client.get(f"/assets/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == ctype
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["etag"]
    for bad in ("index.html", "..%2Fmain.py", "nope.js"):
        r = client.get(f"/assets/{bad}")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/assets") for p in paths)


# ---------- in the browser ----------


def test_page_loads_without_errors_or_foreign_requests_and_is_light(browser, server):
    seen = visit(browser, server, DESKTOP)
    loaded_bytes = seen.all_bytes
    seen.page.click("[data-result-ids], [data-result-id]")
    seen.page.wait_for_selector("[data-quote-for]")
    seen.page.keyboard.press("Escape")
    seen.page.wait_for_timeout(300)
    assert seen.errors == [] and seen.foreign == []
    assert set(seen.own_bytes) == set(OWN_FILES)
    weight = sum(seen.own_bytes.values())
    print(f"page weight: {weight} bytes of own files {seen.own_bytes}; {loaded_bytes} bytes with API data")
    assert weight <= MAX_PAGE_BYTES and loaded_bytes <= MAX_PAGE_BYTES
    shot(seen.page, "dashboard-desktop")


def test_figures_shown_equal_the_api(browser, server):
    page = visit(browser, server, DESKTOP).page
    shown = figures(page)
    by_ids: dict[tuple[str, ...], set[float]] = {}
    for f in shown:
        by_ids.setdefault(tuple(f["ids"]), set()).add(f["value"])
    totals = server.get("/api/v1/totals")
    expected: list[tuple[tuple[str, ...], float]] = []
    for block in [*totals["operations"], totals["programme"]]:
        for m in block["metrics"]:
            if m["cumulative"]:
                expected.append(((m["cumulative"]["result_id"],), m["cumulative"]["value_base"]))
            if m["phase_sum"]:
                expected.append((tuple(m["phase_sum"]["result_ids"]), m["phase_sum"]["value_base"]))
                expected += [((p["result_id"],), p["value_base"]) for p in m["phase_sum"]["per_phase"]]
            expected += [((c["result_id"],), c["value_base"]) for c in m["country_shares"]]
    assert expected
    for ids, value in expected:
        assert value in by_ids.get(ids, set()), (ids, value)
    results = {r["id"]: r for r in server.get("/api/v1/results?limit=500")["items"]}
    for f in shown:
        assert f["ids"], f
        parts = [results.get(i) or server.get(f"/api/v1/results/{i}") for i in f["ids"]]
        assert f["value"] == pytest.approx(sum(r["value_base"] for r in parts)), f
    headline = server.get("/api/v1/operations/channel/totals")["metrics"]
    drugs = next(m["cumulative"] for m in headline if m["metric"] == "drugs_seized")
    text = page.text_content(f'.key [data-result-id="{drugs["result_id"]}"]') or ""
    started = server.get("/api/v1/operations/channel")["started"]["year"]
    assert f"{QUAL[drugs['qualifier']]}{drugs['value']:g} {drugs['unit']} of drugs seized" in text
    assert text.endswith(f"since {started}")


def quote_of(page: Page, server: Server, rid: str) -> None:
    """The quote element of `rid` is shown: the verbatim quote, the number marked, its source linked."""
    result = server.get(f"/api/v1/results/{rid}")
    box = page.locator(f'[data-quote-for="{rid}"]')
    box.wait_for(state="visible")
    assert result["quote"] in (box.text_content() or "")
    assert box.locator("mark").first.text_content() == result["number_text"]
    assert box.locator(f'a[href="/api/v1/sources/{result["source"]["id"]}"]').count() == 1
    assert result["source"]["title"] in (box.text_content() or "")


def close_quote(page: Page, trigger: Locator) -> None:
    """Escape closes the quote, and focus goes back to the figure that opened it.

    The dialog's `close` event (which returns the focus) is dispatched after the dialog closes:
    wait for it, or the next key press can land on the figure it refocuses instead."""
    page.keyboard.press("Escape")
    page.wait_for_function("el => document.activeElement === el", arg=trigger.element_handle())


def test_a_figure_opens_its_quote_on_click_and_on_enter(browser, server):
    page = visit(browser, server, DESKTOP).page
    rid = "channel-2023-drugs-seized"
    headline = page.locator(f'.key [data-result-id="{rid}"]')
    headline.click()
    quote_of(page, server, rid)
    close_quote(page, headline)
    page.locator(f'[data-quote-for="{rid}"]').wait_for(state="hidden")
    assert page.evaluate("document.activeElement.dataset.resultId") == rid, "focus returns to the figure"
    summed = page.locator("#operation-cards [data-result-ids], #operation-cards .sums > li > .fig").first
    ids = (summed.get_attribute("data-result-id") or summed.get_attribute("data-result-ids") or "").split()
    summed.focus()
    page.keyboard.press("Enter")
    for i in ids:
        quote_of(page, server, i)
    close_quote(page, summed)
    point = page.locator("#series-chart g.fig").first
    point.focus()
    page.keyboard.press("Enter")
    for i in (point.get_attribute("data-result-id") or point.get_attribute("data-result-ids") or "").split():
        quote_of(page, server, i)
    close_quote(page, point)
    row = page.locator("#results-body .fig").first
    row.press("Enter")
    quote_of(page, server, row.get_attribute("data-result-id") or "")


def shown_ids(page: Page) -> list[str]:
    """The result ids of the table's rows, in order."""
    return page.eval_on_selector_all("#results-body [data-result-id]", "s => s.map(e => e.dataset.resultId)")


def test_results_table_filters_pages_and_links_csv(browser, server):
    page = visit(browser, server, DESKTOP).page
    count = expect(page.locator("#results-count"))
    page.select_option("#f-operation", "channel")
    page.select_option("#f-limit", "10")
    page.click("#results-form button[type=submit]")
    api = server.get("/api/v1/results?operation=channel&limit=10")
    assert api["total"] > 10 and api["next_cursor"]
    count.to_contain_text(f"{api['total']} results match; showing 1–10")
    assert shown_ids(page) == [r["id"] for r in api["items"]]
    assert page.get_attribute("#results-csv", "href") == "/api/v1/results?operation=channel&format=csv"
    page.click("#next-page")
    page2 = server.get(f"/api/v1/results?operation=channel&limit=10&cursor={api['next_cursor']}")
    count.to_contain_text("showing 11–")
    assert shown_ids(page) == [r["id"] for r in page2["items"]]
    page.click("#prev-page")
    count.to_contain_text("showing 1–10")
    assert shown_ids(page) == [r["id"] for r in api["items"]]
    page.fill("#f-q", "heroin")
    page.press("#f-q", "Enter")
    hits = server.get("/api/v1/results?operation=channel&q=heroin&limit=10")
    count.to_contain_text(f"{hits['total']} result")
    assert shown_ids(page) == [r["id"] for r in hits["items"]]
    csv = page.get_attribute("#results-csv", "href")
    assert csv == "/api/v1/results?operation=channel&q=heroin&format=csv"
    with urllib.request.urlopen(server.base + csv) as r:
        rows = list(csv_module.DictReader(io.StringIO(r.read().decode())))
    assert sorted(row["id"] for row in rows) == sorted(r["id"] for r in hits["items"])


def test_phone_layout_has_no_sideways_scrolling(browser, server):
    page = visit(browser, server, PHONE, is_mobile=True, has_touch=True).page
    width = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]")
    assert max(width[:2]) <= width[2] == PHONE["width"], width
    shot(page, "dashboard-phone")
    page.locator(".key .fig").first.tap()
    page.wait_for_selector("[data-quote-for]")
    box = page.locator("#quote-dialog").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.evaluate("getSelection().removeAllRanges()")
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone-quote.png"))


# axe-core's experimental rule that a control's accessible name holds its visible text, switched on.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"label-content-name-mismatch": {"enabled": True}}}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_violation(browser, server, viewport):
    page = visit(browser, server, viewport).page
    axe = Axe()
    for state in ("page", "quote open"):
        if state == "quote open":
            page.locator(".key .fig").first.click()
            page.wait_for_selector("[data-quote-for]")
        found = axe.run(page, options=AXE_OPTIONS).response["violations"]
        bad = [v for v in found if v["impact"] in ("serious", "critical")]
        assert not bad, f"{state}: " + "; ".join(
            f"{v['id']}: {v['help']} ({len(v['nodes'])}: {v['nodes'][0]['html'][:200]})" for v in bad
        )


def test_docs_render_their_interactive_ui_offline(browser, server):
    seen = visit(browser, server, DESKTOP, path="/docs")
    seen.page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
    assert seen.page.locator(".opblock").count() >= 10
    assert seen.foreign == [] and seen.errors == []


def test_a_figure_added_through_the_api_appears_without_reload(browser, tmp_path):
    with serve(tmp_path) as live:
        env = dict(os.environ, DATABASE_URL=live.db_url)
        key = cli_key(env, "dashboard-test")
        page = browser.new_page(viewport=DESKTOP)
        polls: list[tuple[str | None, int]] = []
        page.on(
            "response",
            lambda r: (
                polls.append((r.request.headers.get("if-none-match"), r.status))
                if r.url == live.base + "/api/v1/totals"
                else None
            ),
        )
        page.add_init_script("window.opstatsPollSeconds = 1")
        page.goto(live.base + "/")
        page.wait_for_selector("body[data-loaded=true]")
        page.evaluate("window.sameDocument = true")
        page.wait_for_timeout(2500)
        assert any(tag and status == 304 for tag, status in polls), polls
        source = live.post("/api/v1/sources", SOURCE, key)
        body = {
            "source_id": source["id"],
            "operation": "channel",
            "scope": "cumulative",
            "metric": "firearms_seized",
            "value": 41,
            "unit": "count",
            "quote": "Officers also seized 41 firearms and about 1.2 thousand rounds of ammunition.",
        }
        created = live.post("/api/v1/results", body, key)
        fig = page.locator(f'#operation-cards [data-result-id="{created["id"]}"]')
        fig.wait_for(timeout=15000)
        assert fig.get_attribute("data-value-base") == "41"
        assert page.evaluate("window.sameDocument") is True, "the page was not reloaded"
        fig.click()
        quote_of(page, live, created["id"])
        page.close()


def test_the_chart_points_names_hold_their_visible_text(browser, server):
    """Each point of the series chart (a button) has an accessible name, as Chromium computes it,
    holding its visible text (year, then amount) in order: what axe's label-content-name-mismatch
    asks, checked directly (axe skips a name that comes from <title>, not aria-label)."""
    page = visit(browser, server, DESKTOP).page
    page.wait_for_selector("#series-chart g.fig")
    points = page.locator("#series-chart g.fig")
    assert points.count() >= 1
    for i in range(points.count()):
        point = points.nth(i)
        shown = [t.strip() for t in point.locator("text").all_text_contents() if t.strip()]
        assert shown, point.inner_html()
        pattern = re.compile(r"\s*".join(re.escape(t) for t in shown))
        expect(point).to_have_role("button")
        expect(point).to_have_accessible_name(pattern)
    found = Axe().run(page, context="#series-chart", options=AXE_OPTIONS).response["violations"]
    assert found == [], found
