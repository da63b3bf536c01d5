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
elements.  :func:`plain_sections` does the work of both at once for the narrower HTML of
the templates' pages (their tags, no element kept from the index but a script, no
``pre``), in half the time.  :func:`add_entries` uses the first of them that takes the
page, and the plugin's own parser for any page they decline or when the plugin's code is
not the code they were written against.

The tests compare events with ``html.parser``'s, and sections and entries with the
plugin's, on every page of the shipped site and on random HTML made to hit each rule
(and, for :func:`plain_sections`, random HTML made of the templates' tags).
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
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
            _close_kept(section.title if section.el.tag in self.open else section.text, tag)

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


def _close_kept(items: list[str], tag: str) -> None:
    """End an element the index keeps, as the plugin does: from the first ``<tag>`` of
    the section's items (ValueError if there is none), drop everything when nothing but
    whitespace follows it (an empty element is left out), else add ``</tag>``.

    The items after it are looked at in place: a copy of them at every end tag made a
    long section quadratic (the 5,000 items of a large site's timeline: 0.35 s).
    """
    index = items.index(_OPENING.get(tag) or f"<{tag}>")
    for item in itertools.islice(items, index + 1, None):
        if not item.isspace():
            items.append(f"</{tag}>")
            return
    del items[index:]


@cache
def replicates_plugin() -> bool:
    """Whether the search plugin's code is the code :class:`Sections` was written
    against; for any other version the plugin's own parser reads every page."""
    source = "\n".join([*map(inspect.getsource, _REPLICATED), repr(sorted(material_search.void))])
    return hashlib.sha256(source.encode()).hexdigest() == _REPLICATED_SHA256


# The HTML the templates' Markdown converts to (generator.quick_markdown's grammar): tags
# named in lower case, with double-quoted attributes, one space apart.
_PLAIN_TAG = re.compile(r'<(/?)([a-z][a-z0-9]*)((?: [a-z][a-z-]*="[^"<>]*")*)( /)?>')
_PLAIN_NAMES = frozenset({"span", "strong", "em", "a", "div", "blockquote", "table", "thead",
                          "tbody", "tr", "th", "td", "script", "p", "li", "ul", "ol", "sup",
                          "sub", "code", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br"})
_KEEP = frozenset({"p", "li", "ul", "ol", "sup", "sub", "code"})  # the plugin's, but pre


def _is_headerlink(attributes: str) -> bool:
    """Whether an <a> tag's attributes give it the class "headerlink", as the plugin reads
    them (character references replaced, the last of repeated attributes)."""
    at = attributes.rfind(' class="')
    if at < 0:
        return False
    start = at + len(' class="')
    return unescape(attributes[start:attributes.index('"', start)]) == "headerlink"


def plain_sections(html: str) -> list | None:
    """The sections :class:`Sections` makes of ``html``, or None when the page is not in
    the plain HTML of the templates' pages (the tags of :data:`_PLAIN_NAMES`): there, no
    element hides its text from the search but a script, and none keeps its spaces.

    Knowing that, reading a tag takes a few list operations instead of the plugin's
    bookkeeping of every open element: about half of what :func:`replay` and
    :class:`Sections` take together.
    """
    if "data-search-exclude" in html or "linenodiv" in html:
        return None
    parts = _PLAIN_TAG.split(html)
    if "<" in "".join(parts[::5]):
        return None
    Element, Section = material_search.Element, material_search.Section
    found: list = []
    section = None
    names: list[str] = []  # the open elements' tags, innermost last
    links: list[bool] = []  # for each open <a>: whether it is a heading's permalink
    script = False  # inside the script element: its text is raw, and left out
    # each tag with the text before it; the text after the last one comes with no tag
    parts += (None, None, None, None)
    each = iter(parts)
    for text, end, name, attributes, closed in zip(each, each, each, each, each):
        if text and not script:  # handle_data (a million times at 5,000 incidents)
            if section is None:
                section = Section(Element("hx"))
                found.append(section)
            if "&" in text:
                text = unescape(text)
            if section.el.tag in names:  # the heading's own text
                if not any(links):  # but its permalink's
                    section.title.append(" " if text.isspace() else _escaped(text))
            elif text.isspace():
                items = section.text
                if not items or not items[-1].isspace():
                    items.append(" ")
            else:
                section.text.append(_escaped(text))
        if name is None:
            break
        if name not in _PLAIN_NAMES or (script and (not end or name != "script")):
            return None
        if name == "hr" or name == "br":
            pass  # void: the plugin keeps no element for it
        elif end:
            if attributes or closed:
                return None
            if names and names[-1] == name:  # else the plugin ignores the end tag
                if section.depth > len(names):
                    for enclosing in reversed(found):
                        if enclosing.depth <= len(names):
                            section.depth = float("inf")
                            section = enclosing
                            break
                names.pop()
                if name == "script":
                    script = False
                elif name == "a":
                    links.pop()
                elif name in _KEEP:
                    _close_kept(section.title if section.el.tag in names else section.text, name)
        else:
            if closed:
                return None
            names.append(name)
            if name[0] == "h" and name != "hr" and name[1] in "123456":
                if attributes[:5] != ' id="' or attributes.count('"') != 2:
                    return None
                ident = unescape(attributes[5:-1])
                if name != "h1" and not found:
                    found.append(Section(Element("hx"), len(names)))
                section = Section(Element(name, {"id": ident}), len(names))
                if found:
                    section.id = ident
                found.append(section)
            elif section is None:
                section = Section(Element("hx"))
                found.append(section)
            if name in _KEEP:
                (section.title if section.el.tag in names else section.text).append(
                    _OPENING[name])
            elif name == "a":
                # (a permalink's class reads "headerlink", maybe with character references)
                links.append(("headerlink" in attributes or "&" in attributes)
                             and _is_headerlink(attributes))
            elif name == "script":
                script = True
    return None if script else found


def _escaped(text: str) -> str:
    """``html.escape(text, quote=False)`` on one line, as the plugin keeps a text."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", " "))


_OPENING = {name: f"<{name}>" for name in _KEEP}


def page_sections(html: str) -> list:
    """The search plugin's sections of a page's HTML."""
    if replicates_plugin():
        plain = plain_sections(html)
        if plain is not None:
            return plain
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
