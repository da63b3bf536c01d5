"""The published site, read as a reader's browser gets it: parse the built HTML.

The shipped project is built once per session into a temporary folder; other tests
build small projects of their own.  Nothing is written into the repository.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import posixpath
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urldefrag

import markdown
import pytest
from bs4 import BeautifulSoup
from hypothesis import given, strategies as st
from markupsafe import Markup

from factories import ACTOR_ID, INCIDENT_ID, SOURCE_ID, tiny_records, write_project
from generator import quick_markdown, views
from generator.check import check_project
from generator.cli import main
from generator.render import md_escape

REPO = Path(__file__).resolve().parent.parent
BASE = Path(__file__).parent / "cases" / "check" / "_base"
DECEMBER = "incidents/green-zone-rockets-2020-12-20/index.html"


def copy_project(target: Path, facts_from: Path = REPO) -> Path:
    """A copy of the shipped site settings and templates, with facts and corpus from a project."""
    target.mkdir()
    shutil.copy(REPO / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(REPO / "site_templates", target / "site_templates")
    shutil.copytree(facts_from / "facts", target / "facts")
    shutil.copytree(facts_from / "corpus", target / "corpus")
    return target


def small_project(target: Path) -> Path:
    """The base case project of tests/cases/check, with the shipped site settings."""
    shutil.copytree(BASE, target)
    shutil.copy(REPO / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(REPO / "site_templates", target / "site_templates")
    return target


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    assert main(["--root", str(REPO), "build", "--site-dir", str(out)]) == 0
    return out


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def resolve(site: Path, page: Path, href: str) -> tuple[Path, str]:
    """The file a relative link of a page leads to, and its fragment."""
    target, fragment = urldefrag(href)
    base = page.relative_to(site).parent.as_posix()
    joined = posixpath.normpath(posixpath.join(base, target)) if target else \
        page.relative_to(site).as_posix()
    path = site / joined
    if path.is_dir():
        path = path / "index.html"
    return path, fragment


def fact_pages(site: Path) -> list[Path]:
    pages = [site / "disputed" / "index.html"]
    for kind in ("incidents", "actors", "statements"):
        pages += sorted(p for p in (site / kind).glob("*/index.html"))
    return pages


def test_every_fact_has_a_citation_that_resolves_to_its_quote_on_a_source_page(site):
    checked = 0
    for page in fact_pages(site):
        html = soup(page)
        for fact in html.select(".fs-fact"):
            refs = fact.select("a.footnote-ref")
            assert refs, f"{page}: fact without citation: {fact.get_text()!r}"
            for ref in refs:
                note = html.find(id=ref["href"].removeprefix("#"))
                assert note is not None, f"{page}: {ref['href']} has no footnote"
                quote_links = [a for a in note.find_all("a") if "/sources/" in a["href"]]
                assert len(quote_links) == 1
                target, anchor = resolve(site, page, quote_links[0]["href"])
                assert anchor.startswith("q-")
                quote = soup(target).find(id=anchor)
                assert quote is not None, f"{page}: {quote_links[0]['href']} does not resolve"
                checked += 1
    assert checked >= 50


def test_december_attack_shows_each_casualty_version_with_its_source(site):
    html = soup(site / DECEMBER)
    section = html.find(id="injured")
    assert section.get_text(strip=True).startswith("Injured")
    warning = section.find_next("div", class_="admonition")
    assert warning.find(class_="admonition-title").get_text().startswith("Disputed: the sources")
    rows = warning.find_next("table").select("tbody tr")
    versions = {}
    for row in rows:
        value, sources, according = (cell.get_text(" ", strip=True) for cell in row.find_all("td"))
        versions[value.split("[")[0].strip()] = sources
    assert len(versions) >= 4
    assert any(v.startswith("0") for v in versions), versions
    assert any(v.startswith("at least 1 (Iraqi soldier") for v in versions), versions
    assert all(sources for sources in versions.values())


def test_disputed_page_lists_the_december_casualty_versions(site):
    html = soup(site / "disputed" / "index.html")
    heading = html.find(id="green-zone-rockets-2020-12-20-injured")
    table = heading.find_next("table")
    header = [th.get_text(strip=True) for th in table.select("thead th")]
    assert header[0] == "Version" and len(header) >= 4
    rows = table.select("tbody tr")
    assert len(rows) >= 4
    for row in rows:
        assert row.select(".fs-fact a.footnote-ref"), row.get_text()


def test_no_page_loads_anything_from_another_host(site):
    for page in site.rglob("*.html"):
        html = soup(page)
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
            for element in html.find_all(tag):
                url = element.get(attr, "")
                assert not url.startswith(("http:", "https:", "//")), f"{page}: {url}"


def test_data_downloads_hold_every_claim_and_citation(site):
    data = json.loads((site / "data" / "factsheet.json").read_text(encoding="utf-8"))
    citations = sum(len(c["citations"]) for kind in ("incidents", "actors")
                    for record in data[kind] for c in record["claims"])
    rows = list(csv.DictReader(io.StringIO((site / "data" / "claims.csv").read_text())))
    assert len(rows) == citations > 0
    assert {r["source"] for r in rows} <= {s["id"] for s in data["sources"]}


def test_incident_pages_carry_json_ld(site):
    script = soup(site / DECEMBER).find("script", type="application/ld+json")
    event = json.loads(script.string)
    assert event["@type"] == "Event"
    assert event["startDate"] == "2020-12-20"
    assert {a["identifier"] for a in event["citation"]} >= {"cnn-2020-12-20", "esta-2020-12-20"}


HOSTILE = ('<script>alert(1)</script> <img src=x onerror=alert(2)> [link](javascript:alert(3)) '
           '{: onclick="alert(4)" } {{ 7*7 }} [^c1] !!! danger')


def test_the_timeline_figure_is_shown_but_left_out_of_the_search_index(site):
    """Its labels repeat the incident titles, which the pages list anyway: in the index
    they only made every title a hit on the home and timeline pages (and the index of a
    5,000-incident site 1.7 MB larger)."""
    for page in ("index.html", "timeline/index.html"):
        assert "Timeline of the recorded incidents" in (site / page).read_text(encoding="utf-8")
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    texts = [doc["text"] for doc in index["docs"]]
    assert texts and not any("Timeline of the recorded incidents" in t for t in texts)


def test_claim_text_with_markup_is_shown_as_text(tmp_path):
    project = small_project(tmp_path / "project")
    incident = project / "facts/incidents/attack.yaml"
    incident.write_text(incident.read_text(encoding="utf-8").replace(
        "    - value: 8\n", f"    - value: 8\n      detail: '{HOSTILE}'\n"), encoding="utf-8")
    out = tmp_path / "site"
    assert main(["--root", str(project), "build", "--site-dir", str(out)]) == 0
    html = soup(out / "incidents" / "attack" / "index.html")
    fact = html.find(id="rockets-1")
    assert f"8 ({HOSTILE})" in fact.get_text()
    assert [e.name for e in fact.find_all(True)] == ["sup", "a"]  # only the citation marker
    assert not html.find(attrs={"onerror": True}) and not html.find(attrs={"onclick": True})
    assert not html.find("img", src="x")
    assert not [s for s in html.find_all("script") if "alert" in (s.string or "")]


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_builds_of_the_same_input_are_byte_identical(site, tmp_path):
    again = tmp_path / "again"
    assert main(["--root", str(REPO), "build", "--site-dir", str(again)]) == 0
    assert _digest(again) == _digest(site)


def test_a_failed_build_leaves_the_previous_site_untouched(tmp_path, capsys):
    project = copy_project(tmp_path / "project")
    out = tmp_path / "site"
    assert main(["--root", str(project), "build", "--site-dir", str(out)]) == 0
    before = _digest(out)
    incident = project / "facts/incidents/green-zone-rockets-2020-12-20.yaml"
    incident.write_text(incident.read_text(encoding="utf-8").replace(
        "Eight rockets were fired", "Nine rockets were fired"), encoding="utf-8")
    assert main(["--root", str(project), "build", "--site-dir", str(out)]) == 1
    assert "quote not found" in capsys.readouterr().out
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "site"]


def test_a_build_replaces_the_previous_site_and_its_copy_is_deleted_afterwards(tmp_path):
    out = tmp_path / "site"
    assert main(["--root", str(REPO), "build", "--site-dir", str(out)]) == 0
    (out / "stale.html").write_text("from the previous build")
    assert main(["--root", str(REPO), "build", "--site-dir", str(out)]) == 0
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    deadline = time.monotonic() + 20  # deleted by a process the build does not wait for
    while len(list(tmp_path.iterdir())) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_edit_links_point_at_the_yaml_file_when_the_repository_is_known(tmp_path):
    project = copy_project(tmp_path / "project")
    config = project / "mkdocs.yml"
    config.write_text("repo_url: https://example.org/newsroom/factsheet\n"
                      + config.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "site"
    assert main(["--root", str(project), "build", "--site-dir", str(out)]) == 0
    edit = soup(out / DECEMBER).find("a", title="Edit this page")
    assert edit["href"] == ("https://example.org/newsroom/factsheet/edit/main/"
                            "facts/incidents/green-zone-rockets-2020-12-20.yaml")


def test_plain_mkdocs_build_builds_the_same_pages(site, tmp_path):
    out = tmp_path / "plain"
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                    "-f", str(REPO / "mkdocs.yml"), "-d", str(out)], check=True, cwd=tmp_path)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")) == \
        sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def test_a_build_that_fails_in_mkdocs_leaves_the_previous_site_and_no_debris(tmp_path, capsys):
    project = copy_project(tmp_path / "project")
    out = tmp_path / "site"
    assert main(["--root", str(project), "build", "--site-dir", str(out)]) == 0
    before = _digest(out)
    template = project / "site_templates" / "timeline.md.j2"
    template.write_text(template.read_text(encoding="utf-8")
                        + "\n[a page that does not exist](nowhere.md)\n", encoding="utf-8")
    assert main(["--root", str(project), "build", "--site-dir", str(out)]) == 1
    printed, err = capsys.readouterr()
    assert "MkDocs failed" in err and "nowhere.md" in printed  # problems go to stdout
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "site"]


def test_a_known_url_is_linked_with_a_text_fragment_and_its_archive_copy_shown(tmp_path):
    project = small_project(tmp_path / "project")
    source = project / "facts/sources/article.yaml"
    source.write_text(source.read_text(encoding="utf-8")
                      + "url: https://news.example.org/2020/12/rockets\n"
                      + "archive_url: https://archive.example.org/news/rockets\n",
                      encoding="utf-8")
    out = tmp_path / "site"
    assert main(["--root", str(project), "build", "--site-dir", str(out)]) == 0
    incident = soup(out / "incidents" / "attack" / "index.html")
    originals = [a["href"] for a in incident.select(".footnote a")
                 if a.get_text() == "Original article"]
    assert "https://news.example.org/2020/12/rockets#:~:text=Eight%20rockets%20were%20fired" \
           "%20at%20the%20area" in originals
    page = soup(out / "sources" / "article" / "index.html")
    assert page.find("a", href="https://archive.example.org/news/rockets")
    assert page.find("a", href="https://news.example.org/2020/12/rockets")


@pytest.mark.parametrize("value", ["- a dash", "+ plus", "* star", "! bang", ": colon",
                                   "= equals", "~~~ tildes", "1. one", "12) twelve",
                                   "# hash", "> quote", "| pipe |", "&amp; entity"])
def test_text_that_starts_like_markdown_syntax_reads_as_typed(value):
    # where a template puts a value first on a line: a paragraph, a list item, a table cell
    for markdown_text, element in ((md_escape(value), "p"), (f"- {md_escape(value)}", "li"),
                                   (f"| a |\n| --- |\n| {md_escape(value)} |", "td")):
        md = markdown.Markdown(extensions=quick_markdown.EXTENSIONS,
                               extension_configs=quick_markdown.EXTENSION_CONFIGS)
        html = BeautifulSoup(md.convert(markdown_text), "html.parser")
        assert html.find(element).get_text() == value, markdown_text


def test_text_escaped_once_is_kept_within_a_bound_and_markup_is_never_taken_for_it(
        monkeypatch):
    from generator import render

    monkeypatch.setattr(render, "_ESCAPED_TEXT", {})
    monkeypatch.setattr(render, "_ESCAPED_TEXT_MAX", 8)
    values = [f"- item {i} <b>" for i in range(20)]
    first = [render.md_escape(value) for value in values]
    assert 0 < len(render._ESCAPED_TEXT) <= 8
    assert [render._finalize(value) for value in values] == first == [
        render._md_escape(value) for value in values]
    # the same text as markup (made in Python, safe): shown as it is, though the text
    # equals, and hashes as, a string escaped before
    assert str(render._finalize("<b>x</b>")) == "&lt;b&gt;x&lt;/b&gt;"
    assert str(render._finalize(Markup("<b>x</b>"))) == "<b>x</b>"
    assert str(render.md_escape(Markup("<b>x</b>"))) == "&lt;b&gt;x&lt;/b&gt;"  # escaped as text


_MARKDOWN_AND_HTML = "\\`*_{}[]()|#&<>\"-+!:=~0123456789."


@given(st.text(alphabet=st.sampled_from(_MARKDOWN_AND_HTML + " \t\n\u00a0\u2003x"))
       | st.text())
def test_text_is_escaped_as_one_translation_table_would(value):
    # the escaping replaces one character after another; a table replaces them all at once
    import re

    from generator import render

    text = re.sub(r"\s+", " ", value).strip().translate(str.maketrans(render.ESCAPED_CHARS))
    start = render._LINE_START.match(text)
    if start and text[:start.end()].isdigit():
        text = text[:start.end()] + "\\" + text[start.end():]
    elif start:
        text = render._NOT_ESCAPABLE.get(text[0], "\\" + text[0]) + text[1:]
    assert render._md_escape(value) == Markup(text)


def test_links_between_pages_are_the_paths_posixpath_gives():
    # links are worked out from the paths' parts; odd paths (a template may pass any
    # text) go to posixpath itself
    targets = ["index.md", "disputed.md", "incidents/a.md", "incidents/index.md#x", "incidents",
               "sources/b.md", "a/b/c.md", "a/b", "./x.md", "a//b.md", "../up.md",
               "a/./b.md", "/abs.md", "a/", "a/b/../c.md"]
    pages = ["index.md", "incidents/a.md", "a/b.md", "a/b/c/d.md", "x/y/z.md", "./a/b.md",
             "a/../b/c.md"]
    for target in targets:
        for page in pages:
            path, _, anchor = target.partition("#")
            folder = posixpath.dirname(page) or "."
            expected = posixpath.relpath(path, folder) + ("#" + anchor if anchor else "")
            assert views.relative(page, target) == expected, (page, target)


def test_the_index_lists_each_citing_fact_actor_and_incident_once(tmp_path):
    records = tiny_records()
    claims = records["incidents"][0]["claims"]
    said = {"source": SOURCE_ID, "quote": "Eight rockets were fired", "according_to": ACTOR_ID}
    # one claim cites the same quote twice, by the same actor; another claim cites it too
    claims["rockets"] = [{"value": 8, "citations": [said, dict(said)]}]
    claims["description"] = [{"value": "Eight rockets were fired", "citations": [dict(said)]}]
    # the actor is named by two claims of one field of the incident
    claims["blamed_on"] = [{"value": ACTOR_ID, "citations": [dict(said)]},
                           {"value": ACTOR_ID, "detail": "by the statement", "citations": [
                               {"source": SOURCE_ID, "quote": "the Iraqi military said"}]}]
    root = write_project(tmp_path, records)
    result = check_project(root)
    assert not result.errors
    positions = {key: match.start for key, match in result.corpus.matches.items()}
    index = views.build_index(result.records, positions)
    [use] = [q for q in index.quotes_by_source[SOURCE_ID] if q.text == "Eight rockets were fired"]
    assert [(f.label, f.anchor) for f in use.facts] == [
        ("Rockets fired", "rockets-1"), ("What happened", "description-1"),
        ("Blamed on", "blamed-on-1")]
    assert [actor.id for actor in use.according_to] == [ACTOR_ID]
    assert [(incident.id, spec.name) for incident, spec in index.incidents_by_actor[ACTOR_ID]] \
        == [(INCIDENT_ID, "blamed_on")]


def test_the_actors_index_names_other_spellings_only_when_there_are_some(site):
    items = [li.get_text(" ", strip=True)
             for li in soup(site / "actors" / "index.html").select("article li")]
    assert any(item.startswith("Abu Mahdi al-Muhandis") for item in items)
    assert not [item for item in items if item.endswith("also")]  # alias = the name only
    assert any("— also Kirby" in item for item in items)


@pytest.mark.parametrize("cores, collecting", [(2, False), (1, True)])
def test_the_cycle_collector_is_off_for_a_build_with_workers_and_on_again_after(
        tmp_path, monkeypatch, cores, collecting):
    from generator import build, parallel

    seen = []
    for stage in ("check_project", "render_checked", "mkdocs_build"):
        real = getattr(build, stage)
        monkeypatch.setattr(build, stage, lambda *args, real=real, **kwargs: (
            seen.append(gc.isenabled()) or real(*args, **kwargs)))
    monkeypatch.setattr(parallel, "cores", lambda: cores)
    assert gc.isenabled()
    assert main(["--root", str(REPO), "build", "--site-dir", str(tmp_path / "site")]) == 0
    assert seen == [collecting] * 3
    assert gc.isenabled()


def test_what_a_build_with_workers_made_is_left_to_the_oldest_generation(tmp_path, monkeypatch):
    """Not walked by a collection of the youngest generation the moment the collector is on
    again (that walked the whole build's objects: 0.9 s at 5,000 incidents); objects a
    caller froze stay frozen."""
    from generator import build, parallel

    monkeypatch.setattr(parallel, "cores", lambda: 2)
    kept = [object()]  # a container the collector tracks, frozen by the caller
    gc.freeze()
    try:
        build.build_site(REPO, site_dir=tmp_path / "site")
        assert not any(obj is kept for obj in gc.get_objects())  # in no generation
    finally:
        gc.unfreeze()
    report = build.build_site(REPO, site_dir=tmp_path / "site")
    assert gc.isenabled()
    records = report.result.records
    assert any(obj is records for obj in gc.get_objects(generation=2))
