"""generator.search_sections reads a page as the search plugin does: the same events as
``html.parser``, the same sections and entries as mkdocs-material's own parser, on the
shipped pages and on random HTML made to hit each rule of the plain grammar and beyond."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from material.plugins.search import plugin as material_search

from generator import search_sections
from generator.check import check_project
from generator.search_sections import Sections, page_sections, plain_sections, replay
from generator.site import render_checked

REPO = Path(__file__).resolve().parent.parent


class Recorder:
    """Notes each event a parser gives, with its arguments."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, list(attrs)))

    def handle_endtag(self, tag):
        self.events.append(("end", tag))

    def handle_startendtag(self, tag, attrs):
        self.events.append(("start", tag, list(attrs)))
        self.events.append(("end", tag))

    def handle_data(self, data):
        self.events.append(("data", data))


class Feeding(HTMLParser):
    """html.parser, handing its events to another object's handlers."""

    def __init__(self, handler) -> None:
        super().__init__()
        self.handle_starttag = handler.handle_starttag
        self.handle_endtag = handler.handle_endtag
        self.handle_data = handler.handle_data
        if hasattr(handler, "handle_startendtag"):
            self.handle_startendtag = handler.handle_startendtag
        self.handle_comment = lambda data: handler.events.append(("comment", data)) \
            if isinstance(handler, Recorder) else None


def parsed_events(html: str) -> list[tuple]:
    recorder = Recorder()
    parser = Feeding(recorder)
    parser.feed(html)
    parser.close()
    return recorder.events


def described(sections: list) -> list[tuple]:
    return [(s.el.tag, s.el.attrs, s.depth, s.id, s.title, s.text, s.is_excluded())
            for s in sections]


def material_sections(html: str) -> list[tuple]:
    parser = material_search.Parser()
    parser.feed(html)
    parser.close()
    return described(parser.data)


def shipped_html() -> dict[str, str]:
    """The shipped site's pages, converted with the shipped mkdocs.yml's extensions."""
    tree = render_checked(check_project(REPO), REPO / "site_templates", "Fact sheet")
    pages = {path: output.content for path, output in tree.items() if path.endswith(".md")}
    for path in sorted((REPO / "site_templates").rglob("*.md")):
        pages[str(path.relative_to(REPO))] = path.read_text(encoding="utf-8")
    md = markdown.Markdown(extensions=["footnotes", "attr_list", "md_in_html", "tables",
                                       "admonition", "toc"],
                           extension_configs={"toc": {"permalink": True}})
    return {path: md.reset().convert(text) for path, text in pages.items()}


def test_the_installed_search_plugin_is_the_code_the_sections_replicate():
    """When mkdocs-material changes its parser, this fails: compare the new code with
    :class:`Sections`, then update ``_REPLICATED_SHA256``.  (Until then every page is
    read by the plugin's own parser, which is right but slower.)"""
    assert search_sections.replicates_plugin()


def test_every_shipped_page_is_read_fast_and_as_the_plugin_reads_it():
    pages = shipped_html()
    assert len(pages) > 20
    plain = 0
    for path, html in pages.items():
        recorder = Recorder()
        assert replay(html, recorder), path
        assert recorder.events == parsed_events(html), path
        assert described(page_sections(html)) == material_sections(html), path
        sections = Sections()
        replay(html, sections)
        assert described(sections.data) == material_sections(html), path
        if plain_sections(html) is not None:
            plain += 1
    # all but the home and timeline pages, whose figure is left out of the index
    assert plain == len(pages) - 2


@pytest.mark.parametrize(("html", "events"), [
    ('<p class="a" id=\'b\'>x</p>', None),  # single quotes: not plain
    ("<p class=a>x</p>", None),
    ("<p>a < b</p>", None),
    ("<!-- note --><p>x</p>", None),
    ("<br/ >", None),
    ('</p class="a">', None),
    ("<script>if (a<b) {}</script>", None),
    ("<script>x", None),
    ("<P ID=\"Top\" Data-X>&amp;&lt;&#39;&nbsp &am</P>",
     [("start", "p", [("id", "Top"), ("data-x", None)]), ("data", "&<'\xa0 &am"),
      ("end", "p")]),
    ('<a href="?a=1&amp;b=2" title="">x</a >',
     [("start", "a", [("href", "?a=1&b=2"), ("title", "")]), ("data", "x"), ("end", "a")]),
    ('<hr /><br/><img src="x.png" alt="&quot;">',
     [("start", "hr", []), ("end", "hr"), ("start", "br", []), ("end", "br"),
      ("start", "img", [("src", "x.png"), ("alt", '"')])]),
    ('<script type="application/ld+json">{"a": "&amp;"}</script>tail &amp;',
     [("start", "script", [("type", "application/ld+json")]), ("data", '{"a": "&amp;"}'),
      ("end", "script"), ("data", "tail &")]),
])
def test_plain_html_gives_the_parsers_events_and_anything_else_is_declined(html, events):
    recorder = Recorder()
    taken = replay(html, recorder)
    assert taken == (events is not None)
    if taken:
        assert recorder.events == events == parsed_events(html)


@pytest.mark.parametrize("html", [
    # left out of the index, and what comes after it is not
    '<div data-search-exclude><p>secret</p></div><div><p>shown</p></div>',
    '<div data-search-exclude><div>inner</div>after inner</div><div>later</div>',
    '<div class="linenodiv"><pre>1\n2</pre></div><pre>code\n  kept</pre>',
    '<object>o</object><p>p</p><script>s</script><style>c</style>text',
    # sections: a first heading that is no h1, headings with and without ids, nested
    '<p>preface</p><h2 id="a">A <a class="headerlink" href="#a">&para;</a></h2><p>x</p>',
    '<h1 id="t">Title</h1><h2>no id</h2><p>y</p><h3 id="c">C</h3>',
    '<div><h2 id="n">Nested</h2><p>in</p></div><p>after the div</p>',
    '<h1 id="t">T</h1><h2 id="b">B</h2><div><h2 id="a">A</h2></div><p>back in B</p>',
    # kept tags: empty ones dropped, whitespace collapsed outside pre
    '<p> </p><ul>\n<li>a</li>\n<li></li></ul><p>x\ny</p><sup>1</sup><sub> </sub>',
    '<h2 id="k"><code>k</code> and <em>e</em></h2>',
])
def test_each_rule_of_the_plugins_reading_gives_its_sections(html):
    assert replay(html, Recorder())
    assert described(page_sections(html)) == material_sections(html)


_TEXT = st.lists(st.sampled_from(
    ["a", "B", " ", "  ", "\n", "\t", "\x0b", "\xa0", "&", "&amp;", "&lt;", "&#39;", "&#x41;",
     "&nbsp", "&am", ";", ">", '"', "'", "é", "<", "</", "<!", "=", "/"]), max_size=8).map("".join)
_NAMES = st.sampled_from(["p", "h1", "h2", "h3", "H2", "pre", "code", "a", "div", "span", "li",
                          "ul", "sup", "script", "style", "object", "br", "hr", "img", "em"])
_ATTRIBUTE = st.one_of(
    st.tuples(st.sampled_from(["id", "ID", "class", "href", "data-search-exclude", "title",
                               "data-x"]),
              st.one_of(st.none(), _TEXT.map(lambda t: t.replace('"', "").replace("<", "")),
                        st.sampled_from(["headerlink", "linenodiv", "x"])),
              st.sampled_from(['"', '"', '"', "'", ""]),
              st.sampled_from([" ", " ", "\n", "  ", "\xa0", ""])),
)


@st.composite
def _tag(draw) -> str:
    name = draw(_NAMES)
    kind = draw(st.sampled_from(["start", "start", "end", "empty", "comment", "end-attrs"]))
    if kind == "comment":
        return f"<!--{draw(_TEXT)}-->"
    if kind == "end":
        return f"</{name}{draw(st.sampled_from(['', ' ', chr(10)]))}>"
    attributes = ""
    for key, value, quote, space in draw(st.lists(_ATTRIBUTE, max_size=3)):
        attributes += space + key + ("" if value is None else f"={quote}{value}{quote}")
    if kind == "end-attrs":
        return f"</{name}{attributes}>"
    return f"<{name}{attributes}{draw(st.sampled_from(['/', ' /'])) if kind == 'empty' else ''}>"


_HTML = st.lists(st.one_of(_TEXT, _tag()), max_size=30).map("".join)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HTML)
def test_random_html_is_read_as_html_parser_reads_it_or_declined(html):
    recorder = Recorder()
    if replay(html, recorder):
        assert recorder.events == parsed_events(html)


def _sections_or_error(read) -> tuple:
    try:
        return ("sections", read())
    except Exception as error:  # the plugin's parser raises on some unbalanced HTML
        return ("error", type(error))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HTML)
def test_random_html_gives_the_plugins_sections(html):
    def through_html_parser() -> list[tuple]:
        sections = Sections()
        parser = Feeding(sections)
        parser.feed(html)
        parser.close()
        return described(sections.data)

    expected = _sections_or_error(lambda: material_sections(html))
    # the handlers alone, on every event html.parser gives, plain HTML or not
    assert _sections_or_error(through_html_parser) == expected
    # and the whole reading
    assert _sections_or_error(lambda: described(page_sections(html))) == expected


# The templates' HTML: their tags, a few others (declined), text with references,
# spaces, line breaks and stray characters.
_PLAIN_TEXT = st.lists(st.sampled_from(
    ["a", "B c", " ", "  ", "\n", "\xa0", "&amp;", "&lt;", "&#160;", "&para;", "&#8617;",
     "&nbsp", "&", ">", '"', "'", "é", "\u2003"]), max_size=5).map("".join)
_PLAIN_START = st.one_of(
    st.sampled_from(["<p>", '<p class="fs-meta" id="m">', "<ul>", "<ol>", "<li>", "<sup>",
                     '<sup id="fnref:c1">', "<sub>", "<span>", '<span class="fs-fact" id="f-1">',
                     "<strong>", "<em>", '<a href="../x/">', '<a class="footnote-ref" href="#fn:c1">',
                     '<a class="headerlink" href="#t" title="Permanent link">',
                     '<a class="header&#108;ink">', '<a class="x" class="headerlink">',
                     '<div class="admonition note">', "<blockquote>", "<table>", "<tr>", "<td>",
                     "<hr />", "<br>", "<code>", "<pre>", '<img src="i.png">',
                     '<div data-search-exclude>']),
    st.builds(lambda level, ident: f'<h{level} id="{ident}">', st.sampled_from("1236"),
              st.sampled_from(["t", "a-b", "", "x&amp;y"])),
    st.just('<script type="application/ld+json">{"a": "&amp;", "b": 1 > 0}</script>'),
)
_PLAIN_END = st.sampled_from(["</p>", "</ul>", "</ol>", "</li>", "</sup>", "</sub>", "</span>",
                              "</strong>", "</em>", "</a>", "</div>", "</blockquote>",
                              "</table>", "</tr>", "</td>", "</h1>", "</h2>", "</h3>",
                              "</h6>", "</br>", "</code>"])
_PLAIN_HTML = st.lists(st.one_of(_PLAIN_TEXT, _PLAIN_START, _PLAIN_END),
                       max_size=40).map("".join)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PLAIN_HTML)
def test_the_templates_html_read_plainly_gives_the_plugins_sections(html):
    """:func:`plain_sections` on HTML made of the templates' tags, in any order: the
    plugin's sections (or the same error), or declined."""
    expected = _sections_or_error(lambda: material_sections(html))
    plain = _sections_or_error(lambda: plain_sections(html))
    if plain != ("sections", None):
        assert (plain[0], described(plain[1]) if plain[0] == "sections" else plain[1]) \
            == expected


def test_the_templates_html_is_read_plainly_often():
    taken = []

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(_PLAIN_HTML)
    def count(html):
        try:
            taken.append(plain_sections(html) is not None)
        except ValueError:  # an end tag with no start, as the plugin raises
            taken.append(True)

    count()
    assert sum(taken) > len(taken) // 3


def test_random_html_reaches_the_fast_path_often():
    """The random HTML above is worth comparing only if much of it is plain."""
    taken = []

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(_HTML)
    def count(html):
        taken.append(replay(html, Recorder()))

    count()
    assert sum(taken) > len(taken) // 5
