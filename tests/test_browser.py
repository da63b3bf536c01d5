"""The built site in a real browser: Debian's chromium, driven by Playwright, on localhost.

The shipped project is built once per session into a temporary folder and served by a
threaded ``http.server`` on 127.0.0.1.  Every request to any other host is recorded and
refused, so a page that would reach out (web fonts, a CDN) fails here, not in a reader's
browser.  `bash scripts/test` installs chromium; Playwright's own browser download is
not used (CI machines have no internet).
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

from generator.check import check_project
from generator.cli import main
from generator.views import display_value

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
DECEMBER = "green-zone-rockets-2020-12-20"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


@pytest.fixture(scope="session")
def records():
    return check_project(REPO).records


@pytest.fixture(scope="session")
def base_url(tmp_path_factory) -> str:
    """The shipped site, built once and served on a free port of 127.0.0.1."""
    site = tmp_path_factory.mktemp("browser") / "site"
    assert main(["--root", str(REPO), "build", "--site-dir", str(site)]) == 0
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")  # closed before other modules start a Playwright of their own
def browser():
    assert Path(CHROMIUM).is_file(), "install Debian's chromium: bash scripts/test does"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    """A fresh page that records console errors and refuses requests to other hosts."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.elsewhere = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))

    def guard(route):
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != "127.0.0.1":
            page.elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    yield page
    context.close()


def test_home_page_renders_with_no_console_error_and_no_other_host(page, base_url):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(base_url, wait_until="networkidle")
    expect(page.locator("article h1")).to_contain_text("Green Zone rocket attacks — a cited "
                                                       "fact sheet")
    expect(page.locator("article .fs-counts table")).to_be_visible()
    assert page.errors == []
    assert page.elsewhere == []
    assert len(requested) > 3  # the page, its style sheets and scripts
    assert {urlsplit(u).hostname for u in requested if not u.startswith("data:")} == \
        {"127.0.0.1"}


def test_clicking_a_citation_lands_on_the_source_page_at_the_quote(page, base_url, records):
    page.goto(urljoin(base_url, f"incidents/{DECEMBER}/"))
    reference = page.locator("#rockets-1 a.footnote-ref").first
    label = reference.get_attribute("href")  # "#fn:c5"
    reference.click()
    note = page.locator(f"li[id='{label[1:]}']")
    expect(note).to_be_in_viewport()
    to_quote = note.get_by_role("link", name="Quote in context of the source")
    target = urljoin(page.url, to_quote.get_attribute("href"))
    to_quote.click()
    page.wait_for_url(target)
    path, anchor = urlsplit(target).path, urlsplit(target).fragment
    assert path.startswith("/sources/") and anchor.startswith("q-")
    quote = page.locator(f"[id='{anchor}']")
    expect(quote).to_be_in_viewport()
    text = quote.inner_text().strip("“” \n")
    source_id = path.split("/")[2]
    claim = next(c for c in records.incidents[DECEMBER].claims if c.field.name == "rockets")
    assert (source_id, text) in {(c.source, c.quote.text) for c in claim.citations}
    assert page.errors == [] and page.elsewhere == []


def test_search_finds_c_ram(page, base_url):
    page.goto(base_url, wait_until="networkidle")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    search = page.locator("input.md-search__input")
    search.press_sequentially("C-RAM", delay=50)
    # results follow the typing; wait for those of the whole word
    found = page.locator(".md-search-result__item", has_text="C-RAM")
    expect(found.first).to_be_visible(timeout=10_000)
    expect(page.locator(f".md-search-result__item a[href*='incidents/{DECEMBER}/']").first
           ).to_be_attached()
    assert "C-RAM" in found.first.inner_text()
    assert page.errors == [] and page.elsewhere == []


def test_disputed_page_lists_each_december_casualty_version_with_its_source(page, base_url,
                                                                            records):
    page.goto(urljoin(base_url, "disputed/"))
    incident = records.incidents[DECEMBER]
    injured = [c for c in incident.claims if c.field.name == "injured"]
    assert len(injured) > 1  # the casualty figures are disputed
    heading = page.locator(f"h2[id='{DECEMBER}-injured']")
    expect(heading).to_be_visible()
    table = heading.locator("xpath=following::table[1]")
    columns = table.locator("thead th a").evaluate_all(
        "links => links.map(a => new URL(a.href).pathname.split('/')[2])")
    rows = table.locator("tbody tr").evaluate_all("""rows => rows.map(row => {
        const cells = [...row.querySelectorAll('td')];
        return {version: cells[0].innerText.trim(),
                ticked: cells.slice(1).map(c => c.innerText.includes('✔')),
                notes: cells.slice(1).map(c => [...c.querySelectorAll('a.footnote-ref')]
                                                 .map(a => a.getAttribute('href')))};
    })""")
    shown = {row["version"]: row for row in rows}
    assert len(rows) == len(injured)
    for claim in injured:
        version = display_value(claim, records) + (f" ({claim.detail})" if claim.detail else "")
        row = shown[version]
        cited = {c.source for c in claim.citations}
        assert {s for s, ticked in zip(columns, row["ticked"]) if ticked} == cited
        for source, notes in zip(columns, row["notes"]):
            for note in notes:  # each tick's footnote leads to the quote on that source's page
                link = page.locator(f"li[id='{note[1:]}'] a",
                                    has_text="Quote in context of the source")
                assert f"sources/{source}/#q-" in link.get_attribute("href")
    assert page.errors == [] and page.elsewhere == []
