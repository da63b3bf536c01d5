"""The MkDocs adapter's fast path: generated pages converted in worker processes, and kept
between the rebuilds of a preview, give the same site as MkDocs converting them itself.

Builds run in temporary folders, on a copy of the shipped project.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import signal
import types
import weakref
from pathlib import Path

import jinja2
import pytest
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, BuildError as MkDocsBuildError

from generator import (markdown_prune, mkdocs_keep, mkdocs_pages, mkdocs_plugin, mkdocs_theme,
                       parallel, quick_markdown, render)
from generator.build import build_site
from generator.check import CheckCache
from generator.linkcheck import check_built_site, scan_page
from generator.mkdocs_pages import PageCache
from generator.mkdocs_plugin import FactsheetPlugin
from generator.mkdocs_theme import ThemeCache

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for folder in ("site_templates", "facts", "corpus"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def build(root: Path, site: Path, workers: int, serve: bool = False):
    """Build with MkDocs as `mkdocs build` (or a `serve` rebuild) does; return the plugin."""
    config = load_config(str(root / "mkdocs.yml"), site_dir=str(site))
    plugin = config.plugins["factsheet"]
    plugin.workers = workers
    plugin.use_cache = serve
    mkdocs_build(config)
    return plugin


def files_of(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file()}


def add_hook(project: Path, event: str, arguments: str) -> Path:
    """Add a hook, seen.py, whose handler of ``event`` keeps each page's HTML (its first
    argument) in SEEN; return the settings' file."""
    html = arguments.split(",")[0]
    (project / "seen.py").write_text(
        f"SEEN = []\n\n\ndef on_{event}({arguments}):\n"
        f"    SEEN.append({html})\n    return {html}\n", encoding="utf-8")
    settings = project / "mkdocs.yml"
    settings.write_text(settings.read_text(encoding="utf-8") + "hooks:\n  - seen.py\n",
                        encoding="utf-8")
    return settings


def seen_by_hook(config) -> list[str]:
    return next(hook.SEEN for hook in config.plugins.values() if hasattr(hook, "SEEN"))


@pytest.fixture()
def fresh_plugin_state(monkeypatch):
    """MkDocs keeps one plugin object per process; start each test from an empty cache."""
    config = load_config(str(REPO / "mkdocs.yml"))
    plugin = config.plugins["factsheet"]
    saved = (plugin.workers, plugin.use_cache, plugin.dirty, plugin.cache, plugin.theme_cache,
             plugin.check_cache, plugin.render_memo, plugin.builds)
    plugin.cache, plugin.theme_cache = PageCache(), ThemeCache()
    plugin.check_cache, plugin.render_memo = CheckCache(), render.RenderMemo()
    plugin.builds = 0
    monkeypatch.setattr(mkdocs_pages, "MIN_PAGES_PER_WORKER", 1)
    yield
    (plugin.workers, plugin.use_cache, plugin.dirty, plugin.cache, plugin.theme_cache,
     plugin.check_cache, plugin.render_memo, plugin.builds) = saved
    gc.unfreeze()  # as a preview's end does


def test_pages_converted_in_workers_are_byte_identical_to_mkdocs_own(project, tmp_path,
                                                                      fresh_plugin_state):
    build(project, tmp_path / "serial", workers=0)
    plugin = build(project, tmp_path / "parallel", workers=2)
    assert plugin.last_converted > 50
    serial, parallel = files_of(tmp_path / "serial"), files_of(tmp_path / "parallel")
    assert serial.keys() == parallel.keys()
    different = [path for path in serial if serial[path] != parallel[path]]
    assert different == []
    # the search index is among them, made from the workers' entries
    assert "search/search_index.json" in parallel


def test_pages_converted_quickly_are_byte_identical_to_mkdocs_own(project, tmp_path,
                                                                  fresh_plugin_state,
                                                                  monkeypatch):
    taken = []
    convert = quick_markdown.convert
    monkeypatch.setattr(quick_markdown, "convert",
                        lambda text: taken.append(convert(text)) or taken[-1])
    build(project, tmp_path / "quick", workers=1)  # in this process, to count
    assert sum(page is not None for page in taken) > 80
    build(project, tmp_path / "mkdocs", workers=0)  # MkDocs' own conversion
    assert files_of(tmp_path / "quick") == files_of(tmp_path / "mkdocs")


def test_only_pages_with_meta_data_are_read_again_after_the_workers(
        project, tmp_path, fresh_plugin_state, monkeypatch):
    from mkdocs.utils import meta

    pages = project / "site_templates" / "pages"
    (pages / "described.md").write_text("description: Kept as meta-data\n\n# Described\n",
                                        encoding="utf-8")
    (pages / "hidden-toc.md").write_text("---\nhide:\n  - toc\n---\n# Without a toc\n",
                                         encoding="utf-8")
    build(project, tmp_path / "serial", workers=0)
    read_here, get_data = [], meta.get_data
    monkeypatch.setattr(meta, "get_data",
                        lambda doc: read_here.append(doc.splitlines()[0]) or get_data(doc))
    plugin = build(project, tmp_path / "parallel", workers=2)
    assert plugin.last_converted > 50
    # MkDocs read the pages whose Markdown starts with meta-data; the workers, the others
    assert sorted(read_here) == ["---", "description: Kept as meta-data"]
    assert files_of(tmp_path / "serial") == files_of(tmp_path / "parallel")
    described = (tmp_path / "parallel" / "described" / "index.html").read_text("utf-8")
    assert '<meta name="description" content="Kept as meta-data">' in described
    hidden = 'data-md-type="toc" hidden'  # the front matter's "hide: toc"
    assert hidden in (tmp_path / "parallel" / "hidden-toc" / "index.html").read_text("utf-8")
    assert hidden not in (tmp_path / "parallel" / "index.html").read_text("utf-8")


def test_workers_forked_later_inherit_the_links_resolved_before(
        project, tmp_path, fresh_plugin_state, monkeypatch):
    from mkdocs import utils

    monkeypatch.setattr(parallel, "SHARES_PER_WORKER", 1)  # a fresh worker for each share
    monkeypatch.setattr(mkdocs_pages, "PAGES_PER_SHARE", 3)
    log = tmp_path / "resolved"

    def logged(url, other):  # each link to a page resolved (all reach one here)
        with log.open("a", encoding="utf-8") as file:
            file.write(f"{other} {url}\n")
        return utils.get_relative_url(url, other)

    monkeypatch.setattr(mkdocs_pages, "mkdocs_utils", types.SimpleNamespace(
        get_relative_url=logged, _norm_parts=utils._norm_parts))

    def resolved(site: str) -> int:
        log.write_text("", encoding="utf-8")
        assert build(project, tmp_path / site, workers=2).last_converted > 50
        return len(log.read_text(encoding="utf-8").splitlines())

    shared = resolved("shared")
    monkeypatch.setattr(mkdocs_pages._PageLinks, "learn", lambda known, learned, files: None)
    alone = resolved("alone")
    assert shared < alone * 0.9, (shared, alone)
    assert files_of(tmp_path / "shared") == files_of(tmp_path / "alone")


def test_the_theme_workers_inherit_its_templates_compiled(project, tmp_path,
                                                         fresh_plugin_state, monkeypatch):
    here, compiled = os.getpid(), tmp_path / "compiled-in-workers"
    compile = jinja2.Environment.compile

    def counted(self, source, name=None, *args, **kwargs):
        if os.getpid() != here:
            with compiled.open("a", encoding="utf-8") as log:
                log.write(f"{name}\n")
        return compile(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    plugin = build(project, tmp_path / "site", workers=2)
    assert plugin.last_themed > 50
    # only the icons, which Material's templates name by expressions
    assert {name for name in compiled.read_text(encoding="utf-8").split()
            if not name.startswith(".icons/")} == set()


def test_other_markdown_settings_leave_every_page_to_python_markdown(project):
    config = load_config(str(project / "mkdocs.yml"))
    assert mkdocs_pages.quick_conversion(config)
    config["markdown_extensions"].append("abbr")
    assert not mkdocs_pages.quick_conversion(config)
    config = load_config(str(project / "mkdocs.yml"))
    config["mdx_configs"]["toc"]["permalink"] = "#"
    assert not mkdocs_pages.quick_conversion(config)


def test_one_process_gives_the_same_pages_as_several(project, tmp_path, fresh_plugin_state):
    build(project, tmp_path / "one", workers=1)
    build(project, tmp_path / "two", workers=2)
    assert files_of(tmp_path / "one") == files_of(tmp_path / "two")


def test_a_builds_theme_workers_write_the_pages_files(project, tmp_path, fresh_plugin_state,
                                                    monkeypatch, caplog):
    """The workers that render the theme write each page's file, as MkDocs would: this
    process does not receive the HTML, nor write it, nor note the empty render it gives
    MkDocs' loop instead."""
    from mkdocs import utils

    written, write = [], utils.write_file  # in this process (workers keep their own list)
    monkeypatch.setattr(utils, "write_file",
                        lambda content, path: written.append(Path(path)) or write(content, path))
    caplog.set_level(logging.INFO, logger="mkdocs")
    # a static file where a page goes: MkDocs copies it first, then writes the page over it
    (project / "site_templates" / "assets" / "timeline").mkdir()
    (project / "site_templates" / "assets" / "timeline" / "index.html").write_text(
        "static", encoding="utf-8")
    site = tmp_path / "site"
    build(project, site, workers=2)
    pages = [path for path in site.rglob("index.html") if path.parent != site]
    assert len(pages) > 80
    # all but the page where a static file goes, written here after it (as MkDocs does)
    assert set(pages) & set(written) == {site / "timeline" / "index.html"}
    assert not [r for r in caplog.records if "Page skipped" in r.getMessage()]
    build(project, tmp_path / "serial", workers=0)
    assert files_of(site) == files_of(tmp_path / "serial")
    assert b"static" not in files_of(site)["timeline/index.html"]

    # a hook that sees pages after the theme: they come back to this process, as HTML
    settings = add_hook(project, "post_page", "output, page, config")
    written.clear()
    config = load_config(str(settings), site_dir=str(tmp_path / "hooked"))
    config.plugins["factsheet"].workers = 2
    mkdocs_build(config)
    seen = seen_by_hook(config)
    assert len(seen) > 80 and all(html.strip() for html in seen)
    assert len([path for path in written if path.name == "index.html"]) > 80
    assert files_of(tmp_path / "hooked") == files_of(tmp_path / "serial")


def test_a_page_a_theme_worker_cannot_write_is_written_by_mkdocs(project, tmp_path,
                                                               fresh_plugin_state, monkeypatch):
    from mkdocs import utils

    here, write = os.getpid(), utils.write_file

    def write_here_only(content: bytes, path: str) -> None:
        if os.getpid() != here:
            raise OSError(28, "No space left on device")
        write(content, path)

    monkeypatch.setattr(utils, "write_file", write_here_only)
    build(project, tmp_path / "site", workers=2)
    build(project, tmp_path / "serial", workers=0)
    assert files_of(tmp_path / "site") == files_of(tmp_path / "serial")


def test_a_preview_rebuild_converts_only_the_pages_whose_markdown_changed(
        project, tmp_path, fresh_plugin_state):
    first = build(project, tmp_path / "first", workers=2, serve=True)
    pages, themed = first.last_converted, first.last_themed
    incident = project / "facts" / "incidents" / "green-zone-rockets-2020-12-20.yaml"
    text = incident.read_text(encoding="utf-8")
    assert "kind: attack" in text
    incident.write_text(text.replace("kind: attack", "kind: strike", 1), encoding="utf-8")
    second = build(project, tmp_path / "second", workers=2, serve=True)
    assert 0 < second.last_converted < pages // 4
    assert 0 < second.last_themed < themed // 4  # the theme too, of those pages only
    build(project, tmp_path / "fresh", workers=0)
    assert files_of(tmp_path / "second") == files_of(tmp_path / "fresh")
    page = (tmp_path / "second" / "incidents" / "green-zone-rockets-2020-12-20" /
            "index.html").read_text(encoding="utf-8")
    assert "<strong>Strike</strong>" in page
    folders = [second.cache.folder, second.theme_cache.folder]  # on disk, not in memory
    assert all(folder is not None and len(list(folder.iterdir())) >= pages // 2
               for folder in folders)
    second.on_shutdown()  # as `mkdocs serve` ends
    assert not any(folder.exists() for folder in folders)


def spooled_reads(monkeypatch) -> list[Path]:
    """The files of a preview's caches read from now on."""
    reads: list[Path] = []
    read = mkdocs_pages.read_spooled_html
    monkeypatch.setattr(mkdocs_pages, "read_spooled_html",
                        lambda path: reads.append(path) or read(path))
    return reads


def test_a_preview_reads_a_pages_kept_html_only_to_render_the_theme_again(
        project, tmp_path, fresh_plugin_state, monkeypatch):
    """Most pages of a preview's rebuild take their themed HTML from the last build: their
    converted HTML (a site's worth) is not read from the cache for nothing."""
    site = tmp_path / "site"
    build(project, site, workers=2, serve=True)
    incident = project / "facts" / "incidents" / "green-zone-rockets-2020-12-20.yaml"
    text = incident.read_text(encoding="utf-8")
    incident.write_text(text.replace("kind: attack", "kind: strike", 1), encoding="utf-8")
    reads = spooled_reads(monkeypatch)
    plugin = build(project, site, workers=2, serve=True)
    # the pages themed again were converted again too (their Markdown changed); the
    # others' converted HTML was not read
    assert 0 < plugin.last_converted == plugin.last_themed < 20
    assert [path for path in reads if path.parent == plugin.cache.folder] == []
    build(project, tmp_path / "fresh", workers=0)
    assert files_of(site) == files_of(tmp_path / "fresh")

    # settings the theme depends on, not the conversion: every page's HTML is read
    settings = project / "mkdocs.yml"
    settings.write_text(settings.read_text(encoding="utf-8") + "copyright: Ours\n",
                        encoding="utf-8")
    reads.clear()
    plugin = build(project, site, workers=2, serve=True)
    assert plugin.last_converted == 0 and plugin.last_themed > 100
    assert len([path for path in reads if path.parent == plugin.cache.folder]) \
        == plugin.last_themed
    build(project, tmp_path / "fresh-settings", workers=0)
    assert files_of(site) == files_of(tmp_path / "fresh-settings")


def test_a_preview_leaves_the_files_of_pages_it_does_not_theme_again_as_they_are(
        project, tmp_path, fresh_plugin_state, monkeypatch, caplog):
    """The last build wrote each page's themed HTML, which the preview's cache keeps: a
    page not themed again is neither read from the cache nor compared with its file."""
    site = tmp_path / "site"
    build(project, site, workers=2, serve=True)
    incident = project / "facts" / "incidents" / "green-zone-rockets-2020-12-20.yaml"
    text = incident.read_text(encoding="utf-8")
    incident.write_text(text.replace("kind: attack", "kind: strike", 1), encoding="utf-8")
    # a file that is not what the last build wrote any more is written again
    spoiled = site / "sources" / "index.html"
    spoiled.write_text(spoiled.read_text(encoding="utf-8") + "<!-- edited -->",
                       encoding="utf-8")
    reads = spooled_reads(monkeypatch)
    caplog.set_level(logging.INFO, logger="mkdocs")

    plugin = build(project, site, workers=2, serve=True)

    themed = [path for path in reads if path.parent == plugin.theme_cache.folder]
    assert len(themed) == 1  # the spoiled page's, read to write it again
    assert 0 < plugin.last_themed < 20
    # each other page's file was left as it was, and counted among those found unchanged
    generated = (len(list((project / "facts").rglob("*.yaml"))) + 7  # records, lists
                 + len(list((project / "site_templates" / "pages").glob("*.md"))))
    assert plugin.kept.unchanged >= generated - plugin.last_themed - 1
    assert not [r for r in caplog.records if "Page skipped" in r.getMessage()]
    build(project, tmp_path / "fresh", workers=0)
    assert files_of(site) == files_of(tmp_path / "fresh")

    # a hook that sees pages after the theme: every page is rendered into its file again
    add_hook(project, "post_page", "output, page, config")
    build(project, site, workers=2, serve=True)
    incident.write_text(text, encoding="utf-8")
    reads.clear()
    plugin = build(project, site, workers=2, serve=True)
    assert len([path for path in reads if path.parent == plugin.theme_cache.folder]) \
        == generated - plugin.last_themed
    build(project, tmp_path / "fresh-again", workers=0)
    assert files_of(site) == files_of(tmp_path / "fresh-again")


def test_a_preview_reads_every_pages_html_when_a_hook_sees_it(project, tmp_path,
                                                              fresh_plugin_state, monkeypatch):
    settings = add_hook(project, "page_content", "html, page, config, files")
    site = tmp_path / "site"
    build(project, site, workers=2, serve=True)
    config = load_config(str(settings), site_dir=str(site))
    plugin = config.plugins["factsheet"]
    plugin.workers, plugin.use_cache = 2, True
    mkdocs_build(config)
    seen = seen_by_hook(config)
    assert plugin.last_converted < 20
    assert len(seen) > 100 and all(html.strip() for html in seen)
    build(project, tmp_path / "fresh", workers=0)
    assert files_of(site) == files_of(tmp_path / "fresh")


def test_a_preview_writes_over_the_last_builds_files_and_leaves_a_clean_builds(
        project, tmp_path, fresh_plugin_state):
    site = tmp_path / "site"
    build(project, site, workers=2, serve=True)
    page = site / "incidents" / "green-zone-rockets-2020-12-20" / "index.html"
    unchanged = site / "sources" / "index.html"
    os.link(unchanged, tmp_path / "link")  # still linked to it if written over in place
    # what a record removed since, and a file where the build needs a folder, leave behind
    (site / "incidents" / "removed-record").mkdir()
    (site / "incidents" / "removed-record" / "index.html").write_text("old", encoding="utf-8")
    shutil.rmtree(page.parent)
    page.parent.write_text("in the way", encoding="utf-8")
    (site / ".kept-by-mkdocs").write_text("hidden", encoding="utf-8")
    incident = project / "facts" / "incidents" / "green-zone-rockets-2020-12-20.yaml"
    text = incident.read_text(encoding="utf-8")
    incident.write_text(text.replace("kind: attack", "kind: strike", 1), encoding="utf-8")

    plugin = build(project, site, workers=2, serve=True)

    assert plugin.last_kept > 100
    assert plugin.kept.unchanged > plugin.last_kept // 2  # found the same, not written again
    assert unchanged.stat().st_nlink == 2  # written over, not deleted and made again
    assert "<strong>Strike</strong>" in page.read_text(encoding="utf-8")
    build(project, tmp_path / "fresh", workers=0)
    kept = files_of(site)
    assert kept.pop(".kept-by-mkdocs") == b"hidden"  # MkDocs' cleaning leaves it too
    assert kept == files_of(tmp_path / "fresh")
    assert not (site / mkdocs_keep.STASH).exists()
    assert not (site / "incidents" / "removed-record").exists()


def test_a_dirty_preview_leaves_the_site_folder_to_mkdocs(project, tmp_path,
                                                          fresh_plugin_state):
    """`mkdocs serve --dirty` does not empty the folder, and writes only some pages: no
    file it did not write may be taken for a stale one and removed."""
    site = tmp_path / "site"
    build(project, site, workers=2, serve=True)
    (site / "kept-by-dirty.txt").write_text("mine", encoding="utf-8")
    # strict off: MkDocs warns that a dirty build may leave stale links
    config = load_config(str(project / "mkdocs.yml"), site_dir=str(site), strict=False)
    plugin = config.plugins["factsheet"]
    plugin.workers = 2
    plugin.on_startup(command="serve", dirty=True)
    mkdocs_build(config, dirty=True)
    assert plugin.last_kept == 0
    assert (site / "kept-by-dirty.txt").read_text(encoding="utf-8") == "mine"


def test_a_preview_compiles_each_template_once_and_again_when_it_changes(
        project, tmp_path, fresh_plugin_state, monkeypatch):
    class Counted(render.CompiledTemplates):
        def dump_bytecode(self, bucket):
            self.dumped.append(bucket.key)
            super().dump_bytecode(bucket)

    compiled = Counted()
    monkeypatch.setattr(render, "COMPILED", compiled)
    compiled.dumped = []
    build(project, tmp_path / "first", workers=2, serve=True)
    names = set(compiled.code)
    assert len(names) > 20  # the theme's templates and the fact sheet's
    compiled.dumped = []
    template = project / "site_templates" / "incident.md.j2"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "## Facts", "## Facts as recorded"), encoding="utf-8")
    build(project, tmp_path / "second", workers=2, serve=True)
    assert set(compiled.code) == names
    assert len(compiled.dumped) == 1  # the edited template alone was compiled again
    page = tmp_path / "second" / "incidents" / "green-zone-rockets-2020-12-20" / "index.html"
    assert "Facts as recorded" in page.read_text(encoding="utf-8")


def test_a_failed_preview_build_leaves_the_next_one_clean(project, tmp_path,
                                                         fresh_plugin_state):
    site = tmp_path / "site"
    build(project, site, workers=2, serve=True)
    incident = project / "facts" / "incidents" / "green-zone-rockets-2020-12-20.yaml"
    text = incident.read_text(encoding="utf-8")
    incident.write_text(text.replace("id: ", "id: Not An Id ", 1), encoding="utf-8")
    with pytest.raises((Abort, MkDocsBuildError)):
        build(project, site, workers=2, serve=True)
    assert (site / mkdocs_keep.STASH).is_dir()  # set aside, not yet put back
    incident.write_text(text, encoding="utf-8")
    build(project, site, workers=2, serve=True)
    build(project, tmp_path / "fresh", workers=0)
    assert files_of(site) == files_of(tmp_path / "fresh")


def test_the_search_plugin_rewrites_only_the_pages_it_can_change(
        project, tmp_path, fresh_plugin_state, monkeypatch):
    import re
    import types

    from material.plugins.search import plugin as search_plugin

    (project / "site_templates" / "pages" / "searchy.md").write_text(
        '# Searchy\n\n<p data-search-exclude="true">Left out of the index</p>\n',
        encoding="utf-8")
    build(project, tmp_path / "serial", workers=0)
    rewritten = []

    def sub(pattern, replacement, text, *args, **kwargs):
        rewritten.append(text)
        return re.sub(pattern, replacement, text, *args, **kwargs)

    monkeypatch.setattr(search_plugin, "re", types.SimpleNamespace(split=re.split, sub=sub))
    build(project, tmp_path / "parallel", workers=2)
    assert files_of(tmp_path / "serial") == files_of(tmp_path / "parallel")
    page = (tmp_path / "parallel" / "searchy" / "index.html").read_text(encoding="utf-8")
    assert "Left out of the index" in page and 'data-search-exclude="true"' not in page
    rewritten = [text for text in rewritten if text]  # the rest were given no HTML
    # this page, and the home and timeline pages, whose timeline figure is not indexed
    assert len(rewritten) == 3 and all("data-search-exclude" in text for text in rewritten)


def test_the_search_index_is_written_from_the_json_of_each_pages_entries(
        project, tmp_path, fresh_plugin_state, monkeypatch):
    from material.plugins.search.plugin import SearchIndex

    # a page of the docs folder, which MkDocs converts and the search plugin reads itself
    (project / "site_templates" / "assets" / "notes.md").write_text(
        "# Notes\n\nWritten by hand, read by MkDocs.\n", encoding="utf-8")
    settings = project / "mkdocs.yml"  # its edit link needs the repository's address
    settings.write_text(settings.read_text(encoding="utf-8")
                        + "repo_url: https://example.org/factsheet\n", encoding="utf-8")
    build(project, tmp_path / "serial", workers=0)
    encoded, generate = [], SearchIndex.generate_search_index
    monkeypatch.setattr(SearchIndex, "generate_search_index",
                        lambda self, prev: encoded.append(len(self.entries)) or generate(self, prev))
    build(project, tmp_path / "parallel", workers=2)
    assert encoded == [0]  # the plugin wrote its settings, and not one entry
    index = files_of(tmp_path / "parallel")["search/search_index.json"]
    assert index == files_of(tmp_path / "serial")["search/search_index.json"]
    assert b"Written by hand" in index and b"Green Zone" in index

    # `mkdocs serve --dirty` merges the last build's entries into the next: the plugin
    # gets every entry as an object
    search = load_config(str(project / "mkdocs.yml")).plugins["material/search"]
    monkeypatch.setattr(search, "is_dirty", True)
    monkeypatch.setattr(search, "search_index_prev", None)
    encoded.clear()
    build(project, tmp_path / "dirty", workers=2)
    assert len(encoded) == 1 and encoded[0] > 100
    assert files_of(tmp_path / "dirty")["search/search_index.json"] == index


def test_partials_rendered_once_per_folder_leave_every_page_as_mkdocs_writes_it(
        project, tmp_path, fresh_plugin_state, monkeypatch):
    build(project, tmp_path / "plain", workers=0)
    # the same serial build, its env giving the stand-ins that theme workers get
    navs, rendered = [], []
    on_nav, on_env = FactsheetPlugin.on_nav, FactsheetPlugin.on_env
    monkeypatch.setattr(FactsheetPlugin, "on_nav", lambda self, nav, config, files:
                        navs.append(nav) or on_nav(self, nav, config, files))

    def with_stand_ins(self, env, config, files):
        env = on_env(self, env, config, files)
        mkdocs_theme.render_partials_once(env, mkdocs_theme.link_targets(config, navs[-1]))
        return env

    monkeypatch.setattr(FactsheetPlugin, "on_env", with_stand_ins)
    root_render_func = mkdocs_theme.RenderedOnce.root_render_func

    def counted(self, context):
        key = self.key_of(context)
        rendered.append((self.template.name, key, key is not None and key in self.kept))
        return root_render_func(self, context)

    monkeypatch.setattr(mkdocs_theme.RenderedOnce, "root_render_func", counted)
    block_once, blocks = mkdocs_theme._block_once, []

    def block_counted(block, key_of):
        render = block_once(block, key_of)
        return lambda context: blocks.append(key_of(context)) or render(context)

    monkeypatch.setattr(mkdocs_theme, "_block_once", block_counted)
    page_folder, folders = mkdocs_theme.page_folder, []
    monkeypatch.setattr(mkdocs_theme, "page_folder",
                        lambda *args: folders.append(args[0]) or page_folder(*args))
    build(project, tmp_path / "once", workers=0)
    assert files_of(tmp_path / "once") == files_of(tmp_path / "plain")
    # each page's folder worked out once, for its nav, tabs, logo and config block
    pages = [page for page in folders if page is not None]  # None: the 404 page
    assert len(pages) > 90 and len(pages) == len({id(page) for page in pages})
    nav = [(key, kept) for name, key, kept in rendered if name == "partials/nav.html"]
    # base.html's config block, like the nav: one render for each folder's pages
    assert len(blocks) == len(nav) and set(blocks) == {key for key, kept in nav}
    assert len(nav) > 90
    assert {key for key, kept in nav} >= {("incidents",), ("actors",), ("sources",), None}
    assert sum(kept for key, kept in nav) > 80  # rendered once per folder, then kept
    assert {kept for name, key, kept in rendered if name == "partials/search.html"} == \
        {False, True}


def test_a_page_in_the_nav_or_holding_a_link_target_gets_its_own_partials(project):
    config = load_config(str(project / "mkdocs.yml"))
    nav = types.SimpleNamespace(pages=[], items=[], homepage=None)
    page = types.SimpleNamespace(parent=None, url="incidents/a/")
    sibling = types.SimpleNamespace(parent=None, url="incidents/b/")
    targets = frozenset({"", "incidents/", "disputed/", "incidents/b/part/"})
    assert mkdocs_theme.page_folder(page, nav, targets) == ("incidents",)
    assert mkdocs_theme.page_folder(sibling, nav, targets) is None  # a target inside it
    assert mkdocs_theme.page_folder(types.SimpleNamespace(parent=None, url="x.html"), nav,
                                    targets) is None  # the site's root folder
    assert mkdocs_theme.page_folder(types.SimpleNamespace(parent=None, url="a/b.html"), nav,
                                    targets) == ()
    in_a_section = types.SimpleNamespace(parent=object(), url="incidents/c/")
    assert mkdocs_theme.page_folder(in_a_section, nav, targets) is None
    nav.pages = [page]
    assert mkdocs_theme.page_folder(page, nav, targets) is None
    env = config.theme.get_env()
    assert mkdocs_theme.material_partials(env)


def test_the_installed_material_partials_are_the_ones_rendered_once(tmp_path):
    # Fails when mkdocs-material changes them: check that PER_FOLDER, ONCE and
    # PER_FOLDER_BLOCKS still depend on nothing else, then add the new digest to
    # PARTIALS_SHA256.  Until then every page renders them.
    config = load_config(str(REPO / "mkdocs.yml"))
    assert mkdocs_theme.material_partials(config.theme.get_env())
    (tmp_path / "overrides" / "partials").mkdir(parents=True)
    (tmp_path / "overrides" / "partials" / "tabs.html").write_text("<nav></nav>")
    config.theme.dirs.insert(0, str(tmp_path / "overrides"))
    assert not mkdocs_theme.material_partials(config.theme.get_env())  # a custom_dir's own


def test_a_theme_worker_works_out_each_translation_once(tmp_path):
    config = load_config(str(REPO / "mkdocs.yml"))
    env = config.theme.get_env()
    mkdocs_theme.remember_translations(env, config)
    english = env.get_template("partials/languages/en.html").module
    assert isinstance(english.t, mkdocs_theme._Remembered)
    asked, macro = [], english.t.macro
    english.t.macro = lambda key: asked.append(key) or macro(key)
    page = env.from_string(
        '{% import "partials/language.html" as lang with context %}'
        '{{ lang.t("action.edit") }}|{{ lang.t("search.placeholder") }}|'
        '{{ lang.t("action.edit") }}|{{ lang.t("no.such.phrase") }}')
    assert page.render(config=config) == "Edit this page|Search|Edit this page|no.such.phrase"
    # the theme's import of the language finds the phrases worked out already
    assert page.render(config=config) == "Edit this page|Search|Edit this page|no.such.phrase"
    assert asked == ["action.edit", "search.placeholder", "no.such.phrase"]
    # a custom_dir's own language file is called every time
    languages = tmp_path / "overrides" / "partials" / "languages"
    languages.mkdir(parents=True)
    (languages / "en.html").write_text('{% macro t(key) %}{{ key | upper }}{% endmacro %}')
    config.theme.dirs.insert(0, str(tmp_path / "overrides"))
    env = config.theme.get_env()
    mkdocs_theme.remember_translations(env, config)
    assert isinstance(env.get_template("partials/languages/en.html").module.t,
                      jinja2.runtime.Macro)


def test_a_theme_worker_looks_templates_up_without_reading_their_folder(tmp_path):
    (tmp_path / "main.html").write_text("{{ greeting }}, {{ name }}")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)))
    env.globals.update(greeting="Hello", name="everyone")
    template = env.get_template("main.html", globals={"name": "reader"})
    mkdocs_theme.quick_lookups(env)
    assert type(env.cache) is dict and not env.auto_reload
    (tmp_path / "main.html").write_text("two")  # not looked at again within a build
    os.utime(tmp_path / "main.html", (1, 1))
    assert env.get_template("main.html") is template
    # its globals one plain dict, the template's own over the environment's
    assert type(template.globals) is dict
    assert env.get_template("main.html").render() == "Hello, reader"


def test_the_theme_rendered_in_workers_is_byte_identical_and_scanned_as_written(
        project, tmp_path, fresh_plugin_state):
    scanned = {}

    def keep_scans(site, tree, result, scans):
        scanned.update(scans)
        return check_built_site(site, tree, result, scans)

    report = build_site(project, site_dir=tmp_path / "parallel", post_checks=(keep_scans,))
    assert report.problems == []
    build(project, tmp_path / "serial", workers=0)
    serial, parallel = files_of(tmp_path / "serial"), files_of(tmp_path / "parallel")
    assert serial == parallel
    assert len(scanned) == report.pages  # every generated page was scanned in a worker
    for page, scan in scanned.items():
        assert scan == scan_page(parallel[page]), page


def test_a_preview_replaces_its_workers_more_often_than_a_build(project, tmp_path,
                                                              fresh_plugin_state,
                                                              monkeypatch):
    quotas, fork = [], parallel._Workers._fork
    monkeypatch.setattr(parallel._Workers, "_fork",
                        lambda self: quotas.append(parallel.SHARES_PER_WORKER) or fork(self))
    build(project, tmp_path / "site", workers=2)
    assert quotas and set(quotas) == {parallel.SHARES_PER_WORKER} == {16}
    quotas.clear()
    build(project, tmp_path / "preview", workers=2, serve=True)
    assert quotas and set(quotas) == {parallel.PREVIEW_SHARES_PER_WORKER} == {8}
    assert parallel.SHARES_PER_WORKER == 16  # as it was, once the preview's build ended


def test_workers_replaced_during_the_build_give_the_same_site(project, tmp_path,
                                                              fresh_plugin_state, monkeypatch):
    """Workers are forked again every few shares (to bound their memory); a replacement
    forked while MkDocs writes pages must render as the first ones did, not wait on them."""
    build(project, tmp_path / "serial", workers=0)
    monkeypatch.setattr(parallel, "SHARES_PER_WORKER", 1)
    monkeypatch.setattr(mkdocs_pages, "PAGES_PER_SHARE", 3)

    def hung(signum, frame):
        raise TimeoutError("the build hung")

    signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)
    try:
        build(project, tmp_path / "replaced", workers=2)
    finally:
        signal.alarm(0)
    assert files_of(tmp_path / "serial") == files_of(tmp_path / "replaced")


def test_a_page_the_theme_fails_on_in_a_worker_fails_the_build_naming_it(
        project, tmp_path, fresh_plugin_state, monkeypatch, caplog):
    render_theme = mkdocs_theme._render_theme

    def failing(page, *args):
        if page.file.src_uri == "incidents/green-zone-rockets-2020-12-20.md":
            raise ValueError("the template broke")
        return render_theme(page, *args)

    monkeypatch.setattr(mkdocs_theme, "_render_theme", failing)
    with pytest.raises((Abort, MkDocsBuildError)):
        build(project, tmp_path / "site", workers=2)
    errors = "\n".join(r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    assert "Error building page 'incidents/green-zone-rockets-2020-12-20.md'" in errors
    assert "ValueError('the template broke')" in errors


def test_a_warning_raised_in_a_worker_fails_the_strict_build(project, tmp_path,
                                                            fresh_plugin_state, caplog):
    (project / "site_templates" / "pages" / "broken.md").write_text(
        "# Broken\n\nSee [the missing page](missing.md).\n", encoding="utf-8")
    with pytest.raises((Abort, MkDocsBuildError)):
        build(project, tmp_path / "site", workers=2)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("'broken.md' contains a link 'missing.md'" in w for w in warnings), warnings


def test_rendering_in_workers_gives_the_same_tree_as_one_process(monkeypatch):
    from generator import render
    from generator.check import check_project
    from generator.site import render_checked

    result = check_project(REPO)
    monkeypatch.setattr(render, "MIN_PAGES_PER_WORKER", 10**9)
    serial = render_checked(result, REPO / "site_templates", "Fact sheet")
    monkeypatch.setattr(render, "MIN_PAGES_PER_WORKER", 1)
    parallel = render_checked(result, REPO / "site_templates", "Fact sheet")
    assert list(parallel) == list(serial)
    assert parallel == serial


def test_the_data_files_are_made_in_another_process_when_workers_render(monkeypatch):
    from generator import render
    from generator.check import check_project
    from generator.render import RenderMemo
    from generator.site import render_checked

    data_files = render.export.data_files
    monkeypatch.setattr(render.export, "data_files", lambda records, memo=None: {
        **data_files(records, memo), "data/pid": str(os.getpid()).encode()})
    result = check_project(REPO)
    monkeypatch.setattr(render, "MIN_PAGES_PER_WORKER", 10**9)
    serial = render_checked(result, REPO / "site_templates", "Fact sheet")
    assert serial.pop("data/pid").content == str(os.getpid()).encode()
    monkeypatch.setattr(render, "MIN_PAGES_PER_WORKER", 1)
    parallel = render_checked(result, REPO / "site_templates", "Fact sheet")
    assert int(parallel.pop("data/pid").content) != os.getpid()
    assert parallel == serial
    # a preview keeps each record's part of the data files: they are made here
    preview = render_checked(result, REPO / "site_templates", "Fact sheet", memo=RenderMemo())
    assert preview.pop("data/pid").content == str(os.getpid()).encode()
    assert preview == serial


def test_the_render_forks_one_worker_per_core_whatever_the_shares(monkeypatch):
    """A fresh worker copies again the memory the records are on: render workers are
    not replaced, whatever the builds' quota of shares per worker."""
    from generator import render
    from generator.check import check_project
    from generator.site import render_checked

    forks, fork = [], parallel._Workers._fork
    monkeypatch.setattr(parallel._Workers, "_fork", lambda self: forks.append(1) or fork(self))
    monkeypatch.setattr(parallel, "SHARES_PER_WORKER", 1)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(render, "MIN_PAGES_PER_WORKER", 1)
    monkeypatch.setattr(render, "PAGES_PER_SHARE", 2)
    result = check_project(REPO)
    tree = render_checked(result, REPO / "site_templates", "Fact sheet")
    assert sum(1 for path in tree if path.endswith(".md")) > 20  # shares of two pages
    assert len(forks) == 1 + 2  # the data files' process, and the two workers


def test_the_pages_listing_every_record_are_shared_out_first_the_longest_first(monkeypatch):
    from generator import parallel, render
    from generator.check import check_project
    from generator.site import render_checked

    seen: dict[str, list] = {}
    render_all, fork_map = render._render_all, parallel.fork_map

    def spy_render_all(jobs, *args, **kwargs):
        seen["jobs"] = [job[0] for job in jobs]
        return render_all(jobs, *args, **kwargs)

    def spy_fork_map(work, shares, *args, **kwargs):
        seen["shares"] = [[seen["jobs"][i] for i in share] for share in shares]
        return fork_map(work, shares, *args, **kwargs)

    monkeypatch.setattr(render, "_render_all", spy_render_all)
    monkeypatch.setattr(parallel, "fork_map", spy_fork_map)
    monkeypatch.setattr(render, "MIN_PAGES_PER_WORKER", 1)
    tree = render_checked(check_project(REPO), REPO / "site_templates", "Fact sheet")
    listings = [[path] for path in render.LISTINGS]
    assert seen["shares"][:len(listings)] == listings
    assert all(len(share) > 1 for share in seen["shares"][len(listings):-1])
    assert sorted(path for share in seen["shares"] for path in share) == sorted(
        path for path in tree if path.endswith(".md"))
    assert list(tree)[:2] == ["index.md", "incidents/index.md"]  # the tree keeps its order


def test_setting_inline_patterns_aside_leaves_every_file_as_mkdocs_writes_it(
        project, tmp_path, fresh_plugin_state, monkeypatch):
    calls = []
    set_aside = markdown_prune._Aside.set_aside
    monkeypatch.setattr(markdown_prune._Aside, "set_aside",
                        lambda self, text: calls.append(1) or set_aside(self, text))
    build(project, tmp_path / "pruned", workers=0)
    assert len(calls) > 50  # every page went through it
    monkeypatch.setattr(FactsheetPlugin, "on_config", lambda self, config: config)
    calls.clear()
    build(project, tmp_path / "plain", workers=0)
    assert calls == []
    assert files_of(tmp_path / "pruned") == files_of(tmp_path / "plain")


def nav_pages(nav) -> list[str]:
    """The Markdown pages a nav setting names."""
    if isinstance(nav, str):
        return [nav]
    items = nav.values() if isinstance(nav, dict) else nav
    return [page for item in items for page in nav_pages(item)]


def test_a_preview_build_leaves_its_pages_to_reference_counting(project, tmp_path,
                                                               fresh_plugin_state, monkeypatch):
    """A preview's pages must not wait for the cycle collector: thousands of them would
    stay in memory until the next full collection, on top of the next build.  (The few
    pages of the navigation refer to each other, as previous and next.)"""
    pages = []
    apply = mkdocs_pages.apply
    monkeypatch.setattr(mkdocs_pages, "apply", lambda page, rendered, files, unread=None: (
        pages.append(weakref.ref(page)), apply(page, rendered, files, unread))[1])
    gc.collect()
    gc.disable()
    try:
        build(project, tmp_path / "site", workers=2, serve=True)
        assert len(pages) > 50
        alive = [ref() for ref in pages if ref() is not None]
        assert alive and {page.file.src_uri for page in alive} <= set(
            nav_pages(load_config(str(project / "mkdocs.yml"))["nav"]))
        # those hold their text no longer: the index of every incident, on a large site
        assert all(page.content is None and page.markdown is None for page in alive)
        # nor is the search index (the text of every page) left in a cycle: the next
        # build's replaces it
        search = load_config(str(project / "mkdocs.yml")).plugins["material/search"]
        index = weakref.ref(search.search_index)
        build(project, tmp_path / "site", workers=2, serve=True)
        assert index() is None
    finally:
        gc.enable()


class Cycle:
    itself: Cycle


def test_a_preview_collects_what_each_build_left_and_walks_everything_every_few_builds(
        project, tmp_path, fresh_plugin_state):
    from generator.mkdocs_plugin import FULL_COLLECTION_EVERY

    plugin = build(project, tmp_path / "site", workers=0, serve=True)
    assert plugin.builds == 1 and gc.get_freeze_count() > 1000  # the caches, mostly
    # a cycle that ended among the objects frozen after the build
    cycle = Cycle()
    cycle.itself = cycle
    frozen_cycle = weakref.ref(cycle)
    del cycle
    gc.freeze()
    for _ in range(2, FULL_COLLECTION_EVERY):
        build(project, tmp_path / "site", workers=0, serve=True)
        assert frozen_cycle() is not None  # not walked
    build(project, tmp_path / "site", workers=0, serve=True)
    assert plugin.builds == FULL_COLLECTION_EVERY and frozen_cycle() is None


@pytest.mark.parametrize("workers, serve, paused", [(2, True, True), (0, True, False),
                                                    (2, False, False)])
def test_a_previews_build_pauses_the_collector_when_workers_make_its_pages(
        project, tmp_path, fresh_plugin_state, monkeypatch, workers, serve, paused):
    seen = []
    real = mkdocs_plugin.render_checked
    monkeypatch.setattr(mkdocs_plugin, "render_checked",
                        lambda *args: seen.append(gc.isenabled()) or real(*args))
    for _ in range(2):
        build(project, tmp_path / "site", workers=workers, serve=serve)
        assert gc.isenabled()
    assert seen == [not paused] * 2


def test_a_failed_preview_build_turns_the_collector_back_on(project, tmp_path,
                                                            fresh_plugin_state):
    build(project, tmp_path / "site", workers=2, serve=True)
    incident = project / "facts" / "incidents" / "green-zone-rockets-2020-12-20.yaml"
    incident.write_text("id: [", encoding="utf-8")
    with pytest.raises((Abort, MkDocsBuildError)):
        build(project, tmp_path / "site", workers=2, serve=True)
    assert gc.isenabled()


@pytest.mark.parametrize("forked", [True, False])
def test_the_collector_is_off_while_workers_build_and_on_again_after(
        project, tmp_path, fresh_plugin_state, monkeypatch, forked):
    from generator import build as build_module

    seen = []
    real = build_module.mkdocs_build
    monkeypatch.setattr(build_module, "mkdocs_build",
                        lambda config: seen.append((gc.isenabled(), gc.get_threshold()[0]))
                        or real(config))
    monkeypatch.setattr(parallel, "can_fork", lambda: forked)
    threshold = gc.get_threshold()
    build_site(project, site_dir=tmp_path / "site", strict=True)
    # built here, Python-Markdown's instances are cycles: the collector runs, less often
    assert seen == ([(False, threshold[0])] if forked else [(True, 50_000)])
    assert gc.isenabled() and gc.get_threshold() == threshold


def test_the_links_learned_are_those_resolved_since_in_order():
    target = types.SimpleNamespace(src_uri="sources/s1.md")
    known = {("incidents", (), f"../sources/s{i}.md"): (target, ["sources", f"s{i}"], f"r{i}")
             for i in range(5)}
    assert [key[2] for key, *_ in mkdocs_pages._PageLinks.learned(known, 2)] == [
        "../sources/s2.md", "../sources/s3.md", "../sources/s4.md"]
    assert mkdocs_pages._PageLinks.learned(known, 5) == []
    assert mkdocs_pages._PageLinks.learned(known, 4) == [
        (("incidents", (), "../sources/s4.md"), "sources/s1.md", ["sources", "s4"], "r4")]


def test_a_preview_renders_the_few_pages_an_edit_reaches_in_its_own_process(monkeypatch):
    """Forking workers from a preview's large process costs more than the pages that
    list every record take to render; a full render still forks."""
    from generator import render
    from generator.check import check_project
    from generator.render import RenderMemo
    from generator.site import render_checked

    forks, fork = [], parallel._Workers._fork
    monkeypatch.setattr(parallel._Workers, "_fork", lambda self: forks.append(1) or fork(self))
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    result = check_project(REPO)
    monkeypatch.setattr(render, "MIN_PAGES_PER_WORKER", render._page_work(result.records) // 2)
    memo = RenderMemo()
    first = render_checked(result, REPO / "site_templates", "Fact sheet", memo=memo)
    assert len(forks) == 2  # every page: two workers
    forks.clear()
    again = render_checked(result, REPO / "site_templates", "Fact sheet", memo=memo)
    assert memo.reused == sum(1 for path in first if path.count("/") == 1
                              and not path.endswith("index.md") and path.endswith(".md"))
    assert forks == []  # the listings and nothing else: here
    assert again == first
