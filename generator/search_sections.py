"""A page's search-index entries as mkdocs-material's search plugin makes them, read fast.

The search plugin splits each converted page into sections (one per heading) with a
subclass of :class:`html.parser.HTMLParser`; at 7,000 pages that reading is a fifth of
converting them, half in the standard library's tokenizer and half in the plugin's
handlers, which compare elements through Python-level ``__eq__`` and ``__hash__``.

The HTML it reads here comes out of Python-Markdown and our templates: tags with
double-quoted attributes, text with character references, a script or two.
:func:`replay` reads such HTML with one regular expression and calls a handler's
``handle_starttag``, ``handle_endtag`` and ``handle_data`` with exactly the arguments, and
in exactly the order, that ``HTMLParser.feed`` and ``close`` would.  Anything outside that
plain grammar (a comment, an unquoted attribute, a ``<`` that starts no tag, a script that
holds a ``<``) makes it stop and return False.  :class:`Sections` does what the plugin's
handlers do, keeping the tags of the open elements in a count instead of comparing
elements.  :func:`add_entries` uses both, and the plugin's own parser for any page they
decline or when the plugin's code is not the code they were written against.

The tests compare events with ``html.parser``'s, and sections and entries with the
plugin's, on every page of the shipped site and on random HTML made to hit each rule.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from functools import cache
from html import escape, unescape

from material.plugins.search import plugin as material_search

# Only the whitespace html.parser itself stops a tag name at: a Unicode space that \s
# would take in is, to the parser, part of the name.
_SPACE = "[ \t\n\r\f]"
_TAG = re.compile(
    rf"""<(/?)([a-zA-Z][a-zA-Z0-9]*)                                # end?, name
         ((?:{_SPACE}+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"<>]*")?)*)  # attributes
         {_SPACE}*(/?)>                                             # self-closing?
    """,
    re.VERBOSE,
)
_ATTRIBUTE = re.compile(rf'{_SPACE}+([a-zA-Z_:][-a-zA-Z0-9_:.]*)(="([^"<>]*)")?')
# html.parser reads what these hold as raw text, up to their end tag
_RAW_TEXT = frozenset({"script", "style"})

# The plugin code that Sections and add_entries do the work of (mkdocs-material 9.8).
_REPLICATED = (material_search.Parser.handle_starttag, material_search.Parser.handle_endtag,
               material_search.Parser.handle_data, material_search.Parser.__init__,
               material_search.SearchIndex.add_entry_from_context,
               material_search.Element.__init__, material_search.Element.__eq__,
               material_search.Element.is_excluded, material_search.Section.__init__)
_REPLICATED_SHA256 = "7e86b3a0cd23c738795d2f585a5371c193acf80dd726e08ca0ca058695bd95c6"


def replay(html: str, handler) -> bool:
    """Call ``handler``'s ``handle_*`` methods as ``HTMLParser.feed(html)`` and ``close()``
    (with ``convert_charrefs``) would, and return True; or return False as soon as the
    HTML is not plain enough to be sure of that, when the handler has seen part of it and
    is to be thrown away."""
    parts = _TAG.split(html)  # text, then (end?, name, attributes, self-closing?, text)...
    if "<" in "".join(parts[::5]):
        return False
    handle_data, handle_starttag = handler.handle_data, handler.handle_starttag
    handle_endtag = handler.handle_endtag
    if parts[0]:
        handle_data(unescape(parts[0]))
    raw_text = None  # the script or style whose content is being read
    for at in range(1, len(parts), 5):
        end, name, attributes, closed, text = parts[at:at + 5]
        tag = name.lower()
        if raw_text is not None:
            # the first tag after <script> must be its end tag, with the text between raw
            if not end or tag != raw_text or attributes or closed:
                return False
            raw_text = None
            handle_endtag(tag)
        elif end:
            if attributes or closed:
                return False
            handle_endtag(tag)
        else:
            pairs = ([(key.lower(), unescape(value) if value else value if quoted else None)
                      for key, quoted, value in _ATTRIBUTE.findall(attributes)]
                     if attributes else [])
            if closed:
                handler.handle_startendtag(tag, pairs)
            else:
                handle_starttag(tag, pairs)
                if tag in _RAW_TEXT:
                    raw_text = tag
                    if text:
                        handle_data(text)
                    continue
        if text:
            handle_data(unescape(text))
    return raw_text is None


_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class Sections:
    """The handlers of the search plugin's ``Parser``: the same sections out of the same
    events.  The plugin's elements equal anything with their tag, so its checks of
    whether the open elements include a tag, or a skipped one, are counts of tags here."""

    def __init__(self) -> None:
        self.context: list[material_search.Element] = []  # the open elements
        self.open: dict[str, int] = {}  # tag -> how many such elements are open
        self.skip = {"object", "script", "style"}  # tags whose content is left out
        self.section: material_search.Section | None = None
        self.data: list[material_search.Section] = []
        self.keep = {"p", "code", "pre", "li", "ol", "ul", "sub", "sup"}

    def _skipping(self) -> bool:
        open_tags = self.open
        for tag in self.skip:
            if tag in open_tags:
                return True
        return False

    def _new_section(self, el, depth: int = 0) -> material_search.Section:
        self.section = material_search.Section(el, depth)
        self.data.append(self.section)
        return self.section

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in material_search.void:
            return
        el = material_search.Element(tag, attributes)
        self.context.append(el)
        self.open[tag] = self.open.get(tag, 0) + 1
        if tag in _HEADINGS and "id" in attributes:
            depth = len(self.context)
            if tag != "h1" and not self.data:
                self._new_section(material_search.Element("hx"), depth)
            section = material_search.Section(el, depth)
            if self.data:
                section.id = attributes["id"]
            self.section = section
            self.data.append(section)
        section = self.section or self._new_section(material_search.Element("hx"))
        for key, value in attributes.items():
            if key == "data-search-exclude" or (key == "class" and value == "linenodiv"):
                self.skip.add(tag)
                return
        if tag in self.keep and not self._skipping():
            (section.title if section.el.tag in self.open else section.text).append(f"<{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        context = self.context
        if not context or context[-1].tag != tag:
            return
        section = self.section
        if section.depth > len(context):
            # leaving the element a heading was nested in: back to the enclosing section
            for enclosing in reversed(self.data):
                if enclosing.depth <= len(context):
                    section.depth = float("inf")
                    self.section = section = enclosing
                    break
        context.pop()
        left = self.open[tag] - 1
        if left:
            self.open[tag] = left
        else:
            del self.open[tag]
        if tag in self.skip:
            if tag not in ("script", "style", "object"):
                self.skip.remove(tag)
            return
        if tag in self.keep and not self._skipping():
            data = section.title if section.el.tag in self.open else section.text
            index = data.index(f"<{tag}>")
            if all(item.isspace() for item in data[index + 1:]):
                del data[index:]  # an element with nothing in it is left out
            else:
                data.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._skipping():
            return
        open_tags = self.open
        if "pre" not in open_tags:
            data = " " if data.isspace() else data.replace("\n", " ")
        section = self.section or self._new_section(material_search.Element("hx"))
        if section.el.tag in open_tags:
            if "a" in open_tags and any(el.tag == "a" and el.attrs.get("class") == "headerlink"
                                        for el in self.context):
                return  # a heading's permalink
            section.title.append(escape(data, quote=False))
        elif data.isspace():
            text = section.text
            if not text or not text[-1].isspace() or "pre" in open_tags:
                text.append(data)
        else:
            section.text.append(escape(data, quote=False))


@cache
def replicates_plugin() -> bool:
    """Whether the search plugin's code is the code :class:`Sections` was written
    against; for any other version the plugin's own parser reads every page."""
    source = "\n".join([*map(inspect.getsource, _REPLICATED), repr(sorted(material_search.void))])
    return hashlib.sha256(source.encode()).hexdigest() == _REPLICATED_SHA256


def page_sections(html: str) -> list:
    """The search plugin's sections of a page's HTML."""
    if replicates_plugin():
        sections = Sections()
        if replay(html, sections):
            return sections.data
    parser = material_search.Parser()
    parser.feed(html)
    parser.close()
    return parser.data


def add_entries(index, page) -> None:
    """Add the entries of ``page`` to the plugin's ``index``, as its
    ``add_entry_from_context`` does."""
    if type(index).add_entry_from_context is not material_search.SearchIndex.add_entry_from_context:
        index.add_entry_from_context(page)  # a plugin that reads pages its own way
        return
    search = page.meta.get("search") or {}
    if search.get("exclude"):
        return
    for section in page_sections(page.content):
        if not section.is_excluded():
            index.create_entry_for_section(section, page.toc, page.url, page)
