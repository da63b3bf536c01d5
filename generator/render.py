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

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from pathlib import Path

import jinja2
from markupsafe import Markup

from . import export, parallel, timeline, views
from .check import CheckResult, fewer_collections
from .model import ACTOR_FIELDS, ACTOR_KINDS, INCIDENT_FIELDS, Incident, Records, Source

_SPACE = re.compile(r"\s+")
_ESCAPES = str.maketrans({
    **{c: "\\" + c for c in "\\`*_{}[]()|#"},
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
})
_LINE_START = re.compile(r"^(?:[-+!:=~]|\d+(?=[.)]))")


def md_escape(value: object) -> Markup:
    """Text that Markdown and HTML show literally, on one line, whatever it contains."""
    try:
        return _md_escape_cached(value)
    except TypeError:  # a value that cannot be a cache key
        return _md_escape(value)


def _md_escape(value: object) -> Markup:
    text = _SPACE.sub(" ", str(value)).strip().translate(_ESCAPES)
    # a leading '-', '+' or '1.' would start a list wherever a template puts the text
    match = _LINE_START.match(text)
    if match:
        end = match.end()
        if text[:end].isdigit():
            text = text[:end] + "\\" + text[end:]
        else:
            text = "\\" + text
    return Markup(text)


# Names, labels, dates and quotes recur on many pages; each is escaped once.
_md_escape_cached = lru_cache(maxsize=1 << 17, typed=True)(_md_escape)


def _finalize(value: object) -> object:
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return md_escape(value)


def link_target(url: str) -> Markup:
    """A URL made safe to stand in a Markdown link's parentheses."""
    unsafe = {c: f"%{ord(c):02X}" for c in " ()<>\"'`\\[]{}|^"}
    return Markup(url.translate(str.maketrans(unsafe)))


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


def make_environment(templates: Path) -> jinja2.Environment:
    """The Jinja environment for a templates folder; escaping is on by default."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
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


def render_site(result: CheckResult, templates: Path, options: SiteOptions) -> Tree:
    """Render every page and data file of the site from checked records."""
    with fewer_collections():
        return _render_site(result, templates, options)


def _render_site(result: CheckResult, templates: Path, options: SiteOptions) -> Tree:
    records = result.records
    positions = {key: match.start for key, match in result.corpus.matches.items()}
    index = views.build_index(records, positions)
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
    }
    tree: Tree = {}
    jobs: list[tuple[str, str, str | None, dict]] = []

    def page(path: str, template: str, origin: str | None = None, **extra) -> None:
        jobs.append((path, template, origin, extra))

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
    for incident in chronology:
        path = views.page_path("incidents", incident.id)
        page(path, "incident.md.j2", incident.loc.path, incident=incident,
             jsonld=Markup(export.incident_jsonld(incident, records)))
    for actor in records.actors.values():
        page(views.page_path("actors", actor.id), "actor.md.j2", actor.loc.path, actor=actor)
    for statement in records.statements.values():
        page(views.page_path("statements", statement.id), "statement.md.j2",
             statement.loc.path, statement=statement)
    for source in records.sources.values():
        page(views.page_path("sources", source.id), "source.md.j2", source.loc.path,
             source=source)
    pages_dir = templates / "pages"
    if pages_dir.is_dir():
        for static in sorted(pages_dir.glob("*.md")):
            page(static.name, f"pages/{static.name}")
    for template in sorted({job[1] for job in jobs}):
        env.get_template(template)  # compiled once, before any worker starts
    pages = _render_all(jobs, render_page, lambda: export.data_files(records, index))
    for (path, _template, origin, _extra), content in zip(jobs, pages.contents):
        tree[path] = Output(content, origin)
    for path, content in pages.data.items():
        tree[path] = Output(content)
    return tree


# Below this many pages per process, forking costs more than it saves.
MIN_PAGES_PER_WORKER = 300
PAGES_PER_SHARE = 200


@dataclass(slots=True)
class _Rendered:
    contents: list[str]
    data: dict[str, bytes]


def _render_all(jobs: list, render_page, data_files) -> _Rendered:
    """Render every page, in forked processes on every core when there are many pages."""
    def render_share(indices: range) -> list[str | None]:
        out: list[str | None] = []
        for i in indices:
            path, template, _origin, extra = jobs[i]
            try:
                out.append(render_page(path, template, extra))
            except Exception:  # noqa: BLE001 - rendered again below, where it is raised
                out.append(None)
        return out

    shares = [range(i, min(i + PAGES_PER_SHARE, len(jobs)))
              for i in range(0, len(jobs), PAGES_PER_SHARE)]
    workers = min(parallel.cores(), len(jobs) // MIN_PAGES_PER_WORKER)
    results, data = parallel.fork_map(render_share, shares, workers, meanwhile=data_files)
    contents = [content for share in results for content in share]
    for i, content in enumerate(contents):
        if content is None:  # a page that failed: render it here so its error is raised
            path, template, _origin, extra = jobs[i]
            contents[i] = render_page(path, template, extra)
    return _Rendered(contents, data)


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
