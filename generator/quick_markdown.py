"""Convert the Markdown the fact sheet's templates write, as Python-Markdown does, faster.

Python-Markdown is most of a large build's time: about 9 ms of CPU for an incident page,
whose Markdown is a handful of shapes the templates repeat (headings with an id, facts
in ``<span>`` elements with footnote markers, lists of links, tables, admonitions, one
footnote per citation; on the home and timeline pages, a raw ``<figure>`` and a table in
a Markdown ``<div>``).  :func:`convert` reads exactly those shapes and writes the HTML
that Python-Markdown, with the extensions of the shipped ``mkdocs.yml``, writes for them:
the same elements, attributes, footnote numbers and back-references, heading ids and
table of contents, and the ids MkDocs finds in raw HTML (with its own reader).

It is a reader of a closed grammar, not a Markdown parser: anything outside the grammar
(a line that could start another kind of block, an underscore, a backtick, a tag other
than ``<span>``, an image, an undefined footnote ...) makes it decline, and the caller
converts that page with Python-Markdown as before.  Every value
from the fact files reaches the Markdown escaped (:func:`generator.render.md_escape`), so
the grammar holds whatever a contributor writes.

What it replicates of Python-Markdown is the behaviour of the installed release, checked
by ``tests/test_quick_markdown.py`` page by page against Python-Markdown and on random
text; :func:`replicated_release` tells whether the installed Python-Markdown and MkDocs are
the code those tests were written against (a SHA-256 of their modules), and the MkDocs
adapter uses this converter only then.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markdown.extensions.toc import nest_toc_tokens, slugify, strip_tags, unique
from markdown.serializers import _escape_attrib_html
from mkdocs.structure.pages import _HTMLHandler as _RawIds

# The extensions (in MkDocs' order, its built-ins first) and settings this replicates.
EXTENSIONS = ["toc", "tables", "fenced_code", "footnotes", "attr_list", "md_in_html",
              "admonition"]
EXTENSION_CONFIGS = {"toc": {"permalink": True}}

# Python-Markdown's ESCAPED_CHARS with the tables extension: `\` before one of these is
# the character itself; before any other character it stays a backslash.
ESCAPABLE = frozenset("\\`*_{}[]()>#+-.!|")
_CDATA = {">": "&gt;"}  # the only escapable character the serializer escapes in text


class Declined(Exception):
    """The Markdown holds something outside the grammar."""


@dataclass(slots=True)
class Href:
    """A link's target, as written in the Markdown; MkDocs rewrites it."""

    url: str


@dataclass(slots=True)
class Converted:
    """What Python-Markdown's conversion of one page gives MkDocs."""

    parts: list  # HTML strings and Href, in document order
    toc_tokens: list[dict]
    title: str | None  # the text of the first element, when it is an <h1>
    anchors: set[str]  # every id on the page: the elements' and the raw <span>s'

    def html(self, rewrite: Callable[[str], str] = lambda url: url) -> str:
        """The page's HTML, each link target passed through ``rewrite`` in document order
        (as MkDocs' tree processor meets them)."""
        return "".join(part if type(part) is str else _escape_attrib_html(rewrite(part.url))
                       for part in self.parts)


def convert(text: str) -> Converted | None:
    """The page's conversion, or None when the Markdown is outside the grammar."""
    try:
        return _Page(text).convert()
    except Declined:
        return None


# -- inline text ---------------------------------------------------------------------

# An entity passes through as it is.  Plain text is anything but what starts an inline
# pattern of Python-Markdown (escape, entity, link, footnote, raw HTML, emphasis, code),
# a table cell's pipe, an attribute list's brace, and control characters.
_ENTITY = r"&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);"
_PLAIN = r"[^\\&\[\]<>*_`{}|!\n\x00-\x1f\x7f]"
# bold or italic text: not starting or ending with a space, no unescaped asterisk
_EDGE = r"(?:\\[^\n]|[^*\\\s])"
_EMPHASISED = rf"{_EDGE}(?:(?:\\[^\n]|[^*\\\n])*{_EDGE})?"
_TEXT = re.compile(rf"""
    (?P<plain>{_PLAIN}+)
  | (?P<bang>!(?!\[))
  | (?P<newline>\n)
  | \\(?P<escape>[^\n])
  | (?P<entity>{_ENTITY})
""", re.X)
_INLINE = re.compile(rf"""
    (?P<plain>{_PLAIN}+)
  | (?P<bang>!(?!\[(?!\^)))  # not an image; a footnote marker is read before images
  | (?P<newline>\n)
  | \\(?P<escape>[^\n])
  | (?P<entity>{_ENTITY})
  | \[\^(?P<ref>[A-Za-z0-9-]+)\]
  | \[(?P<label>(?:{_PLAIN}|!(?!\[)|\\[^\n]|{_ENTITY})+)\]
    \((?P<url>(?:[A-Za-z0-9\-._~:/?\#@$&+,;=%!*]|\\\#)+)\)
  | (?P<tag><span(?:\ (?:class|id)="[A-Za-z0-9\ \-]*")*>|</span>)
  | \*\*(?P<strong>{_EMPHASISED})\*\*
  | \*(?P<em>{_EMPHASISED})\*
""", re.X)
_TAG_ID = re.compile(r' id="([^"]*)"')


def _escape(m: re.Match, out: list) -> int:
    """A backslash escape: the character, when Python-Markdown escapes it; else the
    backslash stays and the character is read on its own.  Where reading goes on."""
    char = m.group("escape")
    if char in ESCAPABLE:
        out.append(_CDATA.get(char, char))
        return m.end()
    out.append("\\")
    return m.start() + 1


@dataclass(slots=True)
class _Ref:
    """A footnote marker; Python-Markdown numbers its id in the order it meets markers."""

    label: str
    depth: int  # how deep its element is: markers are met level by level
    order: int
    ref_id: str = ""


class _Page:
    """One conversion: the top-level elements as they are read, then, once every footnote
    marker and heading is known, their ids and the HTML."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.elements: list[list] = []  # each top-level element: its parts
        self.refs: list[_Ref] = []
        self.raw_ids: set[str] = set()
        self.ids: set[str] = set()  # ids of elements (not raw HTML), as the toc sees them
        self.headings: list[dict] = []
        self.notes: dict[str, str] = {}  # footnote label -> its text's Markdown
        self.last = ""  # the kind of the last top-level element

    # -- inline

    def _text(self, text: str, out: list) -> None:
        """Plain text: escapes and entities only."""
        pos, end = 0, len(text)
        match = _TEXT.match
        while pos < end:
            m = match(text, pos)
            if m is None:
                raise Declined
            if m.lastgroup == "escape":
                pos = _escape(m, out)
                continue
            out.append(m.group())
            pos = m.end()

    def _inline(self, text: str, depth: int, out: list) -> None:
        """The text of one element: text, links, footnote markers, <span> tags, bold and
        italic text."""
        pos, end = 0, len(text)
        match = _INLINE.match
        while pos < end:
            m = match(text, pos)
            if m is None:
                raise Declined
            kind = m.lastgroup
            if kind in ("plain", "bang", "newline", "entity"):
                out.append(m.group())
            elif kind == "escape":
                pos = _escape(m, out)
                continue
            elif kind == "ref":
                label = m.group("ref")
                if label not in self.notes:
                    raise Declined
                ref = _Ref(label, depth, len(self.refs))
                self.refs.append(ref)
                out.append(ref)
            elif kind == "url":
                url = m.group("url").replace("\\#", "#")
                if "\\" in url:
                    raise Declined
                out.append('<a href="')
                out.append(Href(url))
                out.append('">')
                self._text(m.group("label"), out)
                out.append("</a>")
            elif kind == "tag":
                tag = m.group()
                self.raw_ids.update(_TAG_ID.findall(tag))
                out.append(tag)
            elif kind == "strong":
                out.append("<strong>")
                self._text(m.group("strong"), out)
                out.append("</strong>")
            else:  # em
                out.append("<em>")
                self._text(m.group("em"), out)
                out.append("</em>")
            pos = m.end()

    # -- blocks

    def convert(self) -> Converted:
        text = self.text
        if _UNSAFE.search(text) or " \n" in text or text.endswith(" ") or "[TOC]" in text \
                or "///Footnotes Go Here///" in text:
            raise Declined
        for label, note in _NOTE.findall(text):
            if label in self.notes:
                raise Declined
            self.notes[label] = note
        # Python-Markdown appends two newlines and splits the text at blank lines
        blocks = [block.lstrip("\n") for block in (text + "\n\n").split("\n\n")]
        blocks.reverse()  # a stack: the next block is at the end
        while blocks:
            block = blocks.pop()
            if not block:
                continue
            first, _, rest = block.partition("\n")
            if first.startswith("#"):
                self._heading(first)
                if rest:
                    blocks.append(rest)
                continue
            m = _MARKDOWN_DIV.fullmatch(block)
            if m is not None:  # md_in_html: a <div> around one table, read as Markdown
                if len(blocks) < 2 or blocks[-2] != "</div>" or not blocks[-1].startswith("|"):
                    raise Declined
                table = self._table(blocks.pop().split("\n"), depth=2)
                blocks.pop()
                self._add("div", [f'<div class="{m.group(1)}">\n', *table, "\n</div>"])
                continue
            self._block(block, first)
        return self._finish()

    def _block(self, block: str, first: str) -> None:
        lines = block.split("\n")
        start = first[:1]
        if start == "|":
            self._add("table", self._table(lines))
        elif start == "-" and first.startswith("- "):
            if self.last == "ul":  # would continue the last list
                raise Declined
            self._list(lines)
        elif start == ">":
            if self.last == "blockquote":  # would continue the last quote
                raise Declined
            self._quote(lines)
        elif start == "!":
            self._admonition(lines)
        elif start == "[" and first.startswith("[^"):
            self._notes(lines)
        elif block == "---":
            self._add("hr", ["<hr />"])
        elif start == "<" and first.startswith("<script"):
            if not _SCRIPT.fullmatch(block):
                raise Declined
            self._add("script", [block + "\n"])
        elif start == "<" and first.startswith("<figure"):
            self._raw_figure(block)
        else:
            out: list = []
            self._paragraph(lines, 1, out)
            self._add("p", out)

    def _add(self, kind: str, parts: list) -> None:
        self.elements.append(parts)
        self.last = kind

    def _heading(self, line: str) -> None:
        m = _HEADING.fullmatch(line)
        if m is None:
            raise Declined
        level, text, given = len(m.group(1)), m.group(2), m.group(3)
        if _CLOSING_HASHES.search(text):  # Python-Markdown would drop them
            raise Declined
        inner: list = []
        self._text(text, inner)
        heading = {"level": level, "inner": "".join(inner), "id": given}
        if given:
            self.ids.add(given)
        self.headings.append(heading)
        self._add("h1" if level == 1 else "h", [heading])

    def _paragraph(self, lines: list[str], depth: int, out: list) -> None:
        """A paragraph element (its HTML into ``out``), with the attribute list its last
        line may hold."""
        attributes = ""
        if len(lines) > 1 and lines[-1].startswith("{"):
            m = _ATTRIBUTES.fullmatch(lines[-1])
            if m is None:
                raise Declined
            attributes = self._attributes(m.group(1))
            lines = lines[:-1]
        for line in lines:
            if _NOT_PARAGRAPH.match(line):
                raise Declined
        out.append(f"<p{attributes}>")
        self._inline("\n".join(lines), depth, out)
        out.append("</p>")

    def _attributes(self, listed: str) -> str:
        classes, given = [], None
        for item in listed.split():
            if item[0] == ".":
                classes.append(item[1:])
            elif given is None:
                given = item[1:]
            else:
                raise Declined
        attributes = ""
        if classes:  # the serializer writes attributes in lexical order
            attributes += f' class="{" ".join(classes)}"'
        if given is not None:
            self.ids.add(given)
            attributes += f' id="{given}"'
        return attributes

    def _list(self, lines: list[str]) -> None:
        out: list = ["<ul>\n"]
        for line in lines:
            if not line.startswith("- "):
                raise Declined
            item = line[2:].lstrip(" ")
            if not item or _NOT_PARAGRAPH.match(item):
                raise Declined
            out.append("<li>")
            self._inline(item, 2, out)
            out.append("</li>\n")
        out.append("</ul>")
        self._add("ul", out)

    def _quote(self, lines: list[str]) -> None:
        inside = [line[2:] if line.startswith("> ") else line for line in lines]
        if lines[0][:2] != "> " or any(line.startswith(">") for line in inside):
            raise Declined
        out: list = ["<blockquote>\n"]
        self._paragraph(inside, 2, out)
        out.append("\n</blockquote>")
        self._add("blockquote", out)

    def _admonition(self, lines: list[str]) -> None:
        m = _ADMONITION.fullmatch(lines[0])
        body = lines[1:]
        if m is None or not body or any(not line.startswith("    ") for line in body):
            raise Declined
        out: list = [f'<div class="admonition {m.group(1)}">\n<p class="admonition-title">']
        self._inline(m.group(2), 2, out)
        out.append("</p>\n")
        self._paragraph([line[4:] for line in body], 2, out)
        out.append("\n</div>")
        self._add("div", out)

    def _raw_figure(self, block: str) -> None:
        """A <figure> block of raw HTML (the timeline's SVG): passed through as it is."""
        m = _FIGURE.fullmatch(block)
        if m is None or _not_raw(m.group(1)):
            raise Declined
        if _MAYBE_IDS.search(block):  # what MkDocs' reading of the raw HTML finds
            ids = _RawIds()
            ids.feed(block)
            ids.close()
            self.raw_ids.update(ids.present_anchor_ids)
        self._add("figure", [block + "\n"])

    def _table(self, lines: list[str], depth: int = 1) -> list:
        """A table element; ``depth``: how deep the table stands."""
        if len(lines) < 3:
            raise Declined
        rows = [self._cells(line) for line in lines]
        width = len(rows[0])
        if any(len(row) != width for row in rows) or any(
                not cell or cell.strip("-") for cell in rows[1]):
            raise Declined
        cells = depth + 3  # table > thead or tbody > tr > th or td
        out: list = ["<table>\n<thead>\n<tr>\n"]
        for cell in rows[0]:
            out.append("<th>")
            self._inline(cell, cells, out)
            out.append("</th>\n")
        out.append("</tr>\n</thead>\n<tbody>\n")
        for row in rows[2:]:
            out.append("<tr>\n")
            for cell in row:
                out.append("<td>")
                self._inline(cell, cells, out)
                out.append("</td>\n")
            out.append("</tr>\n")
        out.append("</tbody>\n</table>")
        return out

    @staticmethod
    def _cells(line: str) -> list[str]:
        """A row's cells, split as the tables extension splits them."""
        if not _ROW.fullmatch(line):
            raise Declined
        cells, current, escaped = [], [], False
        for char in line[1:-1]:
            if char == "|" and not escaped:
                cells.append("".join(current).strip(" "))
                current = []
            else:
                current.append(char)
            escaped = char == "\\" and not escaped
        cells.append("".join(current).strip(" "))
        return cells

    def _notes(self, lines: list[str]) -> None:
        for line in lines:
            m = _NOTE_LINE.fullmatch(line)
            if m is None or self.notes.get(m.group(1)) != m.group(2):
                raise Declined
            if _NOT_PARAGRAPH.match(m.group(2)):
                raise Declined
        self.last = "notes"  # definitions leave no element where they stand

    # -- after the last block

    def _finish(self) -> Converted:
        # footnote markers: ids in the order Python-Markdown's inline step meets them
        numbers = {label: number for number, label in enumerate(self.notes, start=1)}
        found: dict[str, int] = {}
        for ref in sorted(self.refs, key=lambda ref: (ref.depth, ref.order)):
            count = found[ref.label] = found.get(ref.label, 0) + 1
            ref_id = f"fnref{count if count > 1 else ''}:{ref.label}"
            self.ids.add(ref_id)
            ref.ref_id = ref_id
        if set(found) != set(self.notes):  # a footnote no marker points to
            raise Declined
        self.ids.update(f"fn:{label}" for label in self.notes)

        # headings without an id get one from their text, unique among the page's ids
        used = set(self.ids)
        counters: dict[str, int] = {}
        tokens = []
        for heading in self.headings:
            name = strip_tags(heading["inner"])
            if heading["id"] is None:
                heading["id"] = unique(slugify(html.unescape(name), "-"), used, counters)
                self.ids.add(heading["id"])
            tokens.append({"level": heading["level"], "id": heading["id"], "name": name,
                           "html": heading["inner"], "data-toc-label": ""})

        parts: list = []
        for element in self.elements:
            for part in element:
                if type(part) is str:
                    parts.append(part)
                elif type(part) is _Ref:
                    parts += [f'<sup id="{part.ref_id}"><a class="footnote-ref" href="',
                              Href(f"#fn:{part.label}"),
                              f'">{numbers[part.label]}</a></sup>']
                elif type(part) is Href:
                    parts.append(part)
                else:  # a heading
                    level = part["level"]
                    parts += [f'<h{level} id="{part["id"]}">{part["inner"]}'
                              '<a class="headerlink" href="', Href("#" + part["id"]),
                              f'" title="Permanent link">&para;</a></h{level}>']
            parts.append("\n")
        if self.notes:
            parts.append('<div class="footnote">\n<hr />\n<ol>\n')
            for label, note in self.notes.items():
                number = numbers[label]
                parts.append(f'<li id="fn:{label}">\n<p>')
                markers = len(self.refs)
                self._inline(note, 4, parts)
                if len(self.refs) != markers:  # a footnote marker inside a footnote
                    raise Declined
                parts.append("&#160;")
                for count in range(1, found[label] + 1):
                    parts += ['<a class="footnote-backref" href="',
                              Href(f"#fnref{count if count > 1 else ''}:{label}"),
                              f'" title="Jump back to footnote {number} in the text">'
                              "&#8617;</a>"]
                parts.append("</p>\n</li>\n")
            parts.append("</ol>\n</div>")
        while parts and type(parts[-1]) is str and parts[-1].endswith("\n"):
            parts[-1] = parts[-1].rstrip("\n")
            if not parts[-1]:
                parts.pop()

        title = None
        first = self.elements[0][0] if self.elements else None
        if type(first) is dict and first["level"] == 1:  # MkDocs takes the title from it
            title = " ".join(first["inner"].split())
        return Converted(parts, nest_toc_tokens(tokens), title, self.ids | self.raw_ids)


# Characters Python-Markdown removes or treats apart (a space at the end of a line is
# looked for apart: one pattern for both tried the space at every place of a page).
_UNSAFE = re.compile(r"[\t\r\x00-\x08\x0b-\x1f\x7f]")
_HEADING = re.compile(r"(#{1,6}) ([^ ].*?)(?: \{ #([A-Za-z][A-Za-z0-9-]*) \})?")
_CLOSING_HASHES = re.compile(r"(?<!\\)(?:\\\\)*#$")
_ATTRIBUTES = re.compile(r"\{ ((?:[#.][A-Za-z][A-Za-z0-9-]* )+)\}")
_ADMONITION = re.compile(r'!!! ([a-z]+) "([^"]+)"')
_SCRIPT = re.compile(r'<script type="application/ld\+json">[^<\n]*</script>')
_MARKDOWN_DIV = re.compile(r'<div class="([a-z][a-z0-9 -]*)" markdown>')
_FIGURE = re.compile(r'<figure class="[a-z][a-z0-9 -]*"(?: data-search-exclude)?>\n(.*)\n</figure>',
                     re.S)
# in a raw figure: anything Python-Markdown's reading of raw HTML might not pass through as
# it is, or that would end the figure early (three patterns, each searched for only where
# its first character is: the timeline's figure is a megabyte of SVG)
_NOT_RAW_TAG = re.compile(r"<(?:/?figure|[!?]|script|style|pre|textarea)")
_NOT_RAW_WORD = re.compile(r"\bmarkdown\b")
_NOT_RAW_ENTITY = re.compile(r"&(?![a-zA-Z0-9#]+;)")
# an attribute MkDocs takes an anchor from (any case) may stand in the raw HTML
_MAYBE_IDS = re.compile(r"\b(?:id|name)\b", re.I)
_ROW = re.compile(r"\|.*[^\\]\|")
_NOTE = re.compile(r"^\[\^([A-Za-z0-9-]+)\]: (.*)$", re.M)
_NOTE_LINE = re.compile(r"\[\^([A-Za-z0-9-]+)\]: (.*)")
# A line that Python-Markdown could read as the start of another block, or a line break
# after it, inside a paragraph: indented code, a heading, a quote, an admonition, a
# footnote or link definition, a fence, a rule or setext underline, a list item, a table
# row, raw HTML, an attribute list.
_NOT_PARAGRAPH = re.compile(r"""
    [ ] | \# | > | !!! | \[ [^\]\n]* \]: | ``` | ~~~ | [-*_= ]+$ | [-+*][ ] | \d+[.)][ ]
  | \| | <(?!/?span[ >]) | \{
""", re.X)


def _not_raw(html: str) -> bool:
    """Whether a raw figure holds what it may not (see :data:`_NOT_RAW_TAG`)."""
    return bool(_NOT_RAW_TAG.search(html) or ("markdown" in html and _NOT_RAW_WORD.search(html))
                or ("&" in html and _NOT_RAW_ENTITY.search(html)))


@lru_cache(maxsize=1)
def replicated_release() -> bool:
    """Whether the installed Python-Markdown and MkDocs are the code this module was
    checked against (the tests compare the two on every page)."""
    return _fingerprint() == REPLICATED_SHA256


def _fingerprint() -> str:
    import markdown
    import mkdocs.structure.pages
    import mkdocs.utils

    root = Path(markdown.__file__).parent
    digest = hashlib.sha256()
    for name in _REPLICATED_MODULES:
        digest.update((root / name).read_bytes())
    # MkDocs' render, and how it makes links relative (generator.mkdocs_pages reuses that
    # for the pages of a folder)
    for module in (mkdocs.structure.pages, mkdocs.utils):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


_REPLICATED_MODULES = [
    "core.py", "blockparser.py", "blockprocessors.py", "inlinepatterns.py",
    "treeprocessors.py", "postprocessors.py", "preprocessors.py", "serializers.py",
    "htmlparser.py", "util.py", "extensions/toc.py", "extensions/tables.py",
    "extensions/fenced_code.py", "extensions/footnotes.py", "extensions/attr_list.py",
    "extensions/md_in_html.py", "extensions/admonition.py",
]
REPLICATED_SHA256 = "d17543b8c26df76fa5a46519b59cec7a6283bfb9ee9a17050e582b31f8a64b89"
