"""Hostile text in every field of every record renders as inert text.

One project holds the same list of payloads (raw HTML, scripts, event handlers,
javascript: and data: URLs, Markdown links and images, Jinja, attribute lists, footnote,
admonition and front-matter syntax) in every text field, quotes included: the article
holds them too, so that every citation still verifies.  The built HTML is parsed, then
every page is opened in headless Chromium: no dialog, no request to another address,
no injected element, and the payload reads as typed.
"""

from __future__ import annotations

import functools
import json
import http.server
import shutil
import threading
from pathlib import Path

import jinja2.compiler
import pytest
from bs4 import BeautifulSoup

from factories import ACTOR_ID, ARTICLE, ARTICLE_NAME, INCIDENT_ID, SOURCE_ID, STATEMENT_ID, \
    tiny_records, write_project
from generator import render
from generator.check import check_project
from generator.cli import main
from generator.site import render_checked

REPO = Path(__file__).resolve().parent.parent
TRAP = "127.0.0.1:9"  # the discard port: any request there is an injected request

PAYLOADS = [
    "<script>window.__pwned = 1</script>",
    "</title><script>window.__pwned = 9</script>",
    f'<img src="http://{TRAP}/a.png" onerror="window.__pwned = 2">',
    '<a href="javascript:window.__pwned = 3">click</a>',
    "[click](javascript:window.__pwned=4)",
    f"![image](http://{TRAP}/b.png)",
    '<iframe src="data:text/html,<script>parent.__pwned = 5</script>"></iframe>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "{{ 7*7 }} {% if true %}jinja{% endif %}",
    '{: onclick="window.__pwned = 6" }',
    'word{ #evil .x onmouseover="window.__pwned = 7" }',
    "[^c1] [^c1]: a forged footnote",
    '!!! danger "Injected admonition"',
    "--- title: forged front matter ---",
    "<style>body { display: none }</style>",
    f'<svg onload="window.__pwned = 8"><image href="http://{TRAP}/c.png"/></svg>',
    f"<http://{TRAP}/autolink>",
    "&lt;b&gt;entity&lt;/b&gt; | table | cell |",
]
PAYLOAD = " ".join(PAYLOADS)


def hostile_project(root: Path) -> Path:
    """The tiny project with PAYLOAD in every text field and in the article."""
    records = tiny_records()
    source, actor = records["sources"][0], records["actors"][0]
    incident, statement = records["incidents"][0], records["statements"][0]
    hostile_citation = {"source": SOURCE_ID, "quote": PAYLOAD, "according_to": ACTOR_ID}
    source.update(title=PAYLOAD, notes=PAYLOAD)
    source["outlet"].update(value=PAYLOAD, evidence=PAYLOAD, quotes=[PAYLOAD])
    source["published"]["evidence"] = PAYLOAD
    actor.update(name=PAYLOAD, aliases=[PAYLOAD],
                 claims={"role": [{"value": PAYLOAD, "detail": PAYLOAD, "note": PAYLOAD,
                                   "citations": [hostile_citation]}]})
    incident.update(title=PAYLOAD, place=PAYLOAD)
    claims = incident["claims"]
    claims["place"][0].update(value=PAYLOAD, detail=PAYLOAD, note=PAYLOAD)
    claims["place"][0]["citations"].append(hostile_citation)
    claims["description"] = [{"value": PAYLOAD, "citations": [hostile_citation]}]
    claims["damage"] = [{"value": PAYLOAD, "detail": PAYLOAD, "citations": [hostile_citation]}]
    claims["injured"] = [  # a dispute, so the payload also reaches the claims matrix
        {"value": 1, "detail": PAYLOAD, "citations": [
            {"source": SOURCE_ID, "quote": "One Iraqi soldier was injured"}]},
        {"value": "several", "detail": PAYLOAD, "citations": [hostile_citation]}]
    statement.update(text=PAYLOAD, language_note=PAYLOAD,
                     citations=[{"source": SOURCE_ID, "quote": PAYLOAD}])
    statement["date"]["evidence"] = PAYLOAD
    write_project(root, records, {ARTICLE_NAME: ARTICLE + PAYLOAD + "\n"})
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    project = hostile_project(tmp_path_factory.mktemp("hostile") / "project")
    out = project.parent / "site"
    assert main(["--root", str(project), "build", "--site-dir", str(out)]) == 0
    return out


PAGES = ["", "incidents/", f"incidents/{INCIDENT_ID}/", "actors/", f"actors/{ACTOR_ID}/",
         "statements/", f"statements/{STATEMENT_ID}/", "sources/", f"sources/{SOURCE_ID}/",
         "disputed/", "timeline/"]


def test_the_hostile_project_passes_the_check_so_every_field_is_rendered(site):
    assert (site / "incidents" / INCIDENT_ID / "index.html").is_file()


@pytest.mark.parametrize("page", PAGES)
def test_no_payload_becomes_markup(site, page):
    html = BeautifulSoup((site / page / "index.html").read_text(encoding="utf-8"),
                         "html.parser")
    article = html.select_one("article")
    assert "window.__pwned" in article.get_text()  # shown, as text
    for element in html.find_all(True):
        for name, value in element.attrs.items():
            assert not name.startswith("on"), (page, element)
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert not text.strip().lower().startswith(("javascript:", "data:")), (page, element)
            assert TRAP not in text, (page, element)
    for script in html.find_all("script"):
        if script.get("type") == "application/ld+json":  # data: parses, holds no raw '<'
            assert "<" not in script.string and json.loads(script.string)["name"] == PAYLOAD
        else:
            assert "__pwned" not in (script.string or ""), (page, script)
    assert not html.find_all(["iframe", "img", "style"])
    assert not html.find(id="evil")
    assert not [t for t in html.select(".admonition-title") if "Injected" in t.get_text()]
    assert "49" not in article.get_text()


@pytest.mark.parametrize("project", ["shipped", "hostile"])
def test_templates_compiled_without_jinjas_second_escape_render_the_same(project, tmp_path,
                                                                        monkeypatch):
    """Our Jinja code leaves out the escape() Jinja wraps around finalize (which escapes
    already): every page and data file must be what Jinja's own code makes."""
    root = REPO if project == "shipped" else hostile_project(tmp_path / "project")
    result = check_project(root)
    assert not result.errors
    ours = render_checked(result, root / "site_templates", "Fact sheet")
    assert "escape(environment.finalize(" not in _compiled(root / "site_templates")
    monkeypatch.setattr(render, "COMPILED", render.CompiledTemplates())  # compile anew
    monkeypatch.setattr(render, "_EscapedByFinalize", jinja2.compiler.CodeGenerator)
    assert "escape(environment.finalize(" in _compiled(root / "site_templates")
    assert render_checked(result, root / "site_templates", "Fact sheet") == ours


def _compiled(templates: Path) -> str:
    env = render.make_environment(templates)
    return env.compile(env.loader.get_source(env, "_macros.md.j2")[0], raw=True)


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))

    class Quiet(handler.func):  # type: ignore[name-defined]
        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_in_chromium_no_script_runs_and_no_request_leaves(server):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run"])
        page = browser.new_page()
        dialogs, requests = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        for path in PAGES:
            page.goto(server + path)
            page.wait_for_load_state("networkidle")
            page.mouse.move(300, 300)
            assert page.evaluate("window.__pwned") is None, path
            assert "window.__pwned" in page.inner_text("article"), path
        # search results are inserted as HTML: the hostile titles and text must stay text
        page.goto(server)
        page.locator("label.md-search__icon, .md-search__input").first.click()
        page.locator("input.md-search__input").press_sequentially("forged", delay=50)
        results = page.locator(".md-search-result__item")
        results.first.wait_for(timeout=10_000)
        assert results.count() >= 3
        page.mouse.move(200, 400)
        assert page.evaluate("window.__pwned") is None
        browser.close()
    assert dialogs == []
    assert [url for url in requests if not url.startswith(server)] == []
