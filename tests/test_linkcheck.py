"""Link and citation checks of the built site, and the online check of source URLs.

The shipped project is built into temporary folders, once as it is (it must pass) and
once per planted defect: a broken link, a missing anchor, a footnote without its
definition, a fact without a citation, an orphan page.  Each must fail `factsheet build`
and `factsheet linkcheck` with a message that names the page and the fact file that
made it.  The online check runs against a local HTTP server that the tests start.
Nothing is written into the repository.
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import shutil
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from generator.check import check_project
from generator.cli import main
from generator.linkcheck import Ids, check_site, scan_page, scan_page_lines
from generator.urlcheck import UrlChecker

REPO = Path(__file__).resolve().parent.parent
DECEMBER = "green-zone-rockets-2020-12-20"
PAGE = f"incidents/{DECEMBER}/index.html"
RECORD = f"facts/incidents/{DECEMBER}.yaml"
ONLY_DECEMBER = '{% if incident.id == "' + DECEMBER + '" %}'
FAILED = "factsheet: error: the built site fails its checks; the previous site is left as it was"


def copy_project(target: Path) -> Path:
    """The shipped project's settings, templates, facts and corpus, in a folder of its own."""
    target.mkdir(parents=True)
    shutil.copy(REPO / "mkdocs.yml", target / "mkdocs.yml")
    for folder in ("site_templates", "facts", "corpus"):
        shutil.copytree(REPO / folder, target / folder)
    return target


@functools.cache
def record_at() -> str:
    """Where the December incident's record starts in its file (after any modeline)."""
    return str(check_project(REPO).records.incidents[DECEMBER].loc)


def run(argv: list[str], capsys) -> tuple[int, list[str], str]:
    """Exit code, stdout lines without hints, and stderr of one command."""
    code = main(argv)
    out, err = capsys.readouterr()
    return code, [line for line in out.splitlines() if not line.startswith("    hint:")], err


def line_of(html: str, needle: str) -> int:
    """The 1-based line of the first occurrence of ``needle`` in a page."""
    return html[:html.index(needle)].count("\n") + 1


@pytest.fixture(scope="module")
def shipped_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("linkcheck") / "site"
    assert main(["--root", str(REPO), "build", "--site-dir", str(out)]) == 0
    return out


@pytest.fixture
def site_copy(shipped_site: Path, tmp_path: Path) -> Path:
    """A copy of the shipped site that a test may damage."""
    return Path(shutil.copytree(shipped_site, tmp_path / "site"))


def build_planted(tmp_path: Path, capsys, template: str, old: str | None, new: str,
                  ) -> tuple[int, list[str], str, Path]:
    """Build the shipped project with one template changed: ``old`` replaced (or appended)."""
    project = copy_project(tmp_path / "project")
    path = project / "site_templates" / template
    text = path.read_text(encoding="utf-8")
    if old is None:
        text += new
    else:
        assert text.count(old) == 1, f"{template} no longer has {old!r}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "site"
    code, lines, err = run(["--root", str(project), "build", "--site-dir", str(out)], capsys)
    assert not out.exists()  # a failed build publishes nothing
    return code, lines, err, project


def matching(pattern: str, lines: list[str]) -> list[str]:
    return [line for line in lines if re.fullmatch(pattern, line)]


# The shipped site ----------------------------------------------------------------------

def test_the_shipped_site_passes_linkcheck(shipped_site, capsys):
    code, lines, err = run(["--root", str(REPO), "linkcheck", "--site-dir", str(shipped_site)],
                           capsys)
    assert (code, lines) == (0, [])
    assert re.fullmatch(r"factsheet linkcheck: 0 errors, 0 warnings \(\d+ pages; [\d.]+ s\)\n",
                        err)


def test_linkcheck_without_a_built_site_is_a_usage_error(tmp_path, capsys):
    code, lines, err = run(["--root", str(REPO), "linkcheck", "--site-dir",
                            str(tmp_path / "nothing")], capsys)
    assert code == 2
    assert err == (f"factsheet: error: {tmp_path / 'nothing'} holds no built site (no "
                   "index.html); run 'factsheet build' first or pass --site-dir\n")


# Planted defects: `factsheet build` fails, naming the page and the fact file -----------

def test_a_broken_link_in_raw_html_fails_the_build(tmp_path, capsys):
    code, lines, err, _ = build_planted(
        tmp_path, capsys, "incident.md.j2", None,
        f'\n{ONLY_DECEMBER}<p><a href="../../nowhere/">more</a></p>{{% endif %}}\n')
    assert code == 1 and err == FAILED + "\n"
    assert len(lines) == 1
    assert matching(re.escape(f"{record_at()}: error: {PAGE}:") + r"\d+" + re.escape(
        ": link '../../nowhere/' goes to nowhere/index.html, which is not in the site "
        "[broken-link]"), lines) == lines


def test_a_broken_markdown_link_fails_in_mkdocs_validation_at_the_record(tmp_path, capsys):
    code, lines, err, _ = build_planted(
        tmp_path, capsys, "incident.md.j2", None,
        f"\n{ONLY_DECEMBER}[more](../nowhere.md){{% endif %}}\n")
    assert code == 1
    assert err == "factsheet: error: MkDocs failed: Aborted with 1 warnings in strict mode!\n"
    assert lines == [
        f"{record_at()}: error: incidents/{DECEMBER}.md: contains a link '../nowhere.md', but "
        "the target 'nowhere.md' is not found among documentation files [mkdocs-validation]"]


def test_a_missing_anchor_in_raw_html_fails_the_build(tmp_path, capsys):
    code, lines, err, _ = build_planted(
        tmp_path, capsys, "incident.md.j2", None,
        f'\n{ONLY_DECEMBER}<p><a href="../../disputed/#no-such-fact">see</a></p>{{% endif %}}\n')
    assert code == 1 and err == FAILED + "\n"
    assert matching(re.escape(f"{record_at()}: error: {PAGE}:") + r"\d+" + re.escape(
        ": link '../../disputed/#no-such-fact' goes to #no-such-fact, which "
        "disputed/index.html does not have [missing-anchor]"), lines) == lines
    assert len(lines) == 1


def test_a_quote_without_its_anchor_fails_in_mkdocs_validation_at_the_citing_record(
        tmp_path, capsys):
    code, lines, err, _ = build_planted(
        tmp_path, capsys, "source.md.j2", "{ #{{ q.anchor }} .fs-cited-quote }",
        '{% if source.id != "cnn-2020-12-20" %}{ #{{ q.anchor }} .fs-cited-quote }'
        '{% else %}{ .fs-cited-quote }{% endif %}')
    assert code == 1 and "MkDocs failed" in err
    assert lines  # every footnote that cites a CNN quote
    assert matching(re.escape(f"{record_at()}: error: incidents/{DECEMBER}.md: contains a "
                              "link '../sources/cnn-2020-12-20.md#q-") + r"[0-9a-f]{10}" +
                    re.escape("', but the doc 'sources/cnn-2020-12-20.md' does not contain "
                              "an anchor '#q-") + r"[0-9a-f]{10}" +
                    re.escape("' [mkdocs-validation]"), lines)


def test_a_footnote_reference_without_definition_fails_the_build(tmp_path, capsys):
    code, lines, err, _ = build_planted(
        tmp_path, capsys, "incident.md.j2", None,
        f"\n{ONLY_DECEMBER}Also reported.[^c999]{{% endif %}}\n")
    assert code == 1 and err == FAILED + "\n"
    assert matching(re.escape(f"{record_at()}: error: {PAGE}:") + r"\d+" + re.escape(
        ": the footnote reference [^c999] has no definition; it is shown as literal text "
        "[footnote-undefined]"), lines) == lines
    assert len(lines) == 1


def test_a_fact_without_citation_fails_the_build_at_its_record(tmp_path, capsys):
    code, lines, err, _ = build_planted(
        tmp_path, capsys, "incident.md.j2", None,
        f'\n{ONLY_DECEMBER}<p><span class="fs-fact" id="extra-1">Nine rockets</span></p>'
        '{% endif %}\n')
    assert code == 1 and err == FAILED + "\n"
    assert matching(re.escape(f"{record_at()}: error: {PAGE}:") + r"\d+" + re.escape(
        ": the fact #extra-1 “Nine rockets” has no citation (no footnote reference) "
        "[fact-uncited]"), lines) == lines
    assert len(lines) == 1


def test_a_template_that_drops_a_facts_citations_fails_in_mkdocs_validation(tmp_path, capsys):
    # the fact macro leaves out the markers of the second 'injured' version; its footnote
    # is then never referenced, which MkDocs' validation reports
    code, lines, err, project = build_planted(
        tmp_path, capsys, "_macros.md.j2", "{{ refs(version.notes) }}</span>",
        '{% if version.anchor != "injured-2" or page != "incidents/' + DECEMBER + '.md" %}'
        '{{ refs(version.notes) }}{% endif %}</span>')
    assert code == 1
    assert err == "factsheet: error: MkDocs failed: Aborted with 1 warnings in strict mode!\n"
    assert matching(re.escape(f"{record_at()}: error: incidents/{DECEMBER}.md: contains a "
                              "link '#fnref:") + r"c\d+" + re.escape(
        "', but there is no such anchor on this page. This seems to be a footnote that is "
        "never referenced [mkdocs-validation]"), lines) == lines
    assert len(lines) == 1


def test_an_orphan_page_fails_the_build_at_its_record(tmp_path, capsys):
    # a new actor that the actors index leaves out and nothing else names
    project = copy_project(tmp_path / "project")
    (project / "facts/actors/nobody-links-here.yaml").write_text(
        "id: nobody-links-here\nname: Nobody links here\nkind: person\n", encoding="utf-8")
    index = project / "site_templates/actors.md.j2"
    text = index.read_text(encoding="utf-8")
    assert text.count("{% for actor in members %}") == 1
    index.write_text(text.replace("{% for actor in members %}", "{% for actor in members if "
                                  'actor.id != "nobody-links-here" %}'), encoding="utf-8")
    out = tmp_path / "site"
    code, lines, err = run(["--root", str(project), "build", "--site-dir", str(out)], capsys)
    assert code == 1 and err == FAILED + "\n"
    assert [line for line in lines if " error: " in line] == [
        "facts/actors/nobody-links-here.yaml:1:1: error: actors/nobody-links-here/index.html: "
        "no link reaches this page from the home page or the nav [orphan-page]"]
    assert not out.exists()


# Planted defects in a built site: `factsheet linkcheck` ------------------------------

def damage(site: Path, page: str, old: str, new: str) -> str:
    """Replace the first ``old`` in a page of the site; return the damaged page."""
    path = site / page
    html = path.read_text(encoding="utf-8")
    assert old in html, f"{page} has no {old!r}"
    html = html.replace(old, new, 1)
    path.write_text(html, encoding="utf-8")
    return html


def linkcheck(site: Path, capsys, *extra: str) -> tuple[int, list[str], str]:
    return run(["--root", str(REPO), "linkcheck", "--site-dir", str(site), *extra], capsys)


def test_linkcheck_reports_a_footnote_link_to_a_missing_quote_anchor(site_copy, capsys):
    html = (site_copy / PAGE).read_text(encoding="utf-8")
    target = re.search(r'href="\.\./\.\./sources/cnn-2020-12-20/#(q-[0-9a-f]{10})"', html)
    anchor = target.group(1)
    damage(site_copy, "sources/cnn-2020-12-20/index.html", f'id="{anchor}"', 'id="gone"')
    code, lines, _ = linkcheck(site_copy, capsys)
    assert code == 1
    mine = [line for line in lines if line.startswith(RECORD)]
    label = re.search(r'<li id="fn:(c\d+)">(?:(?!</li>).)*#' + anchor, html, re.S).group(1)
    assert mine[0] == (
        f"{record_at()}: error: {PAGE}:{line_of(html, '#' + anchor)}: the link "
        f"'../../sources/cnn-2020-12-20/#{anchor}' of footnote [^{label}] goes to "
        f"#{anchor}, which sources/cnn-2020-12-20/index.html does not have "
        "[quote-anchor-missing]")
    assert {line.rsplit(" ", 1)[1] for line in lines} == {"[quote-anchor-missing]"}


def test_pages_scanned_in_workers_give_the_scans_and_problems_of_a_serial_scan(
        site_copy, capsys, monkeypatch):
    from generator import linkcheck as module, parallel

    damage(site_copy, PAGE, '<li id="fn:c1">', '<li id="fn:gone">')
    damage(site_copy, "index.html", '<h2 id="latest-incidents">',
           '<p><a href="incidents/nowhere/">x</a></p><h2 id="latest-incidents">')
    monkeypatch.setattr(parallel, "can_fork", lambda: False)
    _, serial, _ = module.scan_site(site_copy)
    serial_run = linkcheck(site_copy, capsys)[:2]
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "SHARES_PER_WORKER", 3)  # 103 pages in six shares
    monkeypatch.setattr(module, "MIN_PAGES_PER_WORKER", 1)
    forks = []
    fork_map = parallel.fork_map
    monkeypatch.setattr(parallel, "fork_map", lambda work, shares, workers, meanwhile=None: (
        forks.append((len(shares), workers)) or fork_map(work, shares, workers, meanwhile)))
    files, forked, meanwhile = module.scan_site(site_copy, meanwhile=os.getpid)
    assert forks == [(6, 2)]
    assert meanwhile == os.getpid()  # it ran here
    assert forked == serial and list(forked) == list(serial) and len(serial) > 100
    assert files == module.site_files(site_copy) and set(serial) < files
    assert linkcheck(site_copy, capsys)[:2] == serial_run
    assert serial_run[0] == 1 and len(serial_run[1]) == 2


def test_links_checked_in_two_processes_give_the_problems_of_one(site_copy, capsys,
                                                                  monkeypatch):
    from generator import linkcheck as module, parallel

    # links to another page's anchors, each met once: the quick way of checking them
    # must find what the full one finds (a query, encoded and text fragments go that way)
    links = {"../../disputed/#no-such-fact": "missing-anchor",
             "../../disputed/#no%2Dsuch": "missing-anchor",
             "../../disputed/?x=1#nowhere": "missing-anchor",
             "../../nowhere/#x": "broken-link",
             "../../disputed/#:~:text=x": None, "../../disputed/#__drawer": None,
             "../../disputed/#%5F%5Fdrawer": None, "../../stylesheets/factsheet.css#x": None}
    damage(site_copy, PAGE, '<h2 id="facts">', "<p>" + " ".join(
        f'<a href="{href}">x</a>' for href in links) + '</p><h2 id="facts">')
    monkeypatch.setattr(module, "MIN_PAGES_TO_SPLIT", 10**9)
    serial = linkcheck(site_copy, capsys)[:2]
    monkeypatch.setattr(module, "MIN_PAGES_TO_SPLIT", 1)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    forked = []
    later = parallel.Later
    monkeypatch.setattr(parallel, "Later", lambda work: forked.append(1) or later(work))
    assert linkcheck(site_copy, capsys)[:2] == serial
    assert forked == [1]
    files, scans, _ = module.scan_site(site_copy)
    pages = module._html_pages(files)
    split = module._reached_and_failing(pages, scans, module._Targets(files))
    monkeypatch.setattr(module, "MIN_PAGES_TO_SPLIT", 10**9)
    assert split == module._reached_and_failing(pages, scans, module._Targets(files))
    assert split[1] == [PAGE] and len(split[0]) == len(pages) > 100
    code, lines = serial
    assert code == 1
    reported = sorted((re.search(r"'([^']+)'", line).group(1), line.rsplit(" ", 1)[1])
                      for line in lines)
    assert reported == sorted((href, f"[{code}]") for href, code in links.items() if code)


def test_linkcheck_reports_a_footnote_reference_whose_definition_is_gone(site_copy, capsys):
    html = damage(site_copy, PAGE, '<li id="fn:c1">', '<li id="fn:gone">')
    code, lines, _ = linkcheck(site_copy, capsys)
    assert code == 1
    line = line_of(html, 'href="#fn:c1"')
    assert lines == [f"{record_at()}: error: {PAGE}:{line}: the footnote reference '#fn:c1' "
                     f"goes to #fn:c1, which {PAGE} does not have [footnote-undefined]"]


def test_linkcheck_reports_a_literal_footnote_reference(site_copy, capsys):
    html = damage(site_copy, PAGE, '<h2 id="facts">', '<p>[^c9999]</p><h2 id="facts">')
    code, lines, _ = linkcheck(site_copy, capsys)
    assert (code, lines) == (1, [
        f"{record_at()}: error: {PAGE}:{line_of(html, '[^c9999]')}: the footnote reference "
        "[^c9999] has no definition; it is shown as literal text [footnote-undefined]"])


@pytest.mark.parametrize("text, footnotes, links", [
    ("[^c9] alone", [("c9", 1)], []),
    ("a ](page.md) alone", [], [("](page.md)", 1)]),
    ("^ [ ^] ]( ( ] (", [], []),
])
def test_the_scan_finds_each_kind_of_left_over_markdown_on_its_own(text, footnotes, links):
    # the fast scan hands such a page to the scan with lines, which finds the text
    page = (f'<html><body><p id="p">{text}</p><div class="footnote"><ol><li id="fn:c1">'
            '<p>q</p></li></ol></div></body></html>').encode()
    scan = scan_page(page)
    assert (scan.literal_footnotes, scan.unrendered_links) == (footnotes, links)


def test_pages_are_mapped_to_their_records_only_when_a_problem_is_found(site_copy, capsys,
                                                                         monkeypatch):
    from generator import linkcheck as checks

    made, site_records = [], checks.site_records
    monkeypatch.setattr(checks, "site_records",
                        lambda *args: made.append(1) or site_records(*args))
    assert linkcheck(site_copy, capsys)[0] == 0
    assert made == []  # a sound site needs no record named
    damage(site_copy, PAGE, 'id="rockets-1"', 'id="rockets-one"')  # the sources link to it
    damage(site_copy, PAGE, 'href="../../disputed/"', 'href="../../nowhere/"')
    code, lines, _ = linkcheck(site_copy, capsys)
    assert code == 1 and made == [1]  # once, however many problems
    assert any(line.startswith(f"{record_at()}: error: {PAGE}:") for line in lines), lines
    assert any(line.startswith("facts/sources/") and "#rockets-1" in line for line in lines)


def test_linkcheck_locates_an_uncited_fact_at_its_claim(site_copy, capsys):
    html = (site_copy / PAGE).read_text(encoding="utf-8")
    fact = re.search(r'<span class="fs-fact" id="rockets-1">([^<]*)((?:<sup id="fnref:[^"]+">'
                     r'<a class="footnote-ref"[^>]*>\d+</a></sup>)+)</span>', html)
    html = damage(site_copy, PAGE, fact.group(0),
                  f'<span class="fs-fact" id="rockets-1">{fact.group(1)}</span>')
    code, lines, _ = linkcheck(site_copy, capsys)
    records = check_project(REPO).records
    claim = [c for c in records.incidents[DECEMBER].claims if c.field.name == "rockets"][0]
    line = line_of(html, 'id="rockets-1"')
    assert f"{claim.loc}: error: {PAGE}:{line}: the fact #rockets-1 “{fact.group(1)}” has no " \
           "citation (no footnote reference) [fact-uncited]" in lines
    labels = re.findall(r'href="#fn:(c\d+)"', fact.group(2))
    definition = 'class="footnote-backref" href="#fnref:{}"'.format
    unreferenced = [f"{record_at()}: error: {PAGE}:{line_of(html, definition(label))}: "
                    f"footnote [^{label}] is defined but nothing on the page refers to it (its "
                    "fact lost its citation marker?) [footnote-unreferenced]" for label in labels]
    assert len(lines) == 1 + len(labels) and set(unreferenced) < set(lines)
    assert code == 1


def test_directory_urls_and_index_html_both_resolve_and_a_wrong_form_is_named(site_copy,
                                                                             capsys):
    html = damage(site_copy, "index.html", '<h2 id="latest-incidents">',
                  '<p><a href="incidents/">a</a> <a href="incidents/index.html">b</a> '
                  '<a href="incidents">c</a> <a href="incidents.html">d</a></p>'
                  '<h2 id="latest-incidents">')
    code, lines, _ = linkcheck(site_copy, capsys)
    assert (code, lines) == (1, [
        f"index.html:{line_of(html, 'incidents.html')}:1: error: link 'incidents.html' goes "
        "to incidents.html, which is not in the site [broken-link]"])


def test_linkcheck_reports_an_orphan_page(site_copy, capsys):
    (site_copy / "stray").mkdir()
    (site_copy / "stray/index.html").write_text("<html><body><p>stray</p></body></html>")
    code, lines, _ = linkcheck(site_copy, capsys)
    assert (code, lines) == (1, [
        "stray/index.html: error: no link reaches this page from the home page or the nav "
        "[orphan-page]"])


def test_a_template_bug_on_every_page_is_reported_for_five_pages_and_counted(site_copy,
                                                                           capsys):
    pages = sorted(p for p in site_copy.glob("actors/*/index.html"))
    assert len(pages) > 6
    for page in pages:
        page.write_text(page.read_text(encoding="utf-8").replace(
            "</article>", '<a href="../../missing/">x</a></article>', 1), encoding="utf-8")
    code, lines, _ = linkcheck(site_copy, capsys)
    assert code == 1
    assert len(lines) == 6
    assert lines[-1] == (f"missing/index.html: error: {len(pages) - 5} more pages have the same "
                         "broken link to missing/index.html (the first 5 are listed) "
                         "[broken-link]")


def test_github_format_annotates_the_yaml_line(site_copy, capsys):
    damage(site_copy, PAGE, '<h2 id="facts">', '<p>[^c9999]</p><h2 id="facts">')
    code, lines, _ = linkcheck(site_copy, capsys, "--format", "github")
    assert code == 1
    line, column = record_at().split(":")[1:]
    assert lines[0].startswith(f"::error file={RECORD},line={line},col={column},title=factsheet "
                               "footnote-undefined::")


def test_scan_page_finds_facts_footnotes_and_links_in_one_parse():
    scan = scan_page(b"""<html><body>
<p><span class="fs-fact" id="a-1">cited<sup><a class="footnote-ref" href="#fn:c1">1</a></sup></span>
<span class="fs-fact other" id="a-2">not cited <em>at all</em></span></p>
<p>escaped on purpose: [^c1]; lost: [^c2]; and ](page.md) left over</p>
<pre>[^c3] in code is fine</pre>
<div class="footnote"><ol><li id="fn:c1"><p>x <a href="../s/#q-1">quote</a></p></li></ol></div>
<svg><a xlink:href="#a-1"><text>t</text></a></svg>
<p><a href="#nowhere">x</a> <a href="https://example.org/#a-9">y</a> <a href="#">top</a>
<a href="#fn%3Ac1">z</a> <a class="footnote-ref" href="#fn:c9">9</a></p>
</body></html>""")
    assert set(scan.ids) == {"a-1", "a-2", "fn:c1"} and len(scan.ids) == 3
    assert "a-1" in scan.ids and "a" not in scan.ids and "" not in scan.ids
    assert [(f.ident, f.line, f.shown) for f in scan.uncited] == [("a-2", 3, "not cited at all")]
    assert scan.literal_footnotes == [("c1", 4), ("c2", 4)]
    assert scan.unrendered_links == [("](page.md)", 4)]
    # the links to its own anchors (#fn:c1, #a-1, #fn%3Ac1, #) and to other sites are
    # settled on the page; the site's check needs the others
    assert [(link.href, link.line, link.footnote_ref, link.in_footnote)
            for link in scan.links] == [("../s/#q-1", 6, False, "c1"), ("#nowhere", 8, False, ""),
                                        ("#fn:c9", 9, True, "")]
    # as a worker sends it: the same scan, its strings interned
    sent = pickle.loads(pickle.dumps(scan, pickle.HIGHEST_PROTOCOL))
    assert sent == scan
    assert all(link.href is sys.intern("".join(link.href)) for link in sent.links)
    assert set(sent.ids) == set(scan.ids)


@pytest.mark.parametrize("facts, uncited", [
    ('<span class="fs-fact" id="a">x<sup><a class="footnote-ref" href="#fn:c1">1</a></sup>'
     '</span>', []),
    ('<span class="fs-fact" id="a">x</span>', ["a"]),
    ('<span class="fs-fact" id="a"><span class="fs-fact" id="b">x<sup><a class="footnote-ref"'
     ' href="#fn:c1">1</a></sup></span></span>', []),  # the outer fact has it too
    ('<span class="fs-fact" id="a">x<sup><a class="footnote-ref" href="#fn:c1">1</a></sup>'
     '<span class="fs-fact" id="b">y</span></span>', ["b"]),
    ('<span class="fs-fact" id="a">x<sup><b class="footnote-ref">1</b></sup></span>', ["a"]),
    ('<span class="fs-fact" id="a">x<sup><a class="footnote-refs" href="#fn:c1">1</a></sup>'
     '</span>', ["a"]),
])
def test_the_fast_scan_finds_each_fact_without_a_footnote_reference(facts, uncited):
    page = (f'<html><body><p>{facts}</p><div class="footnote"><ol><li id="fn:c1"><p>q</p>'
            '</li></ol></div></body></html>').encode()
    assert b"[^" not in page and b"](" not in page  # read by the fast scan first
    assert [fact.ident for fact in scan_page(page).uncited] == uncited


def test_the_fast_scan_finds_what_the_scan_with_lines_finds_on_every_shipped_page(
        shipped_site):
    pages = sorted(shipped_site.rglob("*.html"))
    assert len(pages) > 100
    for path in pages:
        html = path.read_bytes()
        fast, exact = scan_page(html), scan_page_lines(html)
        assert fast.ids == exact.ids and not fast.uncited, path
        assert [(link.href, link.footnote_ref, link.in_footnote, link.backref)
                for link in fast.links] == [(link.href, link.footnote_ref, link.in_footnote,
                                             link.backref) for link in exact.links], path
        assert all(link.line == 0 for link in fast.links)  # found when a link is reported
        assert all(link.line > 0 for link in exact.links)


def test_the_fast_scan_settles_the_links_the_scan_with_lines_settles():
    # links to the page's own anchors (encoded too), empty ones, text fragments and other
    # sites are sound whatever the rest of the site holds; the others are kept
    hrefs = ["#top", "#t%6Fp", "#", "", "#:~:text=x", "#%3A~%3Atext=x", "//cdn.example.org/x",
             "https://example.org/#top", "mailto:a@example.org", "#nowhere", "#no%2Dwhere",
             "../x/", "x.html#top", "%23top"]
    html = ('<html><body><p id="top">' + " ".join(f'<a href="{href}">x</a>' for href in hrefs)
            + '<img src=""><img src="pic.png"><script src="//cdn.example.org/s.js"></script>'
            + "</p></body></html>").encode()
    fast, exact = scan_page(html), scan_page_lines(html)
    assert [link.href for link in fast.links] == [link.href for link in exact.links] == [
        "#nowhere", "#no%2Dwhere", "../x/", "x.html#top", "%23top", "pic.png"]


def test_the_fast_scan_reads_footnotes_names_and_sources_as_the_scan_with_lines_does():
    html = b"""<html><body><p id="top"><a name="old-style"></a>
<a class="footnote-ref" href="#fn:c9">9</a> <img src="../pic.png"> <a href="../x/">x</a></p>
<div class="footnote"><ol>
<li id="fn:c1"><p><a href="../s/#q-1">quote</a> <img src="../s/icon.png">
<ul><li id="fn:inner"><a href="../t/">inner</a></li><li><a href="../u/">u</a></li></ul>
<a class="footnote-backref" href="#fnref:c1">back</a></p></li>
</ol></div></body></html>"""
    fast, exact = scan_page(html), scan_page_lines(html)
    assert set(fast.ids) == {"top", "old-style", "fn:c1", "fn:inner"} and fast.ids == exact.ids
    assert [(link.href, link.footnote_ref, link.in_footnote, link.backref)
            for link in fast.links] == [
        ("#fn:c9", True, "", False), ("../pic.png", False, "", False),
        ("../x/", False, "", False), ("../s/#q-1", False, "c1", False),
        ("../s/icon.png", False, "", False), ("../t/", False, "inner", False),
        ("../u/", False, "c1", False), ("#fnref:c1", False, "c1", True)]
    assert [(link.href, link.footnote_ref, link.in_footnote, link.backref)
            for link in exact.links] == [(link.href, link.footnote_ref, link.in_footnote,
                                          link.backref) for link in fast.links]


def test_a_reported_link_is_found_on_its_line_among_links_to_the_same_place(tmp_path):
    (tmp_path / "index.html").write_text("""<html><body>
<p><a href="gone/">first</a></p>
<p id="a"><a href="#a">fine</a> <a href="gone/" class="footnote-ref">a reference</a></p>

<p><a href="gone/">second</a></p>
</body></html>""", encoding="utf-8")
    assert scan_page((tmp_path / "index.html").read_bytes()).links[0].line == 0
    broken = "goes to gone/index.html, which is not in the site"
    assert [(problem.location.path, problem.location.line, problem.message)
            for problem in check_site(tmp_path)] == [
        ("index.html", 2, f"link 'gone/' {broken}"),
        ("index.html", 3, f"the footnote reference 'gone/' {broken}"),
        ("index.html", 5, f"link 'gone/' {broken}")]


def test_the_same_link_is_checked_from_each_place_it_may_lead_elsewhere(tmp_path):
    # links are looked up by what decides where they go: the same href from pages at
    # other depths, or an in-page anchor on another page, may fail where it passed
    def page(path: str, body: str) -> None:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(f"<html><body>{body}</body></html>", encoding="utf-8")

    links = '<p id="top"><a href="../a/">a</a> <a href="#top">top</a> <a href="/">home</a></p>'
    page("a/index.html", '<a href="#top">no top here</a> <a href="../x/">x</a>')
    page("x/index.html", links)  # ../a/ is a/: it passes
    page("x/y/index.html", links.replace(' id="top"', ""))  # ../a/ is x/a/: missing
    page("z/index.html", '<a href="#top">no top here either</a> <a href="../x/">x</a>')
    page("index.html", '<a href="x/">x</a> <a href="x/y/">y</a> <a href="a/">a</a> '
                       '<a href="z/">z</a>')
    assert sorted((problem.location.path, problem.message) for problem in check_site(tmp_path)) == [
        ("a/index.html", "link '#top' goes to #top, which a/index.html does not have"),
        ("x/y/index.html", "link '#top' goes to #top, which x/y/index.html does not have"),
        ("x/y/index.html", "link '../a/' goes to x/a/index.html, which is not in the site"),
        ("z/index.html", "link '#top' goes to #top, which z/index.html does not have")]


def test_a_pages_ids_kept_as_one_string_answer_as_a_set_would():
    assert "" not in Ids() and list(Ids()) == [] and len(Ids()) == 0
    assert "" in Ids([""]) and "a" not in Ids([""]) and list(Ids([""])) == [""]
    ids = Ids(["fn:c1", "b", "fn:c1", "a\0b", "a"])  # a NUL: no link reaches it
    assert list(ids) == ["a", "b", "fn:c1"] and len(ids) == 3
    assert "fn:c1" in ids and "fn:c" not in ids and "c1" not in ids and "a\0b" not in ids
    assert ids == Ids(["a", "b", "fn:c1"]) and ids != Ids(["a"])
    assert pickle.loads(pickle.dumps(ids)) == ids


# Online: source URLs against a local server ------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    """200, 301, 404, 403, 429, 500, a slow answer and a 503 that recovers."""

    hits: list[tuple[str, float]] = []

    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.hits.append((self.path, time.monotonic()))
        path = self.path.split("?", 1)[0]
        if path == "/slow":
            time.sleep(1.5)
        if path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/article")
        elif path == "/flaky":
            tries = sum(1 for asked, _ in self.hits if asked == "/flaky")
            self.send_response(503 if tries == 1 else 200)
        else:
            self.send_response({"/gone": 404, "/forbidden": 403, "/busy": 429,
                                "/broken": 500}.get(path, 200))
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def server():
    """A local HTTP server on a free port; yields its base URL and the requests it got."""
    _Handler.hits = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler.hits
    httpd.shutdown()
    httpd.server_close()


def test_each_kind_of_answer_gets_its_state(server):
    base, hits = server
    checker = UrlChecker(timeout=0.5, retries=1, rate=50, backoff=0.01)
    found = {path: checker.check(base + path) for path in (
        "/article", "/moved", "/gone", "/forbidden", "/busy", "/broken", "/flaky", "/slow")}
    assert {path: (s.state, s.detail) for path, s in found.items()} == {
        "/article": ("ok", "200 OK"),
        "/moved": ("ok", "200 OK"),
        "/gone": ("dead", "404 Not Found"),
        "/forbidden": ("blocked", "403 Forbidden"),
        "/busy": ("blocked", "429 Too Many Requests"),
        "/broken": ("dead", "500 Internal Server Error after 2 tries"),
        "/flaky": ("ok", "200 OK"),
        "/slow": ("timeout", "no answer within 0.5 s in 2 tries"),
    }
    asked = [path for path, _ in hits]
    assert asked.count("/broken") == 2 and asked.count("/flaky") == 2  # retried once
    assert asked.count("/busy") == 1 and asked.count("/gone") == 1  # never retried


def test_a_server_that_is_not_there_is_dead(server):
    base, _ = server
    port = base.rsplit(":", 1)[1]
    status = UrlChecker(timeout=0.5, retries=0, rate=50).check("http://127.0.0.1:9/x")
    assert status.state == "dead" and "Connection refused" in status.detail, port


def test_requests_keep_to_the_rate_across_threads(server):
    base, hits = server
    checker = UrlChecker(timeout=2, retries=0, rate=20, workers=4)
    checker.check_all([f"{base}/article?n={n}" for n in range(10)])
    times = sorted(t for _, t in hits)
    assert len(times) == 10
    assert times[-1] - times[0] >= 9 / 20 - 0.02  # ten starts at most 20 a second


def _with_urls(tmp_path: Path, urls: dict[str, tuple[str, str | None]]) -> Path:
    """The shipped project with a url (and archive_url) given to some sources."""
    project = copy_project(tmp_path / "project")
    for ident, (url, archive) in urls.items():
        path = project / "facts/sources" / f"{ident}.yaml"
        text = path.read_text(encoding="utf-8").rstrip("\n") + f"\nurl: {url}\n"
        if archive:
            text += f"archive_url: {archive}\n"
        path.write_text(text, encoding="utf-8")
    return project


def _line(project: Path, ident: str, key: str) -> str:
    text = (project / "facts/sources" / f"{ident}.yaml").read_text(encoding="utf-8")
    number = next(i for i, line in enumerate(text.splitlines(), 1)
                  if line.startswith(key + ":"))
    return f"facts/sources/{ident}.yaml:{number}:{len(key) + 3}"


def test_online_check_reports_dead_blocked_and_archived_urls(server, shipped_site, tmp_path,
                                                             capsys):
    base, hits = server
    project = _with_urls(tmp_path, {
        "cnn-2020-12-20": (f"{base}/gone", None),
        "esta-2020-12-20": (f"{base}/gone?esta", f"{base}/article?archived"),
        "al-monitor-2020-12-20": (f"{base}/forbidden", None),
        "news-agencies-2020-12-20": (f"{base}/moved", f"{base}/busy"),
        "cnn-copy-2022-01-13": (f"{base}/gone?copy", f"{base}/gone?archived-copy"),
    })
    code, lines, err = run(["--root", str(project), "linkcheck", "--site-dir",
                            str(shipped_site), "--online", "--timeout", "1", "--retries", "1",
                            "--rate", "50"], capsys)
    assert code == 1
    assert lines == [
        f"{_line(project, 'al-monitor-2020-12-20', 'url')}: warning: "
        f"sources/al-monitor-2020-12-20/index.html: url {base}/forbidden is blocked (403 "
        "Forbidden): the server refuses automated checks, which does not mean the article is "
        "gone [url-blocked]",
        f"{_line(project, 'cnn-2020-12-20', 'url')}: error: "
        f"sources/cnn-2020-12-20/index.html: url {base}/gone is dead (404 Not Found) and the "
        "source records no archive copy [dead-url]",
        f"{_line(project, 'cnn-copy-2022-01-13', 'url')}: error: "
        f"sources/cnn-copy-2022-01-13/index.html: url {base}/gone?copy is dead (404 Not "
        f"Found); its archive copy {base}/gone?archived-copy does not answer either (dead: "
        "404 Not Found) [dead-url]",
        f"{_line(project, 'cnn-copy-2022-01-13', 'archive_url')}: error: "
        f"sources/cnn-copy-2022-01-13/index.html: archive_url {base}/gone?archived-copy is "
        "dead (404 Not Found) [dead-url]",
        f"{_line(project, 'esta-2020-12-20', 'url')}: warning: "
        f"sources/esta-2020-12-20/index.html: url {base}/gone?esta is dead (404 Not Found); "
        f"the source records an archive copy at {base}/article?archived, which answers (200 "
        "OK) [dead-url]",
        f"{_line(project, 'news-agencies-2020-12-20', 'archive_url')}: warning: "
        f"sources/news-agencies-2020-12-20/index.html: archive_url {base}/busy is blocked "
        "(429 Too Many Requests) [url-blocked]",
    ]
    assert "3 errors, 3 warnings" in err and "8 URLs" in err


def test_blocked_urls_alone_pass_unless_strict(server, shipped_site, tmp_path, capsys):
    base, _ = server
    project = _with_urls(tmp_path, {"cnn-2020-12-20": (f"{base}/forbidden", None)})
    argv = ["--root", str(project), "linkcheck", "--site-dir", str(shipped_site), "--online",
            "--rate", "50"]
    assert run(argv, capsys)[0] == 0
    assert run(argv + ["--strict"], capsys)[0] == 1


def test_the_check_is_offline_unless_asked(server, shipped_site, tmp_path, capsys):
    base, hits = server
    project = _with_urls(tmp_path, {"cnn-2020-12-20": (f"{base}/gone", None)})
    code, lines, _ = run(["--root", str(project), "linkcheck", "--site-dir",
                          str(shipped_site)], capsys)
    assert (code, lines, hits) == (0, [], [])


def test_the_site_files_are_those_rglob_finds(tmp_path):
    from generator.linkcheck import site_files

    site = tmp_path / "site"
    (site / "a" / "b").mkdir(parents=True)
    (site / "index.html").write_text("x")
    (site / "a" / "b" / "page.html").write_text("x")
    (site / "a" / "linked.html").symlink_to(site / "index.html")
    (site / "a" / "broken.html").symlink_to(site / "missing.html")
    (site / "linked-folder").symlink_to(site / "a", target_is_directory=True)
    expected = {path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_file()}
    assert site_files(site) == expected == {"index.html", "a/b/page.html", "a/linked.html"}
