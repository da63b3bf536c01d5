"""Convert the generated pages to HTML on every core, and keep them between previews.

MkDocs converts pages one after another, and Python-Markdown (with the search plugin's
reading of each converted page) is most of a large build's time.  Before MkDocs reads the
pages, :func:`render_pages` forks worker processes that convert a share of the generated
pages each: with :mod:`generator.quick_markdown`, which writes what MkDocs' own
:meth:`~mkdocs.structure.pages.Page.render` writes for the shapes the templates use (MkDocs'
own link rewriting and validation included, its answers shared by the pages of a folder:
:class:`_PageLinks`), or with that render itself for any other
page or Markdown setting.  Each worker also makes the page's search-index entries, reading
the page with :mod:`generator.search_sections`, which does what the search plugin's
reading does, faster, and sends them as the JSON the index is written from.
The main process then gives every page what its render would have set, re-logs the
render's warnings (so ``--strict`` still fails on them), and goes on with the theme as
usual.

The output is byte-for-byte what a serial build writes; only where the work runs changes.
A :class:`PageCache` keeps the conversions of one build for the next, so a preview that
changes one fact file converts only the pages whose Markdown changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import posixpath
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mkdocs import utils as mkdocs_utils
from mkdocs.structure.pages import Page, _RelativePathTreeprocessor
from mkdocs.structure.toc import get_toc

from . import parallel, quick_markdown, search_sections

# Below this many pages the processes cost more than they save.
MIN_PAGES_PER_WORKER = 40
PAGES_PER_SHARE = 40
# Converting takes about 1.7 ms per KB of Markdown (with the search entries, more); a
# worker pays from about a third of a second of work.  A preview after one edit converts
# a handful of pages, but the lists of every incident among them are megabytes.
MIN_BYTES_PER_WORKER = 200_000
SHARE_BYTES = 200_000


@dataclass(slots=True)
class Rendered:
    """What MkDocs' render of one page sets on it, in a form that crosses processes."""

    content: str
    toc: object
    title: str | None
    anchors: set[str]
    links: dict[str, dict[str, str]] | None  # linked file's src_uri -> {anchor: link}
    logs: list[tuple[str, int, str]]  # (logger, level, message) the render emitted
    search: str | None  # the page's search-index entries as JSON, when search is on
    meta: dict | None = None  # the page's meta-data, when its Markdown is the file's as is
    spooled: Path | None = None  # where ``content`` waits, in a preview's cache

    def html(self) -> str:
        return self.content if self.spooled is None else read_spooled_html(self.spooled)


def read_spooled_html(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogatepass")


class _Capture(logging.Handler):
    """Keeps the log records of one page's render, to replay them in the main process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.INFO:
            self.records.append((record.name, record.levelno, record.getMessage()))



def _render_one(uri: str, config, files, search, capture: _Capture,
                quick: dict | None) -> Rendered:
    """Convert one page; ``quick``, when the quick conversion may be used, holds the
    links already resolved (see :class:`_PageLinks`)."""
    file = files.src_uris[uri]
    page = file.page if file.page is not None else Page(None, file, config)
    capture.records = []
    page.read_source(config)
    meta = dict(page.meta) if page.markdown == file.content_string else None
    page.markdown = config.plugins.on_page_markdown(page.markdown, page=page, config=config,
                                                    files=files)
    if not (quick is not None and _render_quickly(page, config, files, quick)):
        page.render(config, files)
    entries = None
    if search is not None:
        index = type(search.search_index)(**search.config)
        search_sections.add_entries(index, page)
        entries = entries_json(index.entries)
    links = None
    if page.links_to_anchors is not None:
        links = {target.src_uri: dict(anchors)
                 for target, anchors in page.links_to_anchors.items()}
    return Rendered(page.content, page.toc, page._title_from_render,
                    set(page.present_anchor_ids or ()), links, list(capture.records), entries,
                    meta)


_ANCHOR = re.compile(r"#[A-Za-z0-9:_-]+")
# A relative link to a page as the templates write them ("../sources/s1.md#q-1"): nothing
# in it that MkDocs' link rewriting would read as a scheme, a query or an escape.
_PAGE_LINK = re.compile(r"((?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+)(?:#([A-Za-z0-9:_.-]+))?")


def quick_conversion(config) -> bool:
    """Whether pages may be converted by :mod:`generator.quick_markdown`: with the
    Markdown settings and the releases of Python-Markdown and MkDocs it replicates."""
    # the plugin's own extension, which changes no HTML (generator.markdown_prune)
    extensions = [name for name in config["markdown_extensions"]
                  if name != "generator.markdown_prune"]
    return (extensions == quick_markdown.EXTENSIONS
            and (config["mdx_configs"] or {}) == quick_markdown.EXTENSION_CONFIGS
            and quick_markdown.replicated_release())


def _render_quickly(page: Page, config, files, known: dict) -> bool:
    """Set on ``page`` what :meth:`Page.render` sets, from the quick conversion of its
    Markdown; False when that declines the page.

    Links are rewritten and checked by MkDocs' own code, which logs the same warnings.
    """
    converted = quick_markdown.convert(page.markdown)
    if converted is None:
        return False
    links = _RelativePathTreeprocessor(page.file, files, config)
    anchors = links.links_to_anchors
    to_pages = _PageLinks(page.file, files, known)

    def rewrite(url: str) -> str:
        # what path_to_url does with a link to an anchor of the page itself (a footnote,
        # a heading's permalink: most of a page's links), without parsing the URL
        if url[:1] == "#" and _ANCHOR.fullmatch(url):
            anchors.setdefault(page.file, {}).setdefault(url[1:], url)
            return url
        return to_pages.rewrite(url, links)

    page.content = converted.html(rewrite)
    page.toc = get_toc(converted.toc_tokens)
    page._title_from_render = converted.title
    page.present_anchor_ids = converted.anchors
    if logging.getLogger("mkdocs.structure.pages").getEffectiveLevel() > logging.DEBUG:
        page.links_to_anchors = links.links_to_anchors
    return True


class _PageLinks:
    """What MkDocs' ``path_to_url`` makes of a page's links to other pages, worked out once
    for the pages of a folder (the nav-less pages of a large site link to the same few
    thousand pages: a third of converting them went into resolving the same links).

    A link to a page of the site is resolved as ``path_to_url`` resolves it (the target's
    URL made relative to the linking page's: :func:`mkdocs.utils.get_relative_url`, the
    anchor noted for MkDocs' validation), without its parsing and guessing, which cost
    as much again; any other link, to a missing or excluded page too, goes through
    ``path_to_url``, which logs what MkDocs logs.  When the target is outside the folder
    of the linking page's URL, the relative URL is the same from every page whose URL is
    in the same parent folder, as long as the target is outside that page's own folder
    too (MkDocs makes it relative component by component).  ``known`` maps (the linking
    page's source folder, the parent of its URL's folder, the link's path) to (the target
    file, its URL's components, the relative URL).
    """

    def __init__(self, file, files, known: dict) -> None:
        self.file, self.files, self.known = file, files, known
        other = file.url  # as get_relative_url reads the linking page's URL
        folder, _, name = other.rpartition("/")
        self.own = tuple(mkdocs_utils._norm_parts(folder if "." in name else other))
        self.source_folder = posixpath.dirname(file.src_uri)

    def rewrite(self, url: str, links: _RelativePathTreeprocessor) -> str:
        match = _PAGE_LINK.fullmatch(url)
        if match is None or not self.own:
            return links.path_to_url(url)
        path, anchor = match.groups()
        key = (self.source_folder, self.own[:-1], path)
        known = self.known.get(key)
        if known is not None and not self._inside_own_folder(known[1]):
            target, _, relative = known
        else:
            # what path_to_url does with such a link when it reaches a page of the site
            # (the path needs no unquoting, and is its target's src_uri once normalised)
            target = self.files.src_uris.get(
                _RelativePathTreeprocessor._target_uri(self.file.src_uri, path))
            if target is None or target.inclusion.is_excluded():
                return links.path_to_url(url)  # which logs the warning MkDocs logs
            relative = mkdocs_utils.get_relative_url(target.url, self.file.url)
            if known is None:
                parts = mkdocs_utils._norm_parts(target.url)
                if not self._inside_own_folder(parts):
                    self.known[key] = (target, parts, relative)
        if anchor:
            links.links_to_anchors.setdefault(target, {}).setdefault(anchor, url)
            return f"{relative}#{anchor}"
        return relative

    @staticmethod
    def learned(known: dict, since: int) -> list[tuple]:
        """The links ``known`` has resolved since it held ``since`` of them, in a form
        that crosses processes: a worker sends them back with the pages of its share.

        Read from the end: walking the tens of thousands of links a worker inherited, to
        skip them, wrote to each one's reference count, and the pages they are on were
        copied into the worker (0.43 s of the workers' time at 5,000 incidents)."""
        new = list(itertools.islice(reversed(known.items()), len(known) - since))
        new.reverse()
        return [(key, target.src_uri, parts, relative)
                for key, (target, parts, relative) in new]

    @staticmethod
    def learn(known: dict, learned: list[tuple], files) -> None:
        """Add what a worker :meth:`learned` to ``known``, for the workers forked next:
        each worker, forked to do a few shares, would resolve every link again."""
        by_uri = files.src_uris
        for key, uri, parts, relative in learned:
            if key not in known:
                known[key] = (by_uri[uri], parts, relative)

    def _inside_own_folder(self, parts: list[str]) -> bool:
        """Whether a URL's components go through the linking page's own last folder."""
        depth = len(self.own) - 1
        return len(parts) > depth and parts[depth] == self.own[depth] \
            and parts[:depth] == list(self.own[:depth])


def workers_available() -> int:
    """How many processes to convert pages in: the cores this process may use."""
    return parallel.cores()


def render_pages(config, files, uris: list[str], workers: int) -> dict[str, Rendered]:
    """Render ``uris`` (src_uri of generated pages) in ``workers`` forked processes."""
    search = search_plugin(config)
    sizes = {uri: len(files.src_uris[uri].content_string) for uri in uris}
    workers = max(1, min(workers, max(len(uris) // MIN_PAGES_PER_WORKER,
                                      sum(sizes.values()) // MIN_BYTES_PER_WORKER)))
    forked = workers >= 2 and parallel.can_fork()
    quick = {} if quick_conversion(config) else None  # links resolved, when quick

    def render_share(share: list[str]) -> tuple[dict[str, Rendered], list[tuple]]:
        capture = _Capture()
        logger = logging.getLogger("mkdocs")
        # the records are replayed when MkDocs reads each page; here they must not reach
        # the console or the strict counter, which would count each warning twice
        saved = logger.handlers, logger.propagate
        logger.handlers, logger.propagate = [capture], False
        known = len(quick) if quick is not None and forked else None
        try:
            pages = {uri: _render_one(uri, config, files, search, capture, quick)
                     for uri in share}
        finally:
            if not forked:
                logger.handlers, logger.propagate = saved
        return pages, [] if known is None else _PageLinks.learned(quick, known)

    def taken(result: tuple[dict[str, Rendered], list[tuple]]) -> None:
        _PageLinks.learn(quick, result[1], files)

    results, _ = parallel.fork_map(render_share, _shares(uris, sizes), workers if forked else 1,
                                   taken=taken if quick is not None else None)
    merged: dict[str, Rendered] = {}
    for share, _learned in results:
        merged.update(share)
    return merged


def _shares(uris: list[str], sizes: dict[str, int]) -> list[list[str]]:
    """Small shares, so that no worker holds many converted pages at once; the largest
    pages first, so that no long one is left for the end while the other workers idle."""
    shares: list[list[str]] = []
    current: list[str] = []
    weight = 0
    for uri in sorted(uris, key=lambda uri: -sizes[uri]):
        if current and (weight + sizes[uri] > SHARE_BYTES or len(current) == PAGES_PER_SHARE):
            shares.append(current)
            current, weight = [], 0
        current.append(uri)
        weight += sizes[uri]
    return shares + [current] if current else shares


def search_plugin(config):
    """The enabled material search plugin, whose index entries workers can make."""
    plugin = config.plugins.get("search") or config.plugins.get("material/search")
    if plugin is None or not hasattr(plugin, "search_index"):
        return None
    if not plugin.config.get("enabled", True):
        return None
    return plugin


def read_as_converted(page: Page, rendered: Rendered) -> None:
    """Make MkDocs' reading of ``page`` take the meta-data a worker found, when the page's
    Markdown is its file's as is (else MkDocs reads it itself).

    MkDocs looks for meta-data by splitting the whole page into lines and joining them
    again: 0.15 s of the main process at 5,000 incidents, in every build and preview.
    """
    if rendered.meta is None:
        return

    def read_source(config) -> None:
        page.markdown, page.meta = page.file.content_string, dict(rendered.meta)
        del page.read_source  # once, and no cycle (page -> this -> page)

    page.read_source = read_source  # type: ignore[method-assign]


def apply(page: Page, rendered: Rendered, files, unread: dict[str, Path] | None = None) -> None:
    """Make MkDocs' render of ``page`` set what a worker already worked out.

    With ``unread``, HTML that waits in a preview's cache is not read: the page's content
    is left empty and ``unread`` maps the page to the file, for the caller to read it if
    the theme is rendered around it again (most pages of a preview take theirs from the
    last build).
    """
    def render(config, files_=None) -> None:
        if unread is not None and rendered.spooled is not None:
            page.content = ""
            unread[page.file.src_uri] = rendered.spooled
        else:
            page.content = rendered.html()
        page.toc = rendered.toc
        page._title_from_render = rendered.title
        page.present_anchor_ids = set(rendered.anchors)
        if rendered.links is not None:
            by_uri = files.src_uris  # the workers send each file's src_uri as it is
            page.links_to_anchors = {by_uri[uri]: dict(anchors)
                                     for uri, anchors in rendered.links.items()
                                     if uri in by_uri}
        for name, level, message in rendered.logs:
            logging.getLogger(name).log(level, message)
        # called once: the page's own render again, and no cycle (page -> this -> page)
        # left for the collector when the page is let go of
        del page.render

    page.render = render  # type: ignore[method-assign]


def entries_json(entries: list[dict]) -> str:
    """Search-index entries as the search plugin writes them into its index, without the
    brackets of the list: the index's list is the pages' lists joined with commas."""
    return json.dumps(entries, separators=(",", ":"), default=str)[1:-1]


def install_search_entries(config, prepared: dict[str, str]) -> None:
    """Let the search plugin take the workers' entries (by page, as :func:`entries_json`
    gives them) instead of reading pages again; each page's entries are handed over once.

    The index is written from that JSON as it is: encoding some 60,000 entries at once took
    the main process 0.3 s at the end of every build of 5,000 incidents, and a preview
    held them as 70 MB of objects.  Under ``mkdocs serve --dirty``, which merges the last
    build's entries into the next, or when entries reach the index some other way, it is
    written by the plugin's own code from every entry as an object.
    """
    search = search_plugin(config)
    if search is None:
        return
    index = search.search_index
    add, generate = type(index).add_entry_from_context, type(index).generate_search_index
    # the index holds these functions: a reference back from them would make a cycle that
    # keeps each preview's index (the text of every page) until a full collection
    index_of = weakref.ref(index)
    dirty = search.is_dirty
    pages: list[str] = []  # each page's entries as JSON, in the order the pages came

    def add_entry_from_context(page) -> None:
        index = index_of()
        encoded = prepared.pop(page.file.src_uri, None)
        if encoded is None:  # a page the workers did not index: the plugin reads it
            before = len(index.entries)
            add(index, page)
            encoded = entries_json(index.entries[before:])
            del index.entries[before:]
        pages.append(encoded)

    def generate_search_index(prev) -> str:
        index = index_of()
        if not (prev or dirty or index.entries):
            empty = generate(index, None)  # the plugin's settings, and no entry
            if empty.endswith(_NO_ENTRIES):
                docs = ",".join(page for page in pages if page)
                return f'{empty[:-len(_NO_ENTRIES)]}"docs":[{docs}]}}'
        index.entries = [entry for page in pages if page
                         for entry in json.loads(f"[{page}]")] + index.entries
        pages.clear()
        return generate(index, prev)

    index.add_entry_from_context = add_entry_from_context
    index.generate_search_index = generate_search_index
    _skip_needless_search_rewrite(config, search, prepared.__contains__)


_NO_ENTRIES = '"docs":[]}'  # how the plugin's index of no entries ends


def quiet_search_index(config) -> None:
    """In a worker that renders the theme: the search plugin's ``page_context`` event adds
    nothing to the index (the main process does), so the worker touches none of it."""
    search = search_plugin(config)
    if search is not None:
        search.search_index.add_entry_from_context = lambda page: None
        _skip_needless_search_rewrite(config, search, lambda uri: True)


def _skip_needless_search_rewrite(config, search, indexed: Callable[[str], bool]) -> None:
    """Spare the search plugin's ``page_context`` event a regular-expression pass over each
    page's HTML when it can change nothing.

    After adding a page to the index, the event removes ``data-search-*`` attributes from
    the page's HTML with ``re.sub``: about 1 s over a 5,000-incident site's pages, which
    hold no such attribute.  For a page whose entries are already made (``indexed``) and
    whose HTML does not contain ``data-search-``, the event is given empty HTML, which it
    leaves empty, and the page gets its HTML back.
    """
    events = config.plugins.events.get("page_context", [])
    for i, handler in enumerate(events):
        handler = getattr(handler, "__wrapped__", handler)  # wrapped for an earlier build
        if getattr(handler, "__self__", None) is search \
                and getattr(handler, "__name__", "") == "on_page_context":
            break
    else:
        return

    def on_page_context(context, *, page, config, nav):
        content = page.content
        if not content or "data-search-" in content or not indexed(page.file.src_uri):
            return handler(context, page=page, config=config, nav=nav)
        page.content = ""
        try:
            return handler(context, page=page, config=config, nav=nav)
        finally:
            if page.content == "":
                page.content = content

    on_page_context.__wrapped__ = handler  # type: ignore[attr-defined]
    events[i] = on_page_context


class PreviewCache:
    """What one build made of each page, kept for the next build of a preview.

    An entry stays valid while its page's Markdown is the same and the build's
    ``context`` (everything else the entries depend on) has not changed.  Entries keep
    their HTML in files of a temporary folder (:meth:`spool`), not in memory: a site's
    worth of it would be held on top of the build that reuses it.
    """

    def __init__(self) -> None:
        self.context: tuple | None = None
        self.pages: dict[str, tuple[str, object]] = {}  # src_uri -> (Markdown, entry)
        self.folder: Path | None = None
        self._removal: weakref.finalize | None = None

    def spool(self, uri: str, html: str) -> Path:
        """Write one page's HTML to the cache's folder; where it is."""
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="factsheet-preview-"))
            self._removal = weakref.finalize(self, shutil.rmtree, self.folder, True)
        path = self.folder / (hashlib.sha1(uri.encode("utf-8")).hexdigest() + ".html")
        path.write_bytes(html.encode("utf-8", "surrogatepass"))
        return path

    def close(self) -> None:
        """Forget everything and delete the files (at the end of a preview)."""
        self.context, self.pages = None, {}
        if self._removal is not None:
            self._removal()
        self.folder = self._removal = None

    def valid_for(self, context: tuple, sources: dict[str, str]) -> tuple[dict, list[str]]:
        """(entries still valid by page, pages to make again); forgets removed pages."""
        if context != self.context:
            self.context, self.pages = context, {}
        for uri in set(self.pages) - set(sources):
            del self.pages[uri]
        valid, stale = {}, []
        for uri, markdown in sources.items():
            cached = self.pages.get(uri)
            if cached is not None and cached[0] == markdown:
                valid[uri] = cached[1]
            else:
                stale.append(uri)
        return valid, stale

    def keep(self, uri: str, markdown: str, entry: object) -> None:
        self.pages[uri] = (markdown, entry)


class PageCache(PreviewCache):
    """Conversions of the previous build, reused while a page's Markdown is unchanged.

    A conversion depends on the page's Markdown, on which other files exist (links are
    checked against them) and on the Markdown settings, so a change of either of the last
    two empties the cache.
    """

    def split(self, config, files, sources: dict[str, str]) -> tuple[dict[str, Rendered],
                                                                     list[str]]:
        """(pages whose conversion is still valid, pages to convert) for this build."""
        search = search_plugin(config)
        context = (config.config_file_path, config["docs_dir"],
                   tuple(sorted(f.src_uri for f in files)), repr(config["markdown_extensions"]),
                   repr(config["mdx_configs"]), config["use_directory_urls"],
                   repr(search.config if search else None))
        return self.valid_for(context, sources)

    def keep(self, uri: str, markdown: str, entry: Rendered) -> None:
        super().keep(uri, markdown, dataclasses.replace(
            entry, content="", spooled=self.spool(uri, entry.content)))
