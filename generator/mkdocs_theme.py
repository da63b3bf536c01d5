"""Render the theme around the generated pages on every core, and keep it between previews.

Once MkDocs has read every page (its ``env`` event), forked workers render the theme
template of a share of the generated pages each, as MkDocs' own page build does: the
same context, the same ``page_context`` events, the same template.  Each worker sends
the HTML back and, for `factsheet build`, its scan of the page for the link check, so
the check does not parse the page again.  MkDocs then goes through its page loop as usual
(``page_context`` and ``post_page`` events, writing the file); only its template render
is replaced by reading the worker's HTML, and the warnings the render logged are
replayed there.  The output is byte-for-byte what a serial build writes.

Under a preview, a :class:`ThemeCache` keeps each page's HTML, reused while the page's
Markdown and everything around it (settings, navigation, build date) are unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from mkdocs.commands.build import get_context
from mkdocs.structure.files import InclusionLevel

from . import mkdocs_pages, parallel
from .linkcheck import PageScan, scan_page
from .mkdocs_pages import _Capture


@dataclass(slots=True)
class Themed:
    """What a worker made of one page."""

    html: str
    logs: list[tuple[str, int, str]]
    scan: PageScan | None
    error: str | None = None


def template_name(page) -> str:
    return page.meta.get("template", "main.html")


class Prebuilt:
    """Stands in for the theme template of one page: its render is the worker's HTML."""

    def __init__(self, html: str, logs: list[tuple[str, int, str]] = ()) -> None:
        self.html, self.logs = html, logs

    def render(self, context) -> str:
        for name, level, message in self.logs:
            logging.getLogger(name).log(level, message)
        return self.html


class OnDisk(Prebuilt):
    """A :class:`Prebuilt` whose HTML waits in a file until the page is written."""

    def __init__(self, path: Path, logs: list[tuple[str, int, str]] = ()) -> None:
        self.path, self.logs = path, logs

    @property
    def html(self) -> str:
        return mkdocs_pages.read_spooled_html(self.path)


class Recording:
    """The page's real template, keeping what it renders for the next preview."""

    def __init__(self, template, keep) -> None:
        self.template, self.keep = template, keep

    def render(self, context) -> str:
        capture = _Capture()
        logger = logging.getLogger("mkdocs")
        logger.addHandler(capture)
        try:
            html = self.template.render(context)
        finally:
            logger.removeHandler(capture)
        self.keep(html, capture.records)
        return html


class ThemeWorkers:
    """Workers rendering the theme of ``uris`` (src_uri of generated pages), in order."""

    def __init__(self, config, files, nav, env, uris: list[str], workers: int,
                 scan: bool, serving: bool) -> None:
        self.uris = uris
        self.indexes = set(uris)
        inclusion = InclusionLevel.is_in_serve if serving else InclusionLevel.is_included
        doc_files = files.documentation_pages(inclusion=inclusion)
        # the env's own, before the plugin makes MkDocs' loop take the workers' HTML from
        # it: a worker forked later, to replace one, inherits that change
        get_template = env.get_template

        def render_share(share: list[tuple[int, str]]) -> list[Themed]:
            capture = _Capture()
            logger = logging.getLogger("mkdocs")
            logger.handlers, logger.propagate = [capture], False  # replayed by Prebuilt
            mkdocs_pages.quiet_search_index(config)
            if config._current_page is not None:  # forked while MkDocs wrote that page
                config._current_page.active = False
            done = []
            for uri in share:
                capture.records = []
                page = files.src_uris[uri].page
                try:
                    html = _render_theme(page, config, doc_files, nav, get_template)
                except Exception as exc:  # raised again where MkDocs builds the page
                    done.append(Themed("", list(capture.records), None, f"{exc!r}"))
                    continue
                found = scan_page(html.encode("utf-8", "xmlcharrefreplace")) if scan else None
                done.append(Themed(html, list(capture.records), found))
            return done

        self.share = size = mkdocs_pages.PAGES_PER_SHARE
        shares = [uris[i:i + size] for i in range(0, len(uris), size)]
        self._stream: parallel.Stream | None = parallel.Stream(render_share, shares, workers)
        self._shares = len(shares)
        self._ready: dict[str, Themed] = {}
        self._taken = 0  # shares taken from the stream

    def take(self, uri: str) -> Themed:
        """The worker's result for ``uri``, waiting for it if need be."""
        while uri not in self._ready:
            start = self._taken * self.share
            for themed in self._stream.next():  # each scan arrives interned (PageScan)
                self._ready[self.uris[start]] = themed
                start += 1
            self._taken += 1
            if self._taken == self._shares:  # all done: the workers' memory is not needed
                self._stream.close()  # while MkDocs writes the search index
                self._stream = None
        return self._ready.pop(uri)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def _render_theme(page, config, doc_files, nav, get_template) -> str:
    """What MkDocs' ``_build_page`` renders for ``page``, before ``post_page`` events."""
    config._current_page = page
    page.active = True
    try:
        context = get_context(nav, doc_files, config, page)
        template = get_template(template_name(page))
        context = config.plugins.on_page_context(context, page=page, config=config, nav=nav)
        return template.render(context)
    finally:
        page.active = False
        config._current_page = None


def workers_for(pages: int, available: int) -> int:
    """Processes worth starting for ``pages`` pages (below two, MkDocs renders them itself)."""
    return max(1, min(available, pages // mkdocs_pages.MIN_PAGES_PER_WORKER))


def context_key(config, files, nav) -> tuple:
    """What, besides a page's own Markdown, its themed HTML depends on."""
    try:
        settings = Path(config.config_file_path).read_bytes()
    except (OSError, TypeError):
        settings = repr(sorted(config.items(), key=lambda item: item[0])).encode()
    every_file = "\n".join(sorted(f.src_uri for f in files)).encode()
    return (hashlib.sha256(settings).hexdigest(), hashlib.sha256(every_file).hexdigest(),
            os.environ.get("SOURCE_DATE_EPOCH"),
            tuple((page.title, page.url, page.file.src_uri) for page in nav.pages))


class ThemeCache(mkdocs_pages.PreviewCache):
    """Each page's themed HTML from the previous build of a preview, in a file; its
    context is :func:`context_key`."""

    def keep(self, uri: str, markdown: str, entry: Prebuilt) -> None:
        super().keep(uri, markdown, OnDisk(self.spool(uri, entry.html), entry.logs))
