"""Render checked records into a tree of Markdown pages and data files: a pure function.

``render_site`` takes the result of :func:`generator.check.check_project` and the
templates folder and returns ``{path: Output}``; it reads the templates and nothing
else, and writes nothing.  MkDocs (see :mod:`generator.mkdocs_plugin`) is one way to
turn the tree into HTML; any tool that reads Markdown with footnotes and attribute
lists can build the same tree.

Everything that comes from YAML is data, never markup: the Jinja environment escapes
every ``{{ value }}`` for Markdown *and* HTML unless Python code marked it as markup.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache, partial
from pathlib import Path

import jinja2
import jinja2.compiler
from markupsafe import Markup

from . import export, parallel, timeline, views
from .check import CheckResult, fewer_collections
from .jinja_calls import QuickCallContext
from .model import (ACTOR_FIELDS, ACTOR_KINDS, INCIDENT_FIELDS, KINDS, Incident, Records,
                    Source)
from .validate import references

# What each character Markdown or HTML would read is written as.  Replaced one character
# after another, the backslash first and '&' before the references that hold one: str.replace
# finds a character in C, where a translation table looks each character up in a dict
# (half the time of escaping 148,000 texts at 5,000 incidents).
ESCAPED_CHARS = {
    **{c: "\\" + c for c in "\\`*_{}[]()|#"},
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
}
_REPLACED = tuple(ESCAPED_CHARS.items())
_ANY_ESCAPED = re.compile("[" + re.escape("".join(ESCAPED_CHARS)) + "]")
# characters Python-Markdown does not unescape: written as character references instead
_NOT_ESCAPABLE = {char: f"&#{ord(char)};" for char in ":=~"}
_LINE_START = re.compile(r"^(?:[-+!:=~]|\d+(?=[.)]))")


def md_escape(value: object) -> Markup:
    """Text that Markdown and HTML show literally, on one line, whatever it contains."""
    if type(value) is str:
        escaped = _ESCAPED_TEXT.get(value)
        return escaped if escaped is not None else _escape_text(value)
    try:
        return _md_escape_cached(value)
    except TypeError:  # a value that cannot be a cache key
        return _md_escape(value)


def _md_escape(value: object) -> Markup:
    text = " ".join(str(value).split())  # runs of white space as one space, none at the ends
    if _ANY_ESCAPED.search(text):  # a third of the texts
        for char, escaped in _REPLACED:
            if char in text:
                text = text.replace(char, escaped)
    # a leading '-', '+' or '1.' would start a list wherever a template puts the text, a
    # leading '=' a heading, '~' a fence
    match = _LINE_START.match(text)
    if match:
        end = match.end()
        if text[:end].isdigit():
            text = text[:end] + "\\" + text[end:]
        elif text[0] in _NOT_ESCAPABLE:  # Python-Markdown would show the backslash
            text = _NOT_ESCAPABLE[text[0]] + text[1:]
        else:
            text = "\\" + text
    return Markup(text)


# Names, labels, dates and quotes recur on many pages; each is escaped once.  Strings,
# nearly every value a template shows, are looked up in a plain dict: a million times at
# 5,000 incidents, where lru_cache's typed key cost a tenth of rendering the pages.
_ESCAPED_TEXT: dict[str, Markup] = {}
_ESCAPED_TEXT_MAX = 1 << 18
_md_escape_cached = lru_cache(maxsize=1 << 12, typed=True)(_md_escape)


def _escape_text(text: str) -> Markup:
    """``_md_escape(text)``, kept for the next time (all forgotten past the bound)."""
    if len(_ESCAPED_TEXT) >= _ESCAPED_TEXT_MAX:
        _ESCAPED_TEXT.clear()
    escaped = _ESCAPED_TEXT[text] = _md_escape(text)
    return escaped


def _finalize(value: object) -> object:
    if type(value) is str:
        escaped = _ESCAPED_TEXT.get(value)
        return escaped if escaped is not None else _escape_text(value)
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return md_escape(value)


_URL_UNSAFE = str.maketrans({c: f"%{ord(c):02X}" for c in " ()<>\"'`\\[]{}|^"})


def link_target(url: str) -> Markup:
    """A URL made safe to stand in a Markdown link's parentheses."""
    return Markup(url.translate(_URL_UNSAFE))


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once for every build a process makes (a preview makes one per
    edit, each with new Jinja environments): about 0.35 s a rebuild for the fact-sheet
    and theme templates.  Jinja compiles a template again when its source has changed."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # reset by Jinja if the checksum differs

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledTemplates()


class _EscapedByFinalize(jinja2.compiler.CodeGenerator):
    """Writes ``{{ value }}`` as ``environment.finalize(value)`` where Jinja writes
    ``escape(environment.finalize(value))``.

    Our ``finalize`` already returns markup, every value escaped for Markdown and HTML:
    the second escape only copied each string into a new ``Markup`` (1.2 million times
    at 5,000 incidents, an eighth of rendering).  Any other output keeps Jinja's own code:
    with autoescaping off or switched at run time, or another finalize.
    """

    def _output_child_pre(self, node, frame, finalize) -> None:
        if (frame.eval_ctx.autoescape and not frame.eval_ctx.volatile
                and self.environment.finalize is _finalize
                and finalize.src == "environment.finalize("):
            self.write("(environment.finalize(")  # closed by _output_child_post's "))"
            return
        super()._output_child_pre(node, frame, finalize)


def make_environment(templates: Path) -> jinja2.Environment:
    """The Jinja environment for a templates folder; escaping is on by default.

    It lives for one render, which reads each template once: Jinja's ``auto_reload``
    would look at each template's file again on every page that uses it (two system
    calls a page).
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        auto_reload=False,
        bytecode_cache=COMPILED,
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["url"] = link_target
    env.filters["escape_md"] = md_escape
    env.code_generator_class = _EscapedByFinalize
    env.context_class = QuickCallContext
    return env


@dataclass(frozen=True, slots=True)
class Output:
    """One file of the rendered tree, and the fact file it was made from, if any."""

    content: str | bytes
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class SiteOptions:
    """Settings of a rendering that do not come from the records."""

    site_name: str = "Fact sheet"
    build_date: date = date(1970, 1, 1)
    repo_url: str | None = None


Tree = dict[str, Output]


Key = tuple[str, str]  # (kind, id) of a record


@dataclass(slots=True)
class RenderMemo:
    """What a preview's last render made, so that the next renders only what an edit changes.

    A record's page shows the record, the records it names (a source's outlet, an
    actor's name, a related incident's title), the records that name it (the facts that
    cite a source, the statements about an incident) and the records those name (the
    speaker of such a statement): a page is rendered again when any of these changed.
    ``tests/test_render_memo.py`` changes each record of the shipped project in turn and
    checks that no other page's Markdown changes.  The pages listing every record, the
    data files and the pages of templates/pages are always rendered again, and so is
    everything when the templates, the settings or an article changed.
    """

    stamp: tuple | None = None  # the templates' content, the settings and the articles
    records: dict[Key, object] = field(default_factory=dict)  # as rendered last
    names: dict[Key, frozenset[Key]] = field(default_factory=dict)  # the ids each names
    pages: dict[str, str] = field(default_factory=dict)  # record pages' Markdown
    data: export.DataMemo = field(default_factory=dict)  # records' shares of the data files
    index: views.IndexMemo = field(default_factory=dict)  # records' parts of the index
    reused: int = 0  # pages the last render took from here (for the tests)


def render_site(result: CheckResult, templates: Path, options: SiteOptions,
                memo: RenderMemo | None = None) -> Tree:
    """Render every page and data file of the site from checked records.

    With a ``memo`` (a preview's, kept between its rebuilds), record pages no change
    reaches are taken from the last render instead of being rendered again.
    """
    with fewer_collections(), _data_files_aside(result.records, memo) as making_data:
        return _render_site(result, templates, options, memo, making_data)


@contextmanager
def _data_files_aside(records: Records, memo: RenderMemo | None):
    """The data files made in a forked process, started now, when workers render the
    pages: yields it, or None for the data files to be made here.

    It runs while this process builds the index and lists the pages, a second of work
    at 5,000 incidents that no worker shares (the data files took 0.5 s, the index and
    the list 0.5-0.6 s), instead of while both cores render.  A preview (with a memo)
    makes them here: it keeps each record's share of them in the memo.
    """
    if memo is not None or not parallel.can_fork() or _render_workers(_page_work(records)) < 2:
        yield None
        return
    later = parallel.Later(lambda: export.data_files(records))
    try:
        yield later
    finally:
        later.close()


def _record_keys(records: Records) -> dict[Key, object]:
    keys: dict[Key, object] = {}
    for kind in KINDS:
        for ident, record in getattr(records, kind).items():
            keys[kind, ident] = record
    return keys


def _templates_stamp(templates: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(templates.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(templates).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _corpus_stamp(result: CheckResult) -> str:
    """The articles' text, which places each quote on its source's page."""
    digest = hashlib.sha256()
    for ident, text in sorted(result.corpus.raw.items()):
        digest.update(f"{ident}\0{len(text)}\0".encode())
        digest.update(text.encode())
    return digest.hexdigest()


def _stale(memo: RenderMemo, stamp: tuple, keys: dict[Key, object],
           names: dict[Key, frozenset[Key]]) -> set[Key] | None:
    """The records whose pages must be rendered again; None for every page."""
    if memo.stamp != stamp:
        return None
    changed = {key for key in keys.keys() | memo.records.keys()
               if not _same(memo.records.get(key), keys.get(key))}
    named_by: dict[Key, set[Key]] = defaultdict(set)  # the records that name each, now or before
    for table in (memo.names, names):
        for key, named in table.items():
            for target in named:
                named_by[target].add(key)
    empty: frozenset[Key] = frozenset()
    stale = set(changed)
    for key in changed:
        stale |= memo.names.get(key, empty) | names.get(key, empty)
        for naming in named_by.get(key, ()):
            stale.add(naming)
            stale |= memo.names.get(naming, empty) | names.get(naming, empty)
    return stale


def _names(keys: dict[Key, object], memo: RenderMemo) -> dict[Key, frozenset[Key]]:
    """The records each record names (a source names none).  A record the check took
    from its cache (the same object as last time) names what it named then: working
    them all out again took 0.07 s of every preview at 5,000 incidents."""
    names: dict[Key, frozenset[Key]] = {}
    for key, record in keys.items():
        if key[0] == "sources":
            continue
        named = memo.names.get(key) if memo.records.get(key) is record else None
        if named is None:
            named = frozenset((kind, ident) for kind, ident, _, _ in references(record))
        names[key] = named
    return names


def _same(old: object, new: object) -> bool:
    return old is new or (old is not None and new is not None and old == new)


def _render_site(result: CheckResult, templates: Path, options: SiteOptions,
                 memo: RenderMemo | None, making_data: parallel.Later | None) -> Tree:
    records = result.records
    stale = None  # the records whose pages are rendered again; None: every page
    if memo is not None:
        keys = _record_keys(records)
        names = _names(keys, memo)
        stamp = (_templates_stamp(templates), options, _corpus_stamp(result))
        stale = _stale(memo, stamp, keys, names)
    positions = {key: match.start for key, match in result.corpus.matches.items()}
    parts = views.index_parts(records, memo.index if memo else None, stale)
    index = views.build_index(records, positions, parts)
    env = make_environment(templates)
    chronology = views.incidents_by_date(records)
    common = {
        "records": records,
        "index": index,
        "site": options,
        "chronology": chronology,
        "incident_fields": INCIDENT_FIELDS,
        "actor_fields": ACTOR_FIELDS,
        "actor_kinds": ACTOR_KINDS,
        "display_value": partial(views.display_value, records=records),
        "timeline_svg": Markup(timeline.svg(chronology, index)),
        "statements_by_date": sorted(
            records.statements.values(),
            key=lambda s: (s.date.value.start if s.date.value else date.max, s.id)),
        "citation_count": sum(1 for _ in records.all_citations()),
        "disputed_fields": Counter(incident.id for incident, _ in index.disputes),
        "dispute_sources": _dispute_sources,
        "dispute_rows": _dispute_rows,
        "cited_article": _once_per_source(env, "article"),
    }
    tree: Tree = {}
    jobs: list[tuple[str, str, str | None, dict]] = []

    order: list[tuple[str, str | None]] = []  # every page, rendered or kept

    def page(path: str, template: str, origin: str | None = None, **extra) -> None:
        jobs.append((path, template, origin, extra))
        order.append((path, origin))

    def render_page(path: str, template: str, extra: dict) -> str:
        notes = views.Footnotes(records, path)

        def fields_of(record) -> list[views.FieldView]:
            fields = INCIDENT_FIELDS if isinstance(record, Incident) else ACTOR_FIELDS
            return views.field_views(record.claims, fields, notes)

        def href(target: str) -> Markup:
            return Markup(views.relative(path, target))  # built from validated ids only

        context = {**common, **extra, "page": path, "notes": notes, "href": href,
                   "fields_of": fields_of}
        return env.get_template(template).render(context)

    page("index.md", "home.md.j2")
    page("incidents/index.md", "incidents.md.j2")
    page("actors/index.md", "actors.md.j2", groups=_actor_groups(records))
    page("statements/index.md", "statements.md.j2")
    page("sources/index.md", "sources.md.j2")
    page("disputed.md", "disputed.md.j2")
    page("timeline.md", "timeline.md.j2")
    kept: dict[str, str] = {}  # record pages taken from the memo
    record_paths: list[str] = []

    def record_page(kind: str, record, template: str, **extra) -> None:
        path = views.page_path(kind, record.id)
        record_paths.append(path)
        if stale is not None and memo is not None and (kind, record.id) not in stale \
                and path in memo.pages:
            kept[path] = memo.pages[path]
            order.append((path, record.loc.path))
            return
        if kind == "incidents":
            extra["jsonld"] = Markup(export.incident_jsonld(record, records))
        page(path, template, record.loc.path, **extra)

    for incident in chronology:
        record_page("incidents", incident, "incident.md.j2", incident=incident)
    for actor in records.actors.values():
        record_page("actors", actor, "actor.md.j2", actor=actor)
    for statement in records.statements.values():
        record_page("statements", statement, "statement.md.j2", statement=statement)
    for source in records.sources.values():
        record_page("sources", source, "source.md.j2", source=source)
    pages_dir = templates / "pages"
    if pages_dir.is_dir():
        for static in sorted(pages_dir.glob("*.md")):
            page(static.name, f"pages/{static.name}")
    for template in sorted({job[1] for job in jobs}):
        env.get_template(template)  # compiled once, before any worker starts
    rank = {path: at for at, path in enumerate(LISTINGS)}
    jobs.sort(key=lambda job: rank.get(job[0], len(rank)))  # stable: the rest in order
    pages = _render_all(jobs, render_page, None if making_data else
                        lambda: export.data_files(records, memo.data if memo else None),
                        alone=sum(1 for job in jobs if job[0] in rank))
    data = making_data.result() if making_data else pages.data
    made = {job[0]: content for job, content in zip(jobs, pages.contents)}
    for path, origin in order:
        tree[path] = Output(kept[path] if path in kept else made[path], origin)
    for path, content in data.items():
        tree[path] = Output(content)
    if memo is not None:
        memo.stamp, memo.records, memo.names, memo.reused = stamp, keys, names, len(kept)
        memo.index = parts
        memo.pages = {path: tree[path].content for path in record_paths}
    return tree


# Below this many pages per process, forking costs more than it saves.
MIN_PAGES_PER_WORKER = 300
PAGES_PER_SHARE = 200
# The pages that list every record, the longest first (at 5,000 incidents, 0.12 s for
# the disputed facts down to 0.004 s for the actors): rendered first, each in a share of
# its own, so that no worker is left with one of them while the other has nothing to do.
LISTINGS = ("disputed.md", "incidents/index.md", "timeline.md", "statements/index.md",
            "sources/index.md", "actors/index.md")


@dataclass(slots=True)
class _Rendered:
    contents: list[str]
    data: dict[str, bytes] | None  # None when made elsewhere


def _page_work(records: Records) -> int:
    """About how many pages' worth of rendering the records make."""
    return sum(len(getattr(records, kind)) for kind in KINDS)


def _render_workers(work: int) -> int:
    return min(parallel.cores(), work // MIN_PAGES_PER_WORKER)


def _render_all(jobs: list, render_page, data_files, alone: int = 0) -> _Rendered:
    """Render every page, in forked processes on every core when there are many pages;
    ``data_files``, if given, runs here meanwhile.  The first ``alone`` jobs are shared
    out one by one.

    A preview that renders the pages listing every record and the few an edit reaches
    renders them here: at 5,000 incidents they take 0.22 s, and forking two workers
    from a preview's process (700 MB, whose memory both sides then copy as they write
    to it) made its rebuilds 0.1-0.2 s slower (at 500 incidents, 0.37-0.42 s against
    0.31-0.32 s).
    """
    def render_share(indices: range) -> list[str | None]:
        out: list[str | None] = []
        for i in indices:
            path, template, _origin, extra = jobs[i]
            try:
                out.append(render_page(path, template, extra))
            except Exception:  # noqa: BLE001 - rendered again below, where it is raised
                out.append(None)
        return out

    workers = _render_workers(len(jobs))
    # a few big pages are shared out one or two at a time, many small ones in hundreds
    size = max(1, min(PAGES_PER_SHARE, len(jobs) // (4 * max(workers, 1))))
    shares = [range(i, i + 1) for i in range(alone)]
    shares += [range(i, min(i + size, len(jobs))) for i in range(alone, len(jobs), size)]
    # each worker does all the shares it takes: a fresh fork copies again every page of
    # memory the records are on as it reads them (0.2-0.3 s of the render at 5,000
    # incidents); what a worker adds is freed when the render ends, before MkDocs' peak
    results, data = parallel.fork_map(render_share, shares, workers, meanwhile=data_files,
                                      quota=len(shares))
    contents = [content for share in results for content in share]
    for i, content in enumerate(contents):
        if content is None:  # a page that failed: render it here so its error is raised
            path, template, _origin, extra = jobs[i]
            contents[i] = render_page(path, template, extra)
    return _Rendered(contents, data)


def _once_per_source(env: jinja2.Environment, macro: str):
    """A macro of ``_macros.md.j2`` that depends on a source alone, rendered once per
    source in each process (the footnotes of a large site repeat each source's many times)."""
    made: dict[str, Markup] = {}

    def render(source: Source) -> Markup:
        text = made.get(source.id)
        if text is None:
            macros = env.get_template("_macros.md.j2").module
            text = made[source.id] = getattr(macros, macro)(source)
        return text

    return render


@dataclass(slots=True)
class DisputeCell:
    """Where one source gives one version of a disputed fact: its notes, and the names of
    whom it attributes the version to (once each, whatever their case)."""

    notes: list[views.Note]
    voices: list[str]


def _dispute_rows(view: views.FieldView, columns: list[Source], notes: views.Footnotes,
                  ) -> list[tuple[views.Version, list[DisputeCell | None]]]:
    """The rows of a disputed fact's claims matrix: each version with a cell per column,
    None where that source does not give it.  Numbers each version's notes, in order.

    What the template's filters did (``selectattr``, ``map``, ``unique``), a third of the
    time of the page listing every disputed fact.
    """
    rows = []
    for version in view.versions:
        version_notes = notes.refs(version.claim.citations)
        cells: list[DisputeCell | None] = []
        for source in columns:
            cell = [note for note in version_notes if note.source.id == source.id]
            if not cell:
                cells.append(None)
                continue
            voices: dict[str, str] = {}  # lower case -> the name as first written
            for note in cell:
                if note.according_to:
                    voices.setdefault(note.according_to.name.lower(), note.according_to.name)
            cells.append(DisputeCell(cell, list(voices.values())))
        rows.append((version, cells))
    return rows


def _dispute_sources(view: views.FieldView) -> list[Source]:
    """The sources that speak to a disputed fact: the columns of its claims matrix."""
    seen: dict[str, Source] = {}
    for version in view.versions:
        for note in version.notes:
            seen.setdefault(note.source.id, note.source)
    return sorted(seen.values(), key=lambda s: s.id)


def _actor_groups(records: Records) -> list[tuple[str, list]]:
    groups = []
    for kind in ACTOR_KINDS:
        members = sorted((a for a in records.actors.values() if a.kind == kind),
                         key=lambda a: a.name.lower())
        if members:
            groups.append((kind, members))
    return groups
