"""Checks of the built site that MkDocs cannot make: links, anchors, footnotes, citations.

MkDocs' own ``validation`` (strict, in mkdocs.yml) checks every link written in Markdown
while it builds.  This module reads the HTML it wrote, so it also sees links and ids in
raw HTML and in the theme, and it checks what is specific to a fact sheet:

- every internal link and anchor resolves, whether it names a directory (``x/``) or a
  file (``x/index.html``);
- every footnote reference has its definition, including a literal ``[^c12]`` that
  Markdown left as text because the definition was missing.  Text that shows such
  brackets on purpose (escaped in the Markdown) reads the same in HTML, so a literal
  reference is reported only on a page that has footnotes but none of that label; a
  page that lost all its definitions shows as facts without citation;
- every fact (an element of class ``fs-fact``) carries at least one footnote reference;
- every footnote's link to a quote lands on an anchor of the source page, and every
  footnote is referenced from the page;
- no Markdown link was left unconverted (``](page.md)`` shown as text);
- every page but 404.html can be reached from the home page, through the nav or any link.

:func:`mkdocs_problems` turns MkDocs' own validation warnings, which name a Markdown page,
into problems at the fact file of that page.

Each file is read and parsed once, by Lexbor, which is fast but knows no lines (a page
whose link is reported is parsed again, by lxml, for the link's line); links are resolved
afterwards by set lookups, so the work grows with the size of the site, not its square.
A problem names the page (its path in the site and the HTML line) and is located at the
fact file that made the page, on the line of the claim when the problem concerns one fact.
"""

from __future__ import annotations

import os
import posixpath
import re
from sys import intern
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from lxml import etree
from selectolax.lexbor import LexborHTMLParser

from . import parallel
from .check import fewer_collections
from .errors import Location, Problem
from .model import Records
from .render import Tree
from .views import page_path

# A page served for any missing URL; MkDocs writes its links from the server root.
NOT_FOUND_PAGE = "404.html"
HOME_PAGE = "index.html"
# Beyond this many pages with the same broken target, one problem counts the rest.
PAGES_PER_TARGET = 5
# Below this many pages a scan in forked workers costs more than it saves (about 1 ms a
# page; a build's workers have scanned all but a few pages already).
MIN_PAGES_PER_WORKER = 200

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_LITERAL_FOOTNOTE = re.compile(r"\[\^([^\]\s]+)\]")
_UNRENDERED_LINK = re.compile(r"\]\(([^()\s]+\.md(?:#[^()\s]*)?)\)")
_MKDOCS_PAGE = re.compile(r"^Doc file '([^']+)' ")
_MKDOCS_TARGET = re.compile(r"(?:the target|the doc) '([^']+)'(?: does not contain an anchor "
                            r"'([^']+)')?")


@dataclass(slots=True)
class Link:
    """One link of a page: where it points and where it is written."""

    href: str
    line: int  # 0 until the link is reported, when scanned by :func:`scan_page`
    footnote_ref: bool = False  # an ``a.footnote-ref``: points at a footnote definition
    in_footnote: str = ""  # the footnote definition it is written in, e.g. "c3"
    backref: bool = False  # a footnote's link back to where it is referenced


@dataclass(slots=True)
class Fact:
    """An element of class ``fs-fact`` with no footnote reference in it."""

    ident: str
    line: int
    text: str

    @property
    def shown(self) -> str:
        words = " ".join(self.text.split())
        return words if len(words) <= 80 else words[:77] + "..."


class Ids:
    """The ids of one page, kept as one string.

    A 5,000-incident site's pages hold over a million ids, most of them the same few (the
    theme's, "fn:c1", "date-1"): as sets of strings, sent back by the build's workers and
    kept to the end of the check, they cost more time and memory than the links.  Looking
    one up is a search of the page's string.  An id with a NUL character in it (which no
    link can reach) is left out.
    """

    __slots__ = ("joined",)

    def __init__(self, ids: Iterable[str] = ()) -> None:
        kept = sorted({ident for ident in ids if "\0" not in ident})
        self.joined = "\0" + "\0".join(kept) + "\0" if kept else ""

    @classmethod
    def of_joined(cls, joined: str) -> Ids:
        ids = cls()
        ids.joined = joined
        return ids

    def __contains__(self, ident: str) -> bool:
        return "\0" not in ident and f"\0{ident}\0" in self.joined

    def __iter__(self) -> Iterator[str]:
        return iter(self.joined[1:-1].split("\0") if self.joined else ())

    def __len__(self) -> int:
        return self.joined.count("\0") - 1 if self.joined else 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ids) and other.joined == self.joined

    def __hash__(self) -> int:
        return hash(self.joined)

    def __repr__(self) -> str:
        return f"Ids({sorted(self)!r})"

    def __reduce__(self):
        return (Ids.of_joined, (self.joined,))


@dataclass(slots=True)
class PageScan:
    """What one HTML page holds, gathered from a single parse."""

    ids: Ids = field(default_factory=Ids)
    # the links the rest of the site is needed to check (see :func:`settled`)
    links: list[Link] = field(default_factory=list)
    uncited: list[Fact] = field(default_factory=list)
    literal_footnotes: list[tuple[str, int]] = field(default_factory=list)
    unrendered_links: list[tuple[str, int]] = field(default_factory=list)

    def interned(self) -> PageScan:
        """This scan with its links' strings stored once for the whole site: most repeat
        on many pages (the theme's, "../../sources/")."""
        for link in self.links:
            link.href, link.in_footnote = intern(link.href), intern(link.in_footnote)
        return self

    def __reduce__(self):
        """Pickled as plain tuples: a build's workers send the scans of 7,000 pages, three
        quarters of a million links, and dataclasses load about ten times slower."""
        links = [(link.href, link.line, link.footnote_ref, link.in_footnote, link.backref)
                 for link in self.links]
        uncited = [(fact.ident, fact.line, fact.text) for fact in self.uncited]
        return (_unpickled_scan, (self.ids.joined, links, uncited, self.literal_footnotes,
                                  self.unrendered_links))


def _unpickled_scan(ids: str, links: list[tuple], uncited: list[tuple],
                    literal_footnotes: list, unrendered_links: list) -> PageScan:
    """A :class:`PageScan` as it was pickled, its strings interned as :meth:`interned` does."""
    return PageScan(Ids.of_joined(ids),
                    [Link(intern(href), line, footnote_ref, intern(note), backref)
                     for href, line, footnote_ref, note, backref in links],
                    [Fact(*fact) for fact in uncited], literal_footnotes, unrendered_links)


# The queries run in libxml2; Python sees only what they select.
_PARSER = etree.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True)
_IDS = etree.XPath("//@id | //a/@name")
# the values of the link attributes, in document order (each knows its element)
_LINKS = etree.XPath("//@href | //@src | //@*[name() = 'xlink:href']")
_LINKS_PLAIN = etree.XPath("//@href | //@src")  # a third faster: no test of every name
# (reached through the class attributes: a third faster than testing every element's)
_UNCITED = etree.XPath("//@class[contains(., 'fs-fact')]/parent::*[not(.//a[contains("
                       "concat(' ', normalize-space(@class), ' '), ' footnote-ref ')])]")
_SUSPECT_TEXT = etree.XPath(
    "//text()[contains(., '[^') or contains(., '](')]"
    "[not(ancestor::script or ancestor::style or ancestor::code or ancestor::pre)]")


def _has_class(element, name: str) -> bool:
    classes = element.get("class")
    return bool(classes) and name in classes and name in classes.split()


# a fact with no footnote reference in it
_UNCITED_FACT = ".fs-fact:not(:has(a.footnote-ref))"


def scan_page(html: bytes) -> PageScan:
    """Parse one page and return what the checks need from it, without the lines of its
    links (:class:`_LinkLines` finds the line of a link that is reported).

    Lexbor parses a page in about a third of libxml2's time but knows no source lines, so
    a page that has a problem of its own to report (a fact without citation, text that
    reads like left-over Markdown), or a kind of link it is not asked for (SVG's
    ``xlink:href``), is scanned by :func:`scan_page_lines` instead.
    """
    if not html.strip():
        return PageScan()
    if _may_hold_markdown(html) or b"xlink:href" in html.lower():
        return scan_page_lines(html)  # (ASCII case folding: three times the regex's speed)
    tree = LexborHTMLParser(html)
    # one query: asking each fact for its marker took twice as long (0.2 s at 5,000
    # incidents, 47,500 facts)
    if tree.css_first(_UNCITED_FACT) is not None:
        return scan_page_lines(html)
    ids = {element.id or "" for element in tree.css("[id]")}
    ids.update(element.attributes["name"] or "" for element in tree.css("a[name]"))
    # the footnote definition (li#fn:label) each link of one is in: the innermost, as
    # :func:`_footnote_of` finds it
    in_footnote = {}
    for item in tree.css('li[id^="fn:"]'):
        label = item.attributes["id"][3:]
        for element in item.css("a"):
            in_footnote[element.mem_id] = label
    scan = PageScan(Ids(ids))
    links = scan.links
    for element in tree.css("[href], [src]"):
        attributes = element.attributes
        for name in ("href", "src"):
            value = attributes.get(name)
            # (most elements have one of the two: settled() is not asked about the other)
            if not value or settled(value, ids):
                continue
            links.append(_link(value, 0, attributes.get("class"),
                               in_footnote.get(element.mem_id, "")))
    return scan.interned()


def scan_page_lines(html: bytes) -> PageScan:
    """:func:`scan_page` with the HTML line of every link, fact and text, read by lxml."""
    scan = PageScan()
    root = etree.fromstring(html, _PARSER) if html.strip() else None
    if root is None:
        return scan
    ids = {str(ident) for ident in _IDS(root)}
    scan.ids = Ids(ids)
    for value in (_LINKS if b"xlink:href" in html.lower() else _LINKS_PLAIN)(root):
        if settled(value, ids):
            continue
        element = value.getparent()
        scan.links.append(_link(str(value), element.sourceline or 0, element.get("class"),
                                _footnote_of(element)))
    for element in _UNCITED(root):
        if _has_class(element, "fs-fact"):
            scan.uncited.append(Fact(element.get("id") or "", element.sourceline or 0,
                                     "".join(element.itertext())))
    if not _may_hold_markdown(html):
        return scan.interned()  # most pages: no left-over Markdown to look for
    for text in _SUSPECT_TEXT(root):
        owner = text.getparent()
        line = (owner.sourceline or 0) if owner is not None else 0
        for match in _LITERAL_FOOTNOTE.finditer(text):
            scan.literal_footnotes.append((match.group(1), line))
        for match in _UNRENDERED_LINK.finditer(text):
            scan.unrendered_links.append((match.group(0), line))
    return scan.interned()


_LINK_MARK = re.compile(rb"\]\(")


def _may_hold_markdown(html: bytes) -> bool:
    """Whether a page holds "[^" or "](", which may be Markdown left unconverted.

    ``in`` looks for two bytes a byte at a time (0.17 s for each over the 7,010 pages
    at 5,000 incidents); memchr finds a "^" (rare in HTML) first, and the regular
    expression engine finds "](" by memchr on its first byte, in a third of the time.
    """
    return (b"^" in html and b"[^" in html) or _LINK_MARK.search(html) is not None


def _link(href: str, line: int, classes: str | None, in_footnote: str) -> Link:
    """A link of an element with the ``class`` attribute ``classes``."""
    names = classes.split() if classes else ()
    return Link(href, line, "footnote-ref" in names, in_footnote, "footnote-backref" in names)


def _footnote_of(element) -> str:
    """The label of the footnote definition (``li#fn:label``) a link element is in, or ""."""
    if element.tag != "a":
        return ""
    for item in element.iterancestors("li"):
        ident = item.get("id")
        if ident and ident.startswith("fn:"):
            return ident[3:]
    return ""


def settled(href: str, ids: set[str]) -> bool:
    """Whether a link is sound whatever the rest of the site holds: to another site (not
    checked here), or to an anchor its own page has.  Nearly half a page's links are to
    its own footnotes and headings; the scan keeps only the others, for the site's check."""
    if href[:1] == "#":
        fragment = unquote(href[1:])
        return not fragment or fragment.startswith(":~:") or fragment in ids
    return not href or href.startswith("//") or _SCHEME.match(href) is not None


@dataclass(slots=True)
class SiteRecords:
    """Which fact file made each page, and where in it each fact of the page stands."""

    origins: dict[str, Location] = field(default_factory=dict)  # HTML page -> record
    facts: dict[tuple[str, str], Location] = field(default_factory=dict)  # (page, id) -> claim

    def locate(self, page: str, line: int, fact: str = "") -> Location:
        """Where to report a problem of ``page``: its claim, its record, else the page."""
        if fact and (page, fact) in self.facts:
            return self.facts[page, fact]
        origin = self.origins.get(page)
        # HTML parsers give no columns: column 1 stands for the line
        return origin if origin else Location(page, line, 1 if line else 0)


def html_pages(markdown_page: str) -> tuple[str, ...]:
    """The HTML files a Markdown page can become, with and without directory URLs."""
    stem = markdown_page.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return (stem + ".html",)
    return (stem + "/index.html", stem + ".html")


def site_records(records: Records | None, origins: dict[str, str] | None = None) -> SiteRecords:
    """Map the pages of a site to the fact files (and claims) they were made from.

    ``origins`` (Markdown page -> fact file, as the rendered tree records them) covers
    pages of any kind; ``records`` adds the line of each record and of each claim.
    """
    found = SiteRecords()
    for markdown_page, origin in (origins or {}).items():
        for page in html_pages(markdown_page):
            found.origins[page] = Location(origin)
    if records is None:
        return found
    tables = (("incidents", records.incidents), ("actors", records.actors),
              ("statements", records.statements), ("sources", records.sources))
    for kind, table in tables:
        for record in table.values():
            pages = html_pages(page_path(kind, record.id))
            counters: dict[str, int] = defaultdict(int)
            anchors: dict[str, Location] = {}
            for claim in getattr(record, "claims", ()):
                counters[claim.field.name] += 1
                anchors[f"{claim.field.name.replace('_', '-')}-{counters[claim.field.name]}"] = \
                    claim.loc
            if kind == "statements":
                anchors["text"] = record.text.loc
            for page in pages:
                found.origins[page] = record.loc
                for anchor, loc in anchors.items():
                    found.facts[page, anchor] = loc
    return found


class _Targets:
    """Resolves the path part of links to files of the site, remembering each answer.

    A link that climbs out of its page's folder (``../../actors/x/``, the nav and the
    theme's links) resolves the same from every page at that depth, so most links of a
    large site are looked up once.
    """

    def __init__(self, files: set[str]):
        self.files = files
        self._known: dict[tuple[str | int, str], tuple[str | None, str]] = {}

    def resolve(self, folder: str, depth: int, path: str) -> tuple[str | None, str]:
        """(the file a path reaches or None, the file it names) from a page in ``folder``."""
        # climbing out of the page's folder, or from the root: the same from every page
        # at that depth (as _check_site keys the links that passed)
        key = (depth, path) if path.startswith("../" * depth) or path.startswith("/") \
            else (folder, path)
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = self._lookup(folder, unquote(path))
        return known

    def _lookup(self, folder: str, path: str) -> tuple[str | None, str]:
        directory = path.endswith("/") or posixpath.basename(path) in (".", "..")
        if path.startswith("/"):
            target = posixpath.normpath(path.lstrip("/") or ".")
        else:
            target = posixpath.normpath(f"{folder}/{path}" if folder else path)
        if target == ".." or target.startswith("../"):
            return None, ""
        index = HOME_PAGE if target == "." else f"{target}/{HOME_PAGE}"
        if not directory and target in self.files:
            return target, target
        if index in self.files:
            return index, index
        return None, index if directory else target


class _LinkLines:
    """The HTML line of a reported link, which :func:`scan_page` does not find.

    The page is read again and scanned by :func:`scan_page_lines`; the link is the one
    there with the same target and kind, counting those before it on the page.
    """

    def __init__(self, site_dir: Path, scans: dict[str, PageScan]):
        self.site_dir, self.scans = site_dir, scans
        self._rescanned: dict[str, PageScan] = {}

    def of(self, page: str, link: Link) -> int:
        if link.line:
            return link.line
        rescanned = self._rescanned.get(page)
        if rescanned is None:
            try:
                html = (self.site_dir / page).read_bytes()
            except OSError:
                return 0
            rescanned = self._rescanned[page] = scan_page_lines(html)
        key = _link_key(link)
        rank = 0
        for other in self.scans[page].links:
            if other is link:
                break
            rank += _link_key(other) == key
        same = [other.line for other in rescanned.links if _link_key(other) == key]
        return same[rank] if rank < len(same) else 0


def _link_key(link: Link) -> tuple:
    return link.href, link.footnote_ref, link.in_footnote, link.backref


class _Report:
    """Problems of one site check, with at most a few pages named per broken target.

    ``where`` may be a function that makes the :class:`SiteRecords`: called once, at the
    first problem (at 5,000 incidents, mapping every fact to its page took 0.13 s that a
    site without problems does not need).
    """

    def __init__(self, where: SiteRecords | Callable[[], SiteRecords],
                 lines: _LinkLines | None = None):
        self._where, self.lines = where, lines
        self.problems: list[Problem] = []
        self.reported = 0  # problems reported, listed or only counted
        self._pages_per_target: dict[tuple[str, str], int] = defaultdict(int)

    def add(self, page: str, line: int, code: str, message: str, hint: str,
            fact: str = "", target: str = "", severity: str = "error",
            shown: str = "", link: Link | None = None) -> None:
        """Report a problem of ``page`` (shown as ``shown``, if given) at its record;
        ``link``, if given, is the link at fault, whose line is found only now."""
        self.reported += 1
        if target:
            self._pages_per_target[code, target] += 1
            if self._pages_per_target[code, target] > PAGES_PER_TARGET:
                return
        if link is not None and self.lines is not None:
            line = self.lines.of(page, link)
        if not isinstance(self._where, SiteRecords):
            self._where = self._where()
        location = self._where.locate(page, line, fact)
        shown = shown or page
        prefix = ""
        if location.path == page:  # made from no record: the page is the place
            location = Location(shown, location.line, location.column)
        else:
            prefix = f"{shown}:{line}: " if line else f"{shown}: "
        self.problems.append(Problem(location, severity, code, prefix + message, hint))

    def counted(self) -> None:
        for (code, target), pages in sorted(self._pages_per_target.items()):
            if pages > PAGES_PER_TARGET:
                self.problems.append(Problem(
                    Location(target), "error", code,
                    f"{pages - PAGES_PER_TARGET} more pages have the same broken link to "
                    f"{target} (the first {PAGES_PER_TARGET} are listed)",
                    "the link most likely comes from a template shared by these pages"))


_HINTS = {
    "broken-link": "fix the link in the template or record that makes this page; "
                   "links between pages are written as Markdown links to .md files",
    "missing-anchor": "link to an id that the target page has, or give the element "
                      "that id ({ #id } after a paragraph or heading)",
    "quote-anchor-missing": "the source page must give each cited quote its anchor; "
                            "check site_templates/source.md.j2",
    "footnote-undefined": "every [^label] needs a definition '[^label]: ...' on the same "
                          "page; check the footnotes macro of the template",
    "footnote-unreferenced": "the template must show each footnote's reference next to "
                             "the fact it supports",
    "fact-uncited": "a fact is shown with its footnote references; check that the "
                    "template renders the citations of every claim",
    "orphan-page": "link to the page from an index page or the nav in mkdocs.yml",
    "unrendered-link": "Markdown is not converted inside raw HTML or a broken table row; "
                       "look for a line break inside a link's text in the template",
}


def check_site(site_dir: Path, where: SiteRecords | Callable[[], SiteRecords] | None = None,
               scanned: dict[str, PageScan] | None = None,
               files: set[str] | None = None) -> list[Problem]:
    """Check every HTML page of a built site; return the problems, sorted by place.

    ``where`` tells the record each page comes from, or is a function that makes it when
    a problem is found.  ``scanned`` holds pages already scanned (by the build's workers
    as they were written, or by :func:`scan_site`); ``files``, every file of the site
    when it has been listed.
    """
    with fewer_collections():  # a build's millions of objects are still alive
        return _check_site(site_dir, where or SiteRecords(), scanned or {},
                           site_files(site_dir) if files is None else files)


def scan_site(site_dir: Path, meanwhile: Callable[[], object] | None = None
              ) -> tuple[set[str], dict[str, PageScan], object]:
    """Every file of a built site and the scan of each HTML page, made in forked workers
    on every core when there are many; ``meanwhile`` runs in this process while they do,
    and its result comes back last."""
    files = site_files(site_dir)
    return (files, *_scan_pages(site_dir, _html_pages(files), meanwhile))


def _scan_pages(site_dir: Path, pages: list[str], meanwhile: Callable[[], object] | None = None
                ) -> tuple[dict[str, PageScan], object]:
    def scan_share(share: list[str]) -> list[PageScan]:
        return [scan_page((site_dir / page).read_bytes()) for page in share]

    workers = parallel.cores() if len(pages) >= MIN_PAGES_PER_WORKER else 1
    # shares large enough that the first workers do them all: a replacement is forked
    # only when this process asks for a result, which it does after ``meanwhile``
    size = max(1, -(-len(pages) // (workers * parallel.SHARES_PER_WORKER)))
    shares = [pages[i:i + size] for i in range(0, len(pages), size)]
    results, extra = parallel.fork_map(scan_share, shares, workers, meanwhile)
    return dict(zip(pages, (scan for share in results for scan in share))), extra


def _check_site(site_dir: Path, where: SiteRecords | Callable[[], SiteRecords],
                scanned: dict[str, PageScan],
                files: set[str]) -> list[Problem]:
    pages = _html_pages(files)
    unscanned, _ = _scan_pages(site_dir, [page for page in pages if page not in scanned])
    scans = {page: scanned[page] if page in scanned else unscanned[page] for page in pages}
    targets = _Targets(files)
    reached_from, failing = _reached_and_failing(pages, scans, targets)
    # the pages with a problem checked again, in order, with the report that names them
    report = _Report(where, _LinkLines(site_dir, scans))
    again = _PageLinks(scans, targets)
    for page in failing:
        again.check(page, report)
    _check_reachable(scans, reached_from, report)
    report.counted()
    return sorted(report.problems, key=Problem.sort_key)


# Below this many pages the links are checked in this process only: forking a process for
# half of them costs more than it saves (at 7,000 pages, 0.5 s of work on one core).
MIN_PAGES_TO_SPLIT = 1000


def _reached_and_failing(pages: list[str], scans: dict[str, PageScan], targets: _Targets
                         ) -> tuple[dict[str, set[str]], list[str]]:
    """The pages each page links to, and the pages with a problem, in order; half the
    pages are checked in a forked process when there are many."""
    def check(share: list[str]) -> list[tuple[set[str], bool]]:
        links, tally = _PageLinks(scans, targets), _Tally()
        outcomes = []
        for page in share:
            before = tally.reported
            outcomes.append((links.check(page, tally), tally.reported != before))
        return outcomes

    if len(pages) < MIN_PAGES_TO_SPLIT or parallel.cores() < 2 or not parallel.can_fork():
        shares, outcomes = [pages], [check(pages)]
    else:  # every other page, for a fair mix of pages in each process
        shares = [pages[0::2], pages[1::2]]
        there = parallel.Later(lambda: check(shares[1]))
        try:
            outcomes = [check(shares[0]), there.result()]
        finally:
            there.close()
    reached_from: dict[str, set[str]] = {}
    failed: set[str] = set()
    for share, share_outcomes in zip(shares, outcomes, strict=True):
        for page, (reached, failing) in zip(share, share_outcomes, strict=True):
            reached_from[page] = reached
            if failing:
                failed.add(page)
    return reached_from, [page for page in pages if page in failed]


_UNSEEN = object()


class _Tally:
    """A report that only counts problems: where a page's links are first checked."""

    def __init__(self) -> None:
        self.reported = 0

    def add(self, *args, **kwargs) -> None:
        self.reported += 1


class _PageLinks:
    """Checks the text and the links of one page after another; returns the pages each
    reaches."""

    def __init__(self, scans: dict[str, PageScan], targets: _Targets):
        self.scans, self.targets = scans, targets
        # The file each link that passed reaches, by what its outcome depends on: its
        # href, and the depth of its page when it climbs out of the page's folder (the
        # theme's links, the same on every page), else the page itself.  At 5,000
        # incidents, 60% of the links are met again, and looking them up takes a third off
        # the check.  A link that failed is checked again, to be reported again.
        self.passed: dict[tuple[str | int, str], str | None] = {}

    def check(self, page: str, report: _Report | _Tally) -> set[str]:
        scans, passed, resolve = self.scans, self.passed, self.targets.resolve
        scan = scans[page]
        _check_text(page, scan, report)
        reached: set[str] = set()
        if page == NOT_FOUND_PAGE:
            return reached
        folder = posixpath.dirname(page)
        depth = folder.count("/") + 1 if folder else 0
        up = "../" * depth
        for link in scan.links:
            href = link.href
            if href[:1] == "." and "#" in href:  # most of those met once: a quote's anchor
                path, _, fragment = href.partition("#")
                if "?" not in path and "%" not in fragment and fragment[:3] != ":~:":
                    target = resolve(folder, depth, path)[0]
                    if target is not None and (target not in scans
                                               or fragment in scans[target].ids):
                        if target.endswith(".html"):
                            reached.add(target)
                        continue  # as _check_link finds it, sooner
            key = (depth, href) if href.startswith(up) and href[:1] != "#" else (page, href)
            target = passed.get(key, _UNSEEN)
            if target is _UNSEEN:
                reported = report.reported
                target = _check_link(page, folder, depth, link, self.targets, scans, report)
                if report.reported == reported:
                    passed[key] = target
            if target and target.endswith(".html"):
                reached.add(target)
        return reached


def _html_pages(files: set[str]) -> list[str]:
    return sorted(page for page in files if page.endswith(".html"))


def site_files(site_dir: Path) -> set[str]:
    """Every file of the site, as a path relative to it: what ``rglob("*")`` and
    ``is_file()`` find (linked files count, linked folders are not entered), without a
    ``Path`` per file, which took three times as long at 7,000 pages."""
    found: set[str] = set()
    folders = [(str(site_dir), "")]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir() and not entry.is_symlink():
                    folders.append((entry.path, prefix + entry.name + "/"))
                elif entry.is_file():
                    found.add(prefix + entry.name)
    return found


def _check_text(page: str, scan: PageScan, report: _Report) -> None:
    for fact in scan.uncited:
        name = f"the fact #{fact.ident}" if fact.ident else "a fact"
        report.add(page, fact.line, "fact-uncited",
                   f"{name} “{fact.shown}” has no citation (no footnote reference)",
                   _HINTS["fact-uncited"], fact=fact.ident)
    defines = scan.literal_footnotes and "\0fn:" in scan.ids.joined
    for label, line in scan.literal_footnotes:
        if not defines or f"fn:{label}" in scan.ids:
            continue  # text that shows the brackets on purpose (see the module docstring)
        report.add(page, line, "footnote-undefined",
                   f"the footnote reference [^{label}] has no definition; it is shown as "
                   "literal text", _HINTS["footnote-undefined"])
    for text, line in scan.unrendered_links:
        report.add(page, line, "unrendered-link",
                   f"the Markdown link {text} was not converted; it is shown as literal text",
                   _HINTS["unrendered-link"])


def _shown(link: Link) -> str:
    if link.footnote_ref:
        return f"the footnote reference '{link.href}'"
    if link.in_footnote:
        return f"the link '{link.href}' of footnote [^{link.in_footnote}]"
    return f"link '{link.href}'"


def _check_link(page: str, folder: str, depth: int, link: Link, targets: _Targets,
                scans: dict[str, PageScan], report: _Report) -> str | None:
    """Check one link of ``page``; return the file it reaches, or None."""
    href = link.href
    if href[:1] == "#":  # most links of a page: its footnotes and headings
        path, fragment = "", href[1:]
    elif not href or href.startswith("//") or _SCHEME.match(href):
        return None  # another site, or mailto:, javascript: ...
    else:
        path, _, fragment = href.partition("#")
        path = path.split("?", 1)[0]
    found = page
    if path:
        found, expected = targets.resolve(folder, depth, path)
        if found is None:
            if not expected:
                report.add(page, link.line, "broken-link", f"{_shown(link)} leads outside "
                           "the site", _HINTS["broken-link"], target=path, link=link)
                return None
            hint = _HINTS["broken-link"]
            for other in (expected.removesuffix("/" + HOME_PAGE) + ".html",
                          expected.removesuffix(".html") + "/" + HOME_PAGE):
                if other != expected and other in targets.files:
                    hint = f"the site has {other}; link to that"
            report.add(page, link.line, "broken-link",
                       f"{_shown(link)} goes to {expected}, which is not in the site", hint,
                       target=expected, link=link)
            return None
    fragment = unquote(fragment)
    if fragment and not fragment.startswith(":~:") and found in scans \
            and fragment not in scans[found].ids:
        code = "missing-anchor"
        message = f"{_shown(link)} goes to #{fragment}, which {found} does not have"
        if link.footnote_ref:
            code = "footnote-undefined"
        elif link.backref and found == page:
            code = "footnote-unreferenced"
            message = f"footnote [^{link.in_footnote}] is defined but nothing on the page " \
                      "refers to it (its fact lost its citation marker?)"
        elif link.in_footnote and fragment.startswith("q-"):
            code = "quote-anchor-missing"
        report.add(page, link.line, code, message, _HINTS[code],
                   target=f"{found}#{fragment}", link=link)
    return found


def _check_reachable(scans: dict[str, PageScan], reached_from: dict[str, set[str]],
                     report: _Report) -> None:
    """Every page is reached from the home page by following links (the nav among them)."""
    if HOME_PAGE not in scans:
        report.add(HOME_PAGE, 0, "broken-link", "the site has no home page", "")
        return
    seen = {HOME_PAGE}
    queue = deque([HOME_PAGE])
    while queue:
        for target in reached_from.get(queue.popleft(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    for page in scans:
        if page not in seen and page != NOT_FOUND_PAGE:
            report.add(page, 0, "orphan-page",
                       "no link reaches this page from the home page or the nav",
                       _HINTS["orphan-page"])


def check_built_site(site_dir: Path, tree: Tree, result,
                     scanned: dict[str, PageScan] | None = None) -> list[Problem]:
    """The post-build check of `factsheet build`: :func:`check_site` with every page's record."""
    def where() -> SiteRecords:
        origins = {path: output.origin for path, output in tree.items() if output.origin}
        return site_records(result.records, origins)

    return check_site(site_dir, where, scanned)


def mkdocs_problems(messages: list[str], tree: Tree, records: Records | None,
                    config_name: str = "mkdocs.yml") -> list[Problem]:
    """MkDocs' validation warnings as problems located at the fact file of their page.

    MkDocs names the Markdown page ("Doc file 'incidents/x.md' contains a link ...");
    a contributor needs the record that made it.  Other warnings concern the
    configuration and are located there.
    """
    origins = {path: output.origin for path, output in tree.items() if output.origin}
    report = _Report(site_records(records, origins))
    for message in messages:
        doc = _MKDOCS_PAGE.match(message)
        if doc is None:
            report.problems.append(Problem(Location(config_name), "error", "mkdocs-validation",
                                           message, "see the MkDocs documentation of "
                                           "'validation' and 'nav' in mkdocs.yml"))
            continue
        markdown_page = doc.group(1)
        target = _MKDOCS_TARGET.search(message)
        report.add(html_pages(markdown_page)[0], 0, "mkdocs-validation",
                   message[doc.end():].rstrip("."),
                   "fix the link in the template or record that makes this page; a link "
                   "names a page's .md file, and an anchor an id that page has",
                   target="".join(target.groups("")) if target else "",
                   shown=markdown_page)
    report.counted()
    return sorted(report.problems, key=Problem.sort_key)
