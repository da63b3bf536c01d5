"""Render the theme around the generated pages on every core, and keep it between previews.

Once MkDocs has read every page (its ``env`` event), forked workers render the theme
template of a share of the generated pages each, as MkDocs' own page build does: the
same context, the same ``page_context`` events, the same template.  Each worker sends
the HTML back and, for `factsheet build`, its scan of the page for the link check, so
the check does not parse the page again.  MkDocs then goes through its page loop as usual
(``page_context`` and ``post_page`` events, writing the file); only its template render
is replaced by reading the worker's HTML, and the warnings the render logged are
replayed there.  In a build where no other plugin sees pages after the theme, the worker
writes the page's file itself and sends no HTML: MkDocs' loop gets an empty render and
leaves the file.  The output is byte-for-byte what a serial build writes.

In a worker, Material's nav, tabs, search, palette and logo partials, and the script of
its settings, are rendered once for each folder of pages outside the nav rather than once
a page (:class:`RenderedOnce`): for such a page they depend on nothing else (about 40% of
the theme's time on an incident page).  A worker also finds its templates in a plain
dict, gives them their globals as one dict, and works out each of Material's
translations once (:func:`quick_lookups`, :func:`remember_translations`).

Under a preview, a :class:`ThemeCache` keeps each page's HTML, reused while the page's
Markdown and everything around it (settings, navigation, build date) are unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
from collections import ChainMap, Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2 import meta
from mkdocs import utils
from mkdocs.commands.build import get_context
from mkdocs.structure.files import InclusionLevel

from . import mkdocs_pages, parallel
from .jinja_calls import QuickCallContext
from .linkcheck import PageScan, scan_page
from .mkdocs_pages import _Capture


@dataclass(slots=True)
class Themed:
    """What a worker made of one page: its HTML, or "" if the worker wrote the file."""

    html: str
    logs: list[tuple[str, int, str]]
    scan: PageScan | None
    error: str | None = None
    written: bool = False


def template_name(page) -> str:
    return page.meta.get("template", "main.html")


def compile_ahead(env: jinja2.Environment, names) -> None:
    """Compile the templates ``names`` and every template they name by a literal, here.

    The theme's workers are forked later, and again to replace those that have done
    their shares: each inherits these compiled instead of compiling Material's forty-odd
    templates itself (about 1.4 s of CPU in a build at 5,000 incidents, twenty-odd workers).
    A template named by an expression is still compiled where it is first used.
    """
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            source, _, _ = env.loader.get_source(env, name)
            env.get_template(name)
        except jinja2.TemplateNotFound:  # named on a path the theme does not take here
            continue
        todo += [found for found in meta.find_referenced_templates(env.parse(source))
                 if found is not None]


class Prebuilt:
    """Stands in for the theme template of one page: its render is the worker's HTML."""

    def __init__(self, html: str, logs: list[tuple[str, int, str]] = ()) -> None:
        self.html, self.logs = html, logs

    def render(self, context) -> str:
        for name, level, message in self.logs:
            logging.getLogger(name).log(level, message)
        return self.html


class OnDisk(Prebuilt):
    """A :class:`Prebuilt` whose HTML waits in a file until the page is written; ``size``
    is the HTML's length in UTF-8, as MkDocs writes it."""

    def __init__(self, path: Path, size: int, logs: list[tuple[str, int, str]] = ()) -> None:
        self.path, self.size, self.logs = path, size, logs

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
                 scan: bool, serving: bool, write: bool = False) -> None:
        """``write``: each worker writes the pages' files itself, as MkDocs would, and
        sends no HTML back (only when nothing after the theme changes or reads a page)."""
        self.uris = uris
        self.indexes = set(uris)
        inclusion = InclusionLevel.is_in_serve if serving else InclusionLevel.is_included
        doc_files = files.documentation_pages(inclusion=inclusion)
        # the env's own, before the plugin makes MkDocs' loop take the workers' HTML from
        # it: a worker forked later, to replace one, inherits that change
        get_template = env.get_template

        targets = link_targets(config, nav)
        writes: set[str] = set()  # the pages whose file a worker writes
        if write:
            # only where no other file goes: MkDocs writes the theme's own pages and copies
            # static files before the pages, which then win; a worker would not
            own = Counter(f.dest_uri for f in files) + Counter(config.theme.static_templates)
            writes = {uri for uri in uris if own[files.src_uris[uri].dest_uri] == 1}
        compile_ahead(env, {template_name(files.src_uris[uri].page) for uri in uris})
        material_partials(env)  # its files' digest, once

        def render_share(share: list[tuple[int, str]]) -> list[Themed]:
            quick_lookups(env)
            env.context_class = QuickCallContext
            remember_translations(env, config)
            render_partials_once(env, targets)
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
                data = html.encode("utf-8", "xmlcharrefreplace") \
                    if scan or uri in writes else b""  # as MkDocs writes it
                found = scan_page(data) if scan else None
                # (MkDocs writes no file for an empty page)
                if uri in writes and html.strip() and _written(data, page.file.abs_dest_path):
                    done.append(Themed("", list(capture.records), found, written=True))
                else:
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


def _written(data: bytes, path: str) -> bool:
    """Write a page's file as MkDocs would; False if that fails (MkDocs then writes it,
    and says what fails)."""
    try:
        utils.write_file(data, path)
    except OSError:
        return False
    return True


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


# Material's partials that, for a page outside the nav, depend on nothing but the folder
# the page's URL is in (their links are made relative to it), or on nothing at all.
PER_FOLDER = ("partials/nav.html", "partials/tabs.html", "partials/logo.html")
ONCE = ("partials/search.html", "partials/palette.html")
# Blocks of Material's base.html that, likewise, depend on nothing but that folder: the
# script of the theme's settings (its base URL, its translations, the search worker's URL)
PER_FOLDER_BLOCKS = ("config",)
# they and what they include, as checked (a page of each kind, built both ways, is
# byte-identical: tests/test_mkdocs_pages.py)
REPLICATED_PARTIALS = ("partials/nav.html", "partials/nav-item.html", "partials/tabs.html",
                       "partials/tabs-item.html", "partials/logo.html", "partials/source.html",
                       "partials/search.html", "partials/palette.html", "base.html")
# of the releases checked: 9.8.1, 9.8.2 (which differ in the version base.html prints)
PARTIALS_SHA256 = frozenset({
    "f6260df07651c245e995895d1fd3c88938fde98d0ad4a4e3afa29c2f2c430a62",
    "539768b3d74a651b1bed3e19faa78b017e45d50e02de4a8c85b532e00a570dcb",
})


class RenderedOnce:
    """Stands in for one of the theme's partial templates in a theme worker: renders it
    once for each value of ``key_of(context)`` (each time when that is None).

    Jinja's ``{% include %}`` calls only ``new_context`` and ``root_render_func`` of the
    template it gets; the first gives the real template's context, the second its output,
    kept.
    """

    def __init__(self, template, key_of) -> None:
        self.template, self.key_of, self.kept = template, key_of, {}

    def __getattr__(self, name):
        return getattr(self.template, name)

    def new_context(self, *args, **kwargs):
        return self.template.new_context(*args, **kwargs)

    def root_render_func(self, context):
        key = self.key_of(context)
        if key is None:
            yield from self.template.root_render_func(context)
            return
        html = self.kept.get(key)
        if html is None:
            html = self.kept[key] = "".join(self.template.root_render_func(context))
        yield html


def render_partials_once(env, targets: frozenset[str]) -> None:
    """In a theme worker: let ``env`` give :class:`RenderedOnce` stand-ins for the
    :data:`PER_FOLDER` and :data:`ONCE` partials, when they are Material's own."""
    if getattr(env.get_template, "renders_partials_once", False) or not material_partials(env):
        return
    get_template = env.get_template
    stand_ins: dict[str, RenderedOnce] = {}

    last: list = [None, None, None]  # page, nav, folder: a page's partials ask in a row

    def per_folder(context):
        page, nav = context.get("page"), context.get("nav")
        if page is not last[0] or nav is not last[1]:
            last[:] = page, nav, page_folder(page, nav, targets)
        return last[2]

    def once(context):
        return ()

    def memoized(name, parent=None, globals=None):
        template = get_template(name, parent, globals)
        if (name not in PER_FOLDER and name not in ONCE) or globals:
            return template
        stand_in = stand_ins.get(name)
        if stand_in is None or stand_in.template is not template:
            stand_in = stand_ins[name] = RenderedOnce(template,
                                                      per_folder if name in PER_FOLDER else once)
        return stand_in

    memoized.renders_partials_once = True
    env.get_template = memoized
    base = get_template("base.html")
    for name in PER_FOLDER_BLOCKS:
        if name in base.blocks:
            base.blocks[name] = _block_once(base.blocks[name], per_folder)


def _block_once(block, key_of):
    """A block's render function, rendering once for each value of ``key_of(context)``
    (each time when that is None).  A template extending base.html that overrides the
    block renders its own."""
    kept: dict = {}

    def render(context):
        key = key_of(context)
        if key is None:
            yield from block(context)
            return
        html = kept.get(key)
        if html is None:
            html = kept[key] = "".join(block(context))
        yield html

    return render


def quick_lookups(env) -> None:
    """In a theme worker: find templates in a plain dict, without looking at their files.

    A worker lives within one build, while the theme's files do not change.  Jinja's
    default cache moves each template it hands out to the end of a queue (a linear
    search), after asking the system for the file's modification time (``auto_reload``):
    for the dozens of includes and imports of every page, about 6% of the theme's time.
    """
    if env.cache is None or isinstance(env.cache, dict):
        return
    env.auto_reload = False
    env.cache = dict(env.cache.items())
    for template in env.cache.values():
        plain_globals(template)


def plain_globals(template) -> None:
    """In a theme worker: give ``template`` its globals as one dict, as they are now.

    Jinja layers a template's own globals over the environment's (a ``ChainMap``), and
    lists them all for every context it makes: for each include, import and macro call
    with context, about 6% of the theme's time.  A worker is forked after every plugin's
    ``env`` event, and nothing changes the globals while it renders pages.
    """
    if isinstance(template.globals, ChainMap):
        template.globals = dict(template.globals)


# Material's translations: a language's ``t`` macro builds a mapping of every phrase the
# theme prints, to return one (the theme's language and English, its fallback).
LANGUAGES = "partials/languages/"


def remember_translations(env, config) -> None:
    """In a theme worker: each of Material's translations is worked out once per phrase.

    The header, footer, search and buttons of each page ask for dozens of phrases, each
    building the language's whole mapping again: 13% of the theme's time at 5,000
    incidents.  Material's own language files are imported without context, so a
    phrase depends on its key alone; a ``custom_dir``'s own are left alone.
    """
    for name in {f"{LANGUAGES}{config.theme.get('language') or 'en'}.html",
                 f"{LANGUAGES}en.html"}:
        try:
            template = env.get_template(name)
        except jinja2.TemplateNotFound:
            continue
        if not _materials_own(name, template.filename):
            continue
        module = template.module  # what an import without context gets (Jinja keeps it)
        macro = getattr(module, "t", None)
        if isinstance(macro, jinja2.runtime.Macro):
            module.t = _Remembered(macro)


class _Remembered:
    """A macro of one text argument, called once for each value of it."""

    def __init__(self, macro) -> None:
        self.macro, self.said = macro, {}

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != 1 or type(args[0]) is not str:
            return self.macro(*args, **kwargs)
        said = self.said.get(args[0])
        if said is None:
            said = self.said[args[0]] = self.macro(*args)
        return said


def _materials_own(name: str, filename: str | None) -> bool:
    """Whether the template ``name`` was loaded from Material's own ``filename``."""
    import material

    return filename is not None and \
        Path(filename) == Path(material.__file__).parent / "templates" / name


def material_partials(env) -> bool:
    """Whether ``env`` loads Material's own partials, of the release they were checked on."""
    try:
        files = [env.get_template(name).filename for name in REPLICATED_PARTIALS]
    except Exception:  # a theme without them
        return False
    return _digest(tuple(files)) in PARTIALS_SHA256


@lru_cache(maxsize=4)
def _digest(files: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for name, file in zip(REPLICATED_PARTIALS, files):
        if not _materials_own(name, file):  # overridden by a custom_dir
            return ""
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()


def link_targets(config, nav) -> frozenset[str]:
    """Every path the nav and tabs partials make a link to, relative to the page."""
    targets = set()
    stack = list(nav.items)
    while stack:
        item = stack.pop()
        if getattr(item, "url", None) is not None:
            targets.add(item.url)
        stack.extend(getattr(item, "children", None) or ())
    if nav.homepage is not None:
        targets.add(nav.homepage.url)
    for extra in (config.extra.get("homepage"), config.theme.get("logo")):
        if isinstance(extra, str):
            targets.add(extra)
    return frozenset(targets)


def page_folder(page, nav, targets: frozenset[str]) -> tuple[str, ...] | None:
    """The folder ``page``'s relative links start from, when the nav and tabs partials
    render the same for every page there: a page outside the nav (no nav item is active
    or is the page), none of whose links points into the page's own folder.

    MkDocs makes a link relative with ``posixpath.relpath`` from the page's URL (its
    folder, for a page named like ``a.html``); for two pages in the same parent folder,
    that gives the same path to anything outside either page's own folder.
    """
    if page is None or nav is None or page.parent is not None or page in nav.pages:
        return None
    base = page.url
    head, tail = posixpath.split(base)
    if "." in tail:
        base = head
    parts = tuple(part for part in posixpath.normpath("/" + base).split("/") if part)
    if not parts:
        return None
    own = "/" + "/".join(parts)
    for target in targets:
        path = posixpath.normpath("/" + target)
        if path == own or path.startswith(own + "/"):
            return None
    return parts[:-1]


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

    def __init__(self) -> None:
        super().__init__()
        # (site folder, pages) whose file there holds the HTML kept for them, as the last
        # build, which ended well, wrote or left it; None if nothing is known
        self.in_place: tuple[str, frozenset[str]] | None = None

    def keep(self, uri: str, markdown: str, entry: Prebuilt) -> None:
        path = self.spool(uri, entry.html)
        super().keep(uri, markdown, OnDisk(path, path.stat().st_size, entry.logs))

    def close(self) -> None:
        super().close()
        self.in_place = None
