"""generator.quick_markdown writes the HTML Python-Markdown writes, or declines.

The same pages are converted both ways: the shipped site's, a synthetic project's (the
benchmark's generator), the hostile project's (every field full of markup), template-shaped
Markdown around random text escaped as the templates escape it, and random Markdown made
of pieces that each start some other construct.  For each, the quick conversion either
declines or gives the same HTML and table of contents; the shipped and synthetic pages
must not be declined, so that these comparisons are not vacuous.
"""

from __future__ import annotations

import importlib.util
import logging
import pickle
import posixpath
from contextlib import contextmanager
from pathlib import Path

import markdown
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mkdocs.config import load_config
from mkdocs.structure.files import File, Files, InclusionLevel, get_files
from mkdocs.structure.pages import Page, _RelativePathTreeprocessor

from generator import mkdocs_pages, quick_markdown
from generator.check import check_project
from generator.quick_markdown import convert
from generator.render import md_escape
from generator.site import render_checked
from test_injection import hostile_project

REPO = Path(__file__).resolve().parent.parent
# pages the grammar leaves to Python-Markdown: the about pages (code, raw HTML)
LEFT_TO_PYTHON_MARKDOWN = {"methodology.md", "data.md", "contributing.md"}


def python_markdown(text: str) -> tuple[str, list]:
    md = markdown.Markdown(extensions=quick_markdown.EXTENSIONS,
                           extension_configs=quick_markdown.EXTENSION_CONFIGS)
    return md.convert(text), md.toc_tokens


def assert_same_or_declined(text: str) -> bool:
    """Whether the quick conversion took the page (then it must match)."""
    quick = convert(text)
    if quick is None:
        return False
    html, toc = python_markdown(text)
    assert quick.html() == html
    assert quick.toc_tokens == toc
    return True


def rendered_pages(root: Path) -> dict[str, str]:
    tree = render_checked(check_project(root), root / "site_templates", "Fact sheet")
    return {path: output.content for path, output in tree.items() if path.endswith(".md")}


def synthetic_project(root: Path, incidents: int) -> Path:
    spec = importlib.util.spec_from_file_location("bench_generate",
                                                  REPO / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(incidents, root)
    return root


def test_the_installed_releases_are_the_code_the_converter_replicates():
    # Fails when Python-Markdown or MkDocs changes: run this file's tests against the new
    # release, then update REPLICATED_SHA256.  Until then, builds use Python-Markdown.
    assert quick_markdown._fingerprint() == quick_markdown.REPLICATED_SHA256
    assert quick_markdown.replicated_release()


def test_every_shipped_page_converts_to_the_same_html():
    pages = rendered_pages(REPO)
    taken = {path for path, text in pages.items() if assert_same_or_declined(text)}
    assert set(pages) - taken <= LEFT_TO_PYTHON_MARKDOWN
    assert len(taken) > 80


def test_every_page_of_a_synthetic_project_converts_to_the_same_html(tmp_path):
    pages = rendered_pages(synthetic_project(tmp_path / "project", 60))
    taken = {path for path, text in pages.items() if assert_same_or_declined(text)}
    assert set(pages) - taken <= LEFT_TO_PYTHON_MARKDOWN
    assert {"disputed.md", "incidents/index.md", "sources/index.md"} <= taken
    assert len(taken) > 80


def test_the_hostile_projects_pages_are_taken_and_convert_to_the_same_html(tmp_path):
    pages = rendered_pages(hostile_project(tmp_path / "project"))
    taken = {path for path, text in pages.items() if assert_same_or_declined(text)}
    # the payload is escaped text: it keeps no page from the quick conversion
    assert {path for path in pages if "/" in path and not path.endswith("index.md")} <= taken


# -- template-shaped Markdown around random text --------------------------------------

def _value(draw) -> str:
    # no control characters: YAML does not allow them in the fact files
    alphabet = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    hostile = st.sampled_from(["\\", "`", "*", "_", "{", "}", "[", "]", "(", ")", "#", "+",
                               "-", ".", "!", "|", "<", ">", "&", '"', "'", "=", "~", ":",
                               "1.", "  ", "\n", "&amp;", "[^c1]", "<span>", "**",
                               "{ #x }", "!!! note", "---", "    ", "é", "“"])
    text = draw(st.lists(st.one_of(hostile, st.text(alphabet, max_size=6)), max_size=8))
    return md_escape("".join(text)) or "x"  # the fact files hold no empty text


@st.composite
def template_shaped(draw) -> str:
    """A page built like the templates build theirs, around escaped random values."""
    v = lambda: _value(draw)  # noqa: E731 - a new value each time
    labels = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    refs = "".join(f"[^c{n}]" for n in labels)
    blocks = draw(st.lists(st.sampled_from([
        f"# {v()}", f"## {v()}", f"### {v()} {{ #field-{draw(st.integers(1, 9))} }}",
        f"**{v()}** · {v()}\n{{ .fs-meta }}",
        f'<span class="fs-fact" id="f-{draw(st.integers(1, 99))}">{v()}{refs}</span>',
        f"- [{v()}](../actors/a.md){refs}\n- {v()}: [{v()}](x.md#y) ({v()})",
        f"| Version | Source |\n| --- | --- |\n| <span class=\"fs-fact\">{v()}{refs}</span>"
        f" | [{v()}](s.md) |",
        f'!!! warning "{v()}"\n    {v()} See the [page](../disputed.md).',
        f"> “{v()}”\n{{ #q-{draw(st.integers(1, 99))} .fs-cited-quote }}",
        f"According to: [{v()}](a.md).\nCited for:",
        "---", f"Record: {v()}\n{{ .fs-origin }}",
        '<script type="application/ld+json">{"name": "x"}</script>',
    ]), min_size=1, max_size=8))
    fact = f'<span class="fs-fact" id="first">{v()}{refs}</span>'
    notes = "\n".join(f"[^c{n}]: **{v()}**, *{v()}*: “{v()}”. "
                      f"[Quote](../sources/s-{n}.md\\#q-{n})" for n in sorted(set(labels)))
    return "\n\n".join([fact, *blocks, notes]) + "\n"


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(template_shaped())
def test_template_shaped_pages_convert_to_the_same_html(text):
    assert_same_or_declined(text)


def test_template_shaped_pages_are_mostly_taken():
    taken = []

    @settings(max_examples=200, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(template_shaped())
    def count(text):
        taken.append(convert(text) is not None)

    count()
    assert sum(taken) > len(taken) // 2


# -- random Markdown, made to start every other construct ------------------------------

PIECES = ["`", "``", "\\", "\\`", "\\*", "\\[", "\\#", "\\=", "[", "]", "[^1]", "[^1]: note\n",
          "[^2]: two\n", "[a]: http://x.org\n", "[a](b.md)", "[a][b]", "[a]", "![", "!", "![a](b)",
          "<", ">", "<span>", "</span>", '<span class="c" id="i">', "<b>", "<!-- c -->", "&",
          "&amp;", "&#35;", "&copy;", "*", "**", "_", "__", "  \n", " ", "\t", "\n", "\n\n",
          "- ", "* ", "+ ", "1. ", "> ", ">", "    ", "# ", "## ", "#", "|", "| a | b |\n",
          "| --- | --- |\n", "| c | d |\n", "| :-- | --- |\n", "---\n", "***\n", "===\n",
          "!!! note\n    ", '!!! note "T"\n    ', "```\n", "~~~\n", "{ #x }", "{ .c }",
          "{: .c }", "\n{ #x .c }", "word", "é", "x", "1", "[TOC]", "<script>", "</script>",
          '<script type="application/ld+json">{}</script>', "<div markdown>", "</div>",
          "///Footnotes Go Here///"]


@settings(max_examples=1500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_random_markdown_is_converted_the_same_or_declined(pieces):
    assert_same_or_declined("".join(pieces))


@pytest.mark.parametrize("text", [
    "# T\n\nx[^a] y[^a]\n\n- z[^a]\n\n| h |\n| --- |\n| w[^a] |\n\n[^a]: note",  # fnref order
    "## Same\n\n## Same\n\n## Same { #same }",  # ids made unique around a given one
    "> q\n{ #a .b .c }\n\nafter",
    '!!! danger "Two: [link](a.md)"\n    Body[^n] text.\n\n[^n]: the note',
    "| | |\n| --- | --- |\n| a \\| b | c |",
    "a\n\n<script type=\"application/ld+json\">{\"a\": 1}</script>\n\nb",
    "**bold \\* star** and *em \\_ underscore*",
    "\\= not escaped, \\&amp; and \\\\ backslash, \\> \\# \\| escaped",
    # a table in a Markdown <div> stands one level deeper: its marker is numbered last
    '<div class="fs-counts" markdown>\n\n| a | b |\n| --- | --- |\n| [x](y.md) | 2[^n] |\n\n'
    '</div>\n\n| h |\n| --- |\n| c[^n] |\n\n- Text[^n]\n\n[^n]: note',
    '<figure class="fs-figure" data-search-exclude>\n<svg id="s"><title>T &amp; U</title>'
    '<g><rect x="1"/><text>a</text></g></svg>\n</figure>\n\nafter',
])
def test_each_shape_converts_to_the_same_html(text):
    assert assert_same_or_declined(text)


@pytest.mark.parametrize("text", [
    "a\n---",  # a setext heading
    "x[^missing]",  # an undefined footnote stays text
    "[^a]: defined, never used",
    "a  \nb",  # a line break
    "- a\n\n- b",  # a loose list
    "> a\n\n> b",  # one quote across blocks
    "text with `code`", "an ![image](i.png)", "a_b", "<div>raw</div>", "| a |\nb",
    '<figure class="f">\n<svg><!-- a comment --></svg>\n</figure>',
    '<figure class="f">\n<svg><text>a & b</text></svg>\n</figure>',
    '<figure class="f">\n<svg><text>markdown</text></svg>\n</figure>',
    '<figure class="f">\n<svg><style>text {}</style></svg>\n</figure>',
    '<div class="c" markdown>\n\ntext\n\n</div>',
    "a space at the end ", "a space \nat the end of a line",
])
def test_what_the_grammar_does_not_hold_is_declined(text):
    assert convert(text) is None
    python_markdown(text)  # and Python-Markdown has it


# -- what MkDocs' render sets on a page -------------------------------------------------

def rendered(file, config, files, caplog, quick: bool, known: dict | None = None) -> tuple:
    """What a render sets on the page of ``file``, and what it logs: quick (with the links
    ``known`` from other pages) or MkDocs' own."""
    page = Page(None, file, config)
    page.read_source(config)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        if not (quick and mkdocs_pages._render_quickly(page, config, files,
                                                       {} if known is None else known)):
            assert not quick, f"{file.src_uri} was declined"
            page.render(config, files)
    return (page.content, str(page.toc), page._title_from_render, page.present_anchor_ids,
            {f.src_uri: links for f, links in (page.links_to_anchors or {}).items()},
            [(r.name, r.levelno, r.getMessage()) for r in caplog.records])


def test_every_shipped_page_gets_what_mkdocs_render_gives_it(caplog):
    config = load_config(str(REPO / "mkdocs.yml"))
    files = config.plugins.on_files(get_files(config), config=config)
    generated = [file for file in files.documentation_pages() if file.generated_by]
    assert len(generated) > 90
    known: dict = {}  # links resolved for one page, reused by the next ones
    for file in generated:
        if file.src_uri in LEFT_TO_PYTHON_MARKDOWN:
            continue
        assert rendered(file, config, files, caplog, True, known) == \
            rendered(file, config, files, caplog, False), file.src_uri
    assert len(known) > 50


@pytest.mark.parametrize("directory_urls", [True, False])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(order=st.randoms(use_true_random=False))
def test_links_resolved_once_for_a_folder_are_what_mkdocs_makes_of_them(directory_urls, order,
                                                                        tmp_path):
    """Every page links to every other (and to a missing and an excluded one), pages taken
    in a random order sharing what earlier ones resolved (at times sent on from another
    worker): each link's URL and the anchors it registers are what MkDocs'
    ``path_to_url`` gives, page by page."""
    (tmp_path / "docs").mkdir(exist_ok=True)
    config = load_config(str(REPO / "mkdocs.yml"), docs_dir=str(tmp_path / "docs"),
                         site_dir=str(tmp_path / "site"), use_directory_urls=directory_urls)
    names = ["index.md", "a.md", "b.md", "x/index.md", "x/c.md", "x/d.md", "x/e/f.md",
             "x/e/index.md", "y/g.md", "y/x/h.md", "x.md", "e.md"]
    files = Files([File(name, config.docs_dir, config.site_dir, directory_urls)
                   for name in names])
    draft = File("x/draft.md", config.docs_dir, config.site_dir, directory_urls)
    draft.inclusion = InclusionLevel.EXCLUDED
    files.append(draft)
    known: dict = {}
    pages = [files.get_file_from_path(name) for name in names]
    order.shuffle(pages)
    for file in pages:
        targets = names + ["x/draft.md", "missing.md"]
        order.shuffle(targets)
        for target in targets:
            link = posixpath.relpath(target, posixpath.dirname(file.src_uri) or ".")
            for url in (link, link + "#part"):
                ours = _RelativePathTreeprocessor(file, files, config)
                theirs = _RelativePathTreeprocessor(file, files, config)
                with warnings_kept() as quick_logs:
                    got = mkdocs_pages._PageLinks(file, files, known).rewrite(url, ours)
                with warnings_kept() as reference_logs:
                    expected = theirs.path_to_url(url)
                assert (got, ours.links_to_anchors, quick_logs) == \
                    (expected, theirs.links_to_anchors, reference_logs), (file.src_uri, url)
        if order.random() < 0.5:  # what the next page knows came from another worker
            sent = pickle.loads(pickle.dumps(mkdocs_pages._PageLinks.learned(known, 0)))
            known = {}
            mkdocs_pages._PageLinks.learn(known, sent, files)
    assert known  # the cache was used


@contextmanager
def warnings_kept():
    """The messages MkDocs logs inside the block."""
    records: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(record.getMessage())
    logger = logging.getLogger("mkdocs")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_page_gets_what_mkdocs_render_gives_it_links_and_warnings_included(tmp_path,
                                                                             caplog):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("# There\n\n## Part\n", encoding="utf-8")
    config = load_config(str(REPO / "mkdocs.yml"), docs_dir=str(tmp_path / "docs"),
                         site_dir=str(tmp_path / "site"))
    text = ("# Here \\(1\\)\n\n## Facts\n\n<span class=\"fs-fact\" id=\"f-1\">one[^c1]</span>\n\n"
            "- [there](there.md#part) and [missing](missing.md) and [self](#facts)\n"
            "- [anchor](there.md#nowhere) [far](https://example.org/a?b=1&c=2)\n\n"
            '<figure class="fs-figure">\n<svg id="chart"><a name="point"></a></svg>\n</figure>\n\n'
            "[^c1]: **A**, *B*: “q”. [Quote](there.md\\#part)\n")
    (tmp_path / "docs" / "here.md").write_text(text, encoding="utf-8")
    files = Files([File(name, config.docs_dir, config.site_dir, True)
                   for name in ("there.md", "here.md")])
    here = files.get_file_from_path("here.md")

    quick, reference = rendered(here, config, files, caplog, True), \
        rendered(here, config, files, caplog, False)
    assert quick == reference
    assert "missing.md" in reference[5][0][2]  # the warning is there, once
    assert reference[4]["there.md"] == {"part": "there.md#part", "nowhere": "there.md#nowhere"}
    assert {"chart", "point", "f-1", "fn:c1"} <= reference[3]  # raw HTML's ids too
