"""The MkDocs adapter: a plugin that adds the rendered pages and data files to a build.

With it, plain ``mkdocs build`` and ``mkdocs serve`` work on a fact-sheet project:
the plugin checks the facts, renders the tree in memory and hands MkDocs each page as
a generated file; ``mkdocs serve`` also rebuilds when `facts/`, `corpus/` or the
templates change.  `factsheet build` uses the same plugin, passing a tree it has
already checked and rendered so nothing is done twice.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from . import mkdocs_keep, mkdocs_pages, mkdocs_theme, parallel, render
from .check import CheckCache, check_project
from .report import format_text, summary
from .site import build_date, epoch_of, render_checked


PRUNE = "generator.markdown_prune"
# A preview's builds between two collections that walk every object (see on_pre_build)
FULL_COLLECTION_EVERY = 4
# Characters the theme would read as markup in a page title, and their look-alikes.
THEME_SAFE = str.maketrans({"<": "‹", ">": "›", "&": "＆", '"': "＂", "'": "’"})


class FactsheetConfig(Config):
    """Where the plugin finds a project's facts, corpus and templates (relative to mkdocs.yml)."""

    facts = c.Type(str, default="facts")
    corpus = c.Type(str, default="corpus")
    templates = c.Type(str, default="site_templates")


class FactsheetPlugin(BasePlugin[FactsheetConfig]):
    """Generate the fact-sheet pages inside a MkDocs build."""

    supports_multiple_instances = False

    def __init__(self) -> None:
        self.prepared: render.Tree | None = None  # set by `factsheet build` to skip re-rendering
        self.origins: dict[str, str] = {}
        # processes to convert the generated pages in; 0 leaves the conversion to MkDocs
        self.workers = mkdocs_pages.workers_available()
        self.last_converted = 0  # pages the last build converted (the rest came from cache)
        self.cache = mkdocs_pages.PageCache()  # kept across the rebuilds of a preview
        self.check_cache = CheckCache()  # like cache, for the fact files
        self.render_memo = render.RenderMemo()  # like cache, for the rendered Markdown
        self.use_cache = False  # on under `mkdocs serve` and `factsheet serve`
        self.dirty = False  # `mkdocs serve --dirty`: MkDocs does not empty the site folder
        self.kept = mkdocs_keep.KeptFiles()  # a preview's site files, rewritten in place
        self.last_kept = 0  # files of the last build's site written over in this one
        self.builds = 0  # of this preview, counting the first
        self.collector_paused = False  # during a preview's build (see on_pre_build)
        self._shares_per_worker: int | None = None  # outside a preview's build, to restore
        self._sources: dict[str, str] = {}  # src_uri -> Markdown of the generated pages
        self._converted: dict[str, mkdocs_pages.Rendered] = {}
        self._search: dict[str, str] = {}  # src_uri -> the page's search entries, as JSON
        self.theme_cache = mkdocs_theme.ThemeCache()  # like cache, for the themed pages
        self.scan_pages = False  # set by `factsheet build`: scan each page for the link check
        self.page_scans: dict = {}  # dest_uri -> linkcheck.PageScan of the page as written
        self.last_themed = 0  # pages the last build rendered the theme of
        self._nav = None
        self._files: Files | None = None  # this build's, until it ends
        self._theme: mkdocs_theme.ThemeWorkers | None = None
        self._themed: dict[str, mkdocs_theme.Prebuilt] = {}  # src_uri -> HTML ready
        # a preview's pages whose converted HTML is left in the cache's file, unread, and
        # whether this build may leave it there (see on_page_markdown)
        self._unread: dict[str, Path] = {}
        self._may_leave_unread = False
        self._only_ours = False  # whether no other plugin sees a page's HTML (on_nav)
        # a preview's pages whose file in the site folder holds, from the last build, the
        # themed HTML the cache keeps for them: MkDocs' loop leaves those files as they are
        self._in_place: frozenset[str] = frozenset()
        self._placed: set[str] = set()  # the pages this build writes with their kept HTML
        self._quiet = _QuietSkips()
        self._searching = False  # whether this build's search index is made
        self._written: tuple | None = None  # (page, HTML, scan) awaiting post_page

    def _root(self, config) -> Path:
        return Path(config.config_file_path).resolve().parent

    def on_config(self, config):
        """Convert every page with :mod:`generator.markdown_prune`, which skips the inline
        patterns a page cannot use: the same HTML, with 6-10% less CPU for converting and
        indexing the generated pages."""
        if PRUNE not in config.markdown_extensions:
            config.markdown_extensions.append(PRUNE)
        return config

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Keep conversions between the rebuilds of a preview (MkDocs keeps a plugin that
        defines this event across them)."""
        self.use_cache = command == "serve"
        self.dirty = dirty

    def on_shutdown(self) -> None:
        """The preview ends: delete the files its caches kept, and collect what they held
        as usual again."""
        self.kept.discard()
        self.cache.close()
        self.theme_cache.close()
        self._end_preview_build()
        gc.unfreeze()

    def on_files(self, files: Files, config) -> Files:
        tree, self.prepared = self.prepared, None  # a tree is used for one build only
        self.origins, self._sources = {}, {}
        if tree is None:
            root = self._root(config)
            result = check_project(root, self.check_cache if self.use_cache else None)
            if result.failed():
                raise PluginError("factsheet: the facts do not pass the check "
                                  f"({summary(result.problems)}):\n" + format_text(result.errors))
            os.environ.setdefault("SOURCE_DATE_EPOCH", epoch_of(build_date(result)))
            tree = render_checked(result, root / self.config.templates, config.site_name,
                                  config.repo_url, self.render_memo if self.use_cache else None)
        for path, output in tree.items():
            if path in files.src_uris:
                raise PluginError(f"factsheet: {config.docs_dir}/{path} would be overwritten "
                                  "by a generated page; rename or remove it")
            generated = File.generated(config, path, content=output.content)
            if output.origin and config.repo_url:
                generated.edit_uri = output.origin  # "edit this page" opens the YAML file
            files.append(generated)
            if output.origin:
                self.origins[path] = output.origin
            if path.endswith(".md"):
                self._sources[generated.src_uri] = output.content
        return files

    def on_nav(self, nav, config, files: Files):
        """Convert the generated pages on every core before MkDocs reads them one by one."""
        self._files = files
        if self.workers < 1:
            self._converted, self._search, self.last_converted = {}, {}, len(self._sources)
            return nav
        valid, stale = {}, list(self._sources)
        if self.use_cache:
            valid, stale = self.cache.split(config, files, self._sources)
        self.last_converted = len(stale)
        fresh = mkdocs_pages.render_pages(config, files, stale, self.workers) if stale else {}
        if self.use_cache:
            for uri, page in fresh.items():
                self.cache.keep(uri, self._sources[uri], page)
        self._converted = {**valid, **fresh}
        self._search = {uri: page.search for uri, page in self._converted.items()
                        if page.search is not None}
        mkdocs_pages.install_search_entries(config, self._search)
        self._only_ours = _only_ours_read_pages(config)
        self._unread, self._may_leave_unread = {}, self.use_cache and self._only_ours
        self._searching = mkdocs_pages.search_plugin(config) is not None
        self._nav = nav
        return nav

    def on_env(self, env, config, files: Files):
        """Render the theme of the generated pages on every core (or take it from the last
        preview), and let MkDocs' page loop use that HTML instead of rendering again."""
        self._close_theme()
        # MkDocs has emptied the site folder and is about to write it: a preview's pages
        # are written over the last build's copies
        self.last_kept = self.kept.put_back(f.dest_uri for f in files)
        self.kept.write_unchanged_in_place()
        if self.use_cache:
            env.bytecode_cache = render.COMPILED  # the theme compiled once per preview
        self.page_scans, self._themed, self._written = {}, {}, None
        if not self.use_cache:
            self._let_go_of_markdown(files)
        if self.workers < 1 or self._nav is None:
            self._read_unread(files, keep=())
            self.last_themed = len(self._sources)
            return env
        sources = {uri: markdown for uri, markdown in self._sources.items()
                   if (f := files.src_uris.get(uri)) is not None and f.page is not None
                   and not f.inclusion.is_excluded()}
        valid, stale = {}, list(sources)
        if self.use_cache:
            key = mkdocs_theme.context_key(config, files, self._nav)
            valid, stale = self.theme_cache.valid_for(key, sources)
        self._themed = valid
        self.last_themed = len(stale)
        self._placed = set()
        self._in_place = self._pages_in_place(config) if valid else frozenset()
        self._quiet.install()  # (removed when the build ends)
        self._read_unread(files, keep=valid)  # before the theme's workers are forked
        workers = mkdocs_theme.workers_for(len(stale), self.workers)
        if workers >= 2 and parallel.can_fork():
            self._theme = mkdocs_theme.ThemeWorkers(
                config, files, self._nav, env, stale, workers,
                scan=self.scan_pages and self._post_page_is_last(config),
                serving=self.use_cache,
                # a build's pages are written by the workers: this process would only
                # receive, encode and write their HTML, 250 MB at 5,000 incidents
                write=not self.use_cache and not self.dirty and self._only_ours)
        pending = set(sources)  # pages whose next template render this plugin supplies
        original = env.get_template

        def get_template(name, parent=None, globals=None):
            page = config._current_page
            template = original(name, parent, globals)
            if page is None or page.file.src_uri not in pending \
                    or name != mkdocs_theme.template_name(page):
                return template
            pending.discard(page.file.src_uri)
            return self._page_template(page, template, sources)

        env.get_template = get_template
        return env

    def _pages_in_place(self, config) -> frozenset[str]:
        """The pages whose file the last build left holding the HTML the theme cache
        keeps for them: a preview's, in the same site folder, where only this plugin and
        the search plugin see pages' HTML and MkDocs writes over the last build's files."""
        known = self.theme_cache.in_place
        if known is None or not self._only_ours or self.dirty \
                or known[0] != config.site_dir:
            return frozenset()
        return known[1]

    def _read_unread(self, files: Files, keep) -> None:
        """Read the HTML of the pages left unread (see on_page_markdown) whose theme is
        rendered again: those not in ``keep``, which take theirs from the last build."""
        for uri, spooled in self._unread.items():
            file = files.src_uris.get(uri)
            if uri not in keep and file is not None and file.page is not None:
                file.page.content = mkdocs_pages.read_spooled_html(spooled)
        self._unread = {}

    def _let_go_of_markdown(self, files: Files) -> None:
        """Every page is converted: its Markdown is not needed any more (a preview keeps
        it, to compare with the next build's).  At 5,000 incidents it is 170 MiB, which
        the theme's workers would otherwise inherit and the pages written next add to."""
        for uri in self._sources:
            file = files.src_uris.get(uri)
            if file is not None and file.page is not None and file.page.markdown is not None:
                file.content_string = file.page.markdown = ""
            self._sources[uri] = ""

    def _page_template(self, page, template, sources: dict[str, str]):
        """What renders ``page`` in MkDocs' loop: HTML from a worker or the cache, or the
        theme's template (recording its HTML for the next preview)."""
        uri = page.file.src_uri
        keep = (lambda html, logs: self.theme_cache.keep(uri, sources[uri],
                                                         mkdocs_theme.Prebuilt(html, logs))) \
            if self.use_cache else None
        if keep:
            self._placed.add(uri)  # written with the HTML the cache keeps for it
        ready = self._themed.pop(uri, None)
        if ready is not None:
            if uri in self._in_place and self.kept.confirm(page.file.abs_dest_path, ready.size):
                # the file already holds this HTML: an empty render has MkDocs leave it
                # (reading, encoding and comparing 280 MB took 0.7-1 s at 5,000 incidents)
                self._quiet.expect(uri)
                return mkdocs_theme.Prebuilt("", ready.logs)
            return ready
        if self._theme is None or uri not in self._theme.indexes:
            return mkdocs_theme.Recording(template, keep) if keep else template
        themed = self._theme.take(uri)
        if themed.error is not None:
            raise PluginError(f"the theme failed on this page: {themed.error}")
        html = themed.html
        if themed.written:  # the worker wrote the file: an empty render has MkDocs leave it
            self._quiet.expect(uri)
        elif keep:
            keep(html, themed.logs)
        if themed.scan is not None:
            self._written = (page, html, themed.scan)
        return mkdocs_theme.Prebuilt(html, themed.logs)

    def _post_page_is_last(self, config) -> bool:
        """Whether no other plugin changes a page after this one sees it."""
        handlers = config.plugins.events.get("post_page", [])
        return bool(handlers) and getattr(handlers[-1], "__self__", None) is self

    def on_post_page(self, output: str, page, config) -> str:
        """Keep the worker's scan of the page for the link check, if it is what is written;
        let go of a generated page's HTML, which MkDocs would otherwise hold to the end."""
        if self._written is not None and self._written[0] is page:
            _, html, scan = self._written
            if output == html:
                self.page_scans[page.file.dest_uri] = scan
        self._written = None
        if page.file.src_uri in self._sources and self._post_page_is_last(config):
            page.content = None  # no later handler reads it; its search entries are taken
        return output

    def on_build_error(self, error) -> None:
        self.theme_cache.in_place = None  # some pages may not have been written
        self.kept.discard()
        self._release()
        self._end_preview_build()

    def _close_theme(self) -> None:
        if self._theme is not None:
            self._theme.close()
            self._theme = None

    def on_pre_page(self, page, config, files: Files):
        converted = self._converted.get(page.file.src_uri)
        # unless another plugin supplies pages' sources
        if converted is not None and not config.plugins.events.get("page_read_source"):
            mkdocs_pages.read_as_converted(page, converted)
        return page

    def on_page_markdown(self, markdown: str, page, config, files: Files) -> str:
        uri = page.file.src_uri
        converted = self._converted.pop(uri, None)
        if converted is not None and markdown == self._sources.get(uri):
            # a preview reads the page's HTML from its cache only if the theme is rendered
            # around it again (on_env); reading every page's took 100 MB and a quarter of a
            # second at 5,000 incidents
            leave = self._may_leave_unread and (uri in self._search  # indexed already
                                                 or not self._searching)
            mkdocs_pages.apply(page, converted, files, self._unread if leave else None)
        else:  # another plugin changed the Markdown: MkDocs converts and indexes it
            self._search.pop(uri, None)
        return markdown

    @event_priority(-100)  # after every plugin that writes files at the end
    def on_post_build(self, config) -> None:
        self.kept.remove_unwritten()
        if self.use_cache:
            self.theme_cache.in_place = (config.site_dir, frozenset(self._placed)) \
                if self._only_ours and not self.dirty else None
        if self.use_cache and self._files is not None:
            # a file and its page refer to each other, and the pages of the navigation to
            # each other (previous, next, their section) and to every file they link to:
            # untied, the build's thousands of pages and files are freed as soon as MkDocs
            # lets go of them, not by the collector; so is the text of the navigation's
            # pages (the index of 5,000 incidents), whatever still refers to them
            for file in self._files:
                page = file.page
                if page is not None:
                    page.links_to_anchors = page.previous_page = page.next_page = None
                    page.content = page.markdown = None
                file.page = None
        self._release()
        if self.use_cache:
            # what lives now is the caches, mostly, which the next build keeps: its
            # collections walk only what it makes (see on_pre_build)
            gc.freeze()
        self._end_preview_build()

    def on_pre_build(self, config) -> None:
        if self.use_cache:
            # a preview's next build: collect the last one's cycles and give the memory
            # back, or this build would add to it.  The objects frozen when the last build
            # ended are not walked: a million at 5,000 incidents, 0.9 s a rebuild.  The
            # cycles that ended among them (the last build's Jinja environments, some 15
            # MB) wait for every FULL_COLLECTION_EVERY-th build, which walks everything.
            self.builds += 1
            if self.builds % FULL_COLLECTION_EVERY == 0:
                gc.unfreeze()
            gc.collect()
            parallel.release_free_memory()
            # The build then makes many objects of its own (files, pages, their tables of
            # contents) and few cycles: with the default thresholds a full collection
            # started in MkDocs' page loop, 0.8-1.2 s at 5,000 incidents.  With workers
            # converting the pages and rendering their theme, this process makes almost no
            # cycles (as in `factsheet build`, see build.no_collections_with_workers); what
            # it makes is frozen when the build ends, and its few cycles wait for the next
            # full collection (about 16 MB a build).
            if gc.isenabled() and self.workers >= 2 and parallel.can_fork():
                gc.disable()
                self.collector_paused = True
            if self._shares_per_worker is None:  # this process holds the caches besides
                self._shares_per_worker = parallel.set_shares_per_worker(
                    parallel.PREVIEW_SHARES_PER_WORKER)
            if not self.dirty:
                self.kept.set_aside(config.site_dir)

    def _end_preview_build(self) -> None:
        """Put back what a preview's build changed for its duration (see on_pre_build)."""
        if self.collector_paused:
            gc.enable()
            self.collector_paused = False
        if self._shares_per_worker is not None:  # the build of a preview has ended
            parallel.set_shares_per_worker(self._shares_per_worker)
            self._shares_per_worker = None

    def _release(self) -> None:
        """Let go of this build's pages: MkDocs keeps the last plugin instance alive after
        the build, and the next build of a preview would otherwise start holding two."""
        self._converted, self._search, self._themed, self._written = {}, {}, {}, None
        self._unread, self._in_place, self._placed = {}, frozenset(), set()
        self._quiet.remove()
        self._nav, self._sources, self.origins, self.prepared = None, {}, {}, None
        self._files = None
        self._close_theme()

    def on_page_content(self, html: str, page, config, files) -> str:
        """Make the page title safe for the theme, which prints it without escaping.

        MkDocs takes the title from the first heading with its entities decoded, and
        the theme writes it into <title> and the header as is (its ``striptags`` filter
        even decodes entities again).  A record title holding ``</title><script>`` would
        run; markup characters become look-alikes there.  The heading keeps the exact text.
        """
        if page.title:
            page.title = page.title.translate(THEME_SAFE)
        return html

    def on_serve(self, server, config, builder):
        root = self._root(config)
        for folder in (self.config.facts, self.config.corpus, self.config.templates):
            if (root / folder).is_dir():
                server.watch(str(root / folder))
        return server


class _QuietSkips(logging.Filter):
    """Silences MkDocs' note that it skipped a page's empty render, for the pages whose
    file a preview leaves as it is (one line a page: thousands in a rebuild)."""

    LOGGER = "mkdocs.commands.build"

    def __init__(self) -> None:
        super().__init__()
        self.messages: set[str] = set()

    def expect(self, uri: str) -> None:
        self.messages.add(f"Page skipped: '{uri}'. Generated empty output.")

    def install(self) -> None:
        logging.getLogger(self.LOGGER).addFilter(self)

    def remove(self) -> None:
        logging.getLogger(self.LOGGER).removeFilter(self)
        self.messages = set()

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and record.getMessage() in self.messages)


def _only_ours_read_pages(config) -> bool:
    """Whether no plugin but this one and the search plugin (whose entries this one makes)
    sees a page's HTML before the theme is rendered around it or after."""
    search = mkdocs_pages.search_plugin(config)
    for event in ("page_content", "page_context", "post_page"):
        for handler in config.plugins.events.get(event, []):
            owner = getattr(getattr(handler, "__wrapped__", handler), "__self__", None)
            if owner is None or (owner is not search and not isinstance(owner, FactsheetPlugin)):
                return False
    return True
