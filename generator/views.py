"""What each page shows, worked out from the checked records before any template runs.

Templates stay simple because the decisions are made here: which fields are
disputed, which citations a page footnotes and in what order, which facts cite a
source and where on its page each quote is anchored.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote as urlquote

from . import citations as cit
from .model import (INCIDENT_FIELDS, Actor, Citation, Claim, FieldSpec, Incident, Records,
                    Source, Statement)


def page_path(kind: str, ident: str) -> str:
    """The Markdown file of a record's page, relative to the site root."""
    return f"{kind}/{ident}.md"


def relative(from_page: str, to_page: str) -> str:
    """A link from one page of the tree to another (MkDocs resolves .md links)."""
    to_page, hash_mark, anchor = to_page.partition("#")
    # the folder of a page path (relative, as the tree's are): posixpath.dirname, faster
    return _relpath(to_page, from_page.rpartition("/")[0] or ".") + hash_mark + anchor


# Pages link to the same few thousand pages from a handful of folders: compute each once.
@lru_cache(maxsize=1 << 16)
def _relpath(target: str, folder: str) -> str:
    """``posixpath.relpath(target, folder)``, worked out from the parts of two plain
    paths of the tree.  ``posixpath.relpath`` makes both paths absolute first, asking the
    system for the working folder each time: a third of the links' cost at 5,000
    incidents.  A path with a '.', '..' or empty part goes to it still."""
    parts = target.split("/")
    base = [] if folder == "." else folder.split("/")
    if _UNPLAIN.intersection(parts) or _UNPLAIN.intersection(base):
        return posixpath.relpath(target, folder)
    common = 0
    for part, base_part in zip(parts, base):
        if part != base_part:
            break
        common += 1
    return "/".join([".."] * (len(base) - common) + parts[common:]) or "."


_UNPLAIN = frozenset(("", ".", ".."))


@lru_cache(maxsize=1 << 17)
def quote_anchor(quote: str) -> str:
    """:func:`generator.citations.quote_key`, computed once per quote for the whole site."""
    return cit.quote_key(quote)


@lru_cache(maxsize=1 << 17)
def _normalized(quote: str) -> str:
    return cit.normalize(quote)


def text_fragment(url: str, quote: str) -> str:
    """The original URL with a ``#:~:text=`` fragment that highlights the quote."""
    words = _normalized(quote).replace("...", " ").split()
    if not words:
        return url

    def enc(part: list[str]) -> str:
        return urlquote(" ".join(part), safe="").replace("-", "%2D")

    fragment = enc(words) if len(words) <= 8 else f"{enc(words[:4])},{enc(words[-4:])}"
    return f"{url.split('#', 1)[0]}#:~:text={fragment}"


@dataclass(slots=True)
class Note:
    """One footnote of a page: a citation with everything a reader needs to trust it."""

    number: int
    citation: Citation
    source: Source
    according_to: Actor | None
    source_link: str  # relative link to the quote's anchor on the source page
    original: str | None  # the original URL with a text fragment, when the URL is known

    @property
    def label(self) -> str:
        return f"c{self.number}"


class Footnotes:
    """Numbers the citations of one page; the same citation twice gets one note."""

    def __init__(self, records: Records, page: str):
        self.records, self.page = records, page
        self.notes: list[Note] = []
        self._by_key: dict[tuple, Note] = {}

    def add(self, citation: Citation) -> Note:
        key = (citation.source, _normalized(citation.quote.text), citation.according_to)
        note = self._by_key.get(key)
        if note is None:
            source = self.records.sources[citation.source]
            anchor = quote_anchor(citation.quote.text)
            note = Note(len(self.notes) + 1, citation, source,
                        self.records.actors.get(citation.according_to or ""),
                        relative(self.page, page_path("sources", source.id) + "#" + anchor),
                        text_fragment(source.url, citation.quote.text) if source.url else None)
            self.notes.append(note)
            self._by_key[key] = note
        return note

    def refs(self, citations: list[Citation]) -> list[Note]:
        return [self.add(c) for c in citations]


@dataclass(slots=True)
class Version:
    """One claim of a field as shown: its value, detail and numbered citations."""

    claim: Claim
    notes: list[Note]
    anchor: str

    @property
    def sources(self) -> list[Source]:
        seen: dict[str, Source] = {}
        for note in self.notes:
            seen.setdefault(note.source.id, note.source)
        return list(seen.values())

    @property
    def according_to(self) -> list[Actor]:
        seen: dict[str, Actor] = {}
        for note in self.notes:
            if note.according_to:
                seen.setdefault(note.according_to.id, note.according_to)
        return list(seen.values())


@dataclass(slots=True)
class FieldView:
    """All claims of one field of a record; disputed when a single-valued field has several."""

    spec: FieldSpec
    versions: list[Version]

    @property
    def disputed(self) -> bool:
        return not self.spec.multi and len(self.versions) > 1

    @property
    def anchor(self) -> str:
        return self.spec.name.replace("_", "-")


def field_views(claims: list[Claim], fields: dict[str, FieldSpec], notes: Footnotes,
                prefix: str = "") -> list[FieldView]:
    """Group claims by field, in the vocabulary's order, numbering their citations."""
    by_field: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_field[claim.field.name].append(claim)
    views = []
    for name, spec in fields.items():
        if name in by_field:
            versions = [Version(c, notes.refs(c.citations),
                                f"{prefix}{spec.name.replace('_', '-')}-{i + 1}")
                        for i, c in enumerate(by_field[name])]
            views.append(FieldView(spec, versions))
    return views


@dataclass(slots=True)
class CitingFact:
    """A fact that cites a quote, for the source page: where it is and what it says."""

    page: str  # page path of the record
    anchor: str
    record_title: str
    label: str  # "Injured", "Statement", "Role"
    value: str


@dataclass(slots=True)
class QuoteUse:
    """A quote of a source with every fact that cites it."""

    anchor: str
    text: str
    according_to: list[Actor] = field(default_factory=list)
    facts: list[CitingFact] = field(default_factory=list)
    position: int = 0  # where the quote stands in the article, for reading order


@dataclass(slots=True)
class Index:
    """Cross-references computed once for the whole site."""

    quotes_by_source: dict[str, list[QuoteUse]]
    statements_by_speaker: dict[str, list[Statement]]
    statements_by_incident: dict[str, list[Statement]]
    incidents_by_actor: dict[str, list[tuple[Incident, FieldSpec]]]
    attributed_to: dict[str, list[tuple[str, str, str, str]]]  # actor -> (page, title, label, value)
    disputes: list[tuple[Incident, FieldView]]


def display_value(claim: Claim, records: Records) -> str:
    """A claim's value as a reader reads it: actor names, human dates, counts as given."""
    if claim.field.value == "actor":
        actor = records.actors.get(str(claim.value))
        return actor.name if actor else str(claim.value)
    if claim.field.value == "date":
        return claim.value.human()
    return str(claim.value)


@dataclass(slots=True)
class RecordUses:
    """One record's part of the :class:`Index`, worked out from it and the records it
    names: a preview keeps it for the records an edit does not reach."""

    record: object
    # each citation in order: (source id, quote anchor, quote, the actor it is
    # according to (None if unknown), the fact citing it, the according_to id or None)
    uses: list[tuple[str, str, str, Actor | None, CitingFact, str | None]]
    actors: list[tuple[str, tuple[str, str], tuple[Incident, FieldSpec]]]  # incidents only
    disputes: list[FieldView]  # incidents only


IndexMemo = dict[tuple[str, str], RecordUses]  # (kind, id) -> its part, last made


def record_uses(kind: str, record, records: Records) -> RecordUses:
    """What ``record`` adds to the index: the quotes it cites, and for an incident the
    actors its facts name and its disputed fields."""
    uses: list = []
    actors: list = []
    disputes: list[FieldView] = []
    actor_named = records.actors.get
    page = page_path(kind, record.id)
    if kind == "statements":
        speaker = actor_named(record.speaker)
        facts = [(CitingFact(page, "text", f"Statement by {speaker.name}" if speaker
                             else record.id, "Statement", record.text.text), record.citations)]
    else:
        title = record.title if kind == "incidents" else record.name
        counters: dict[str, int] = defaultdict(int)
        facts = []
        for claim in record.claims:
            name = claim.field.name
            counters[name] += 1
            facts.append((CitingFact(page, f"{name.replace('_', '-')}-{counters[name]}", title,
                                     claim.field.label, display_value(claim, records)),
                          claim.citations))
            if claim.field.value == "actor" and kind == "incidents":
                actors.append((str(claim.value), (record.id, name), (record, claim.field)))
    for fact, citations in facts:
        for citation in citations:
            according_to, text = citation.according_to, citation.quote.text
            uses.append((citation.source, quote_anchor(text), text,
                         actor_named(according_to or ""), fact, according_to))
    if kind == "incidents" and _may_be_disputed(record.claims):
        disputes = [view for view in field_views(record.claims, INCIDENT_FIELDS,
                                                 Footnotes(records, page))
                    if view.disputed]
    return RecordUses(record, uses, actors, disputes)


def index_parts(records: Records, memo: IndexMemo | None = None,
                stale: set[tuple[str, str]] | None = None) -> IndexMemo:
    """Each record's part of the index, in the order :func:`build_index` takes them.

    With a ``memo`` (a preview's, as its last good render left it), the part of a record
    not in ``stale`` (the records an edit reached; None for all) is taken from it when it
    was made from the same record.
    """
    parts: IndexMemo = {}
    for kind in ("incidents", "actors", "statements"):
        for ident, record in getattr(records, kind).items():
            kept = memo.get((kind, ident)) if memo is not None and stale is not None \
                and (kind, ident) not in stale else None
            if kept is None or kept.record is not record:
                kept = record_uses(kind, record, records)
            parts[kind, ident] = kept
    return parts


def build_index(records: Records, positions: dict[tuple[str, str], int],
                parts: IndexMemo | None = None) -> Index:
    """Work out every cross-reference the pages need, in one pass over the records'
    parts (:func:`index_parts`)."""
    if parts is None:
        parts = index_parts(records)
    quotes: dict[str, dict[str, QuoteUse]] = defaultdict(dict)
    attributed: dict[str, dict] = defaultdict(dict)  # an ordered set per actor
    by_actor: dict[str, dict] = defaultdict(dict)  # (incident id, field) -> pair, per actor
    disputes: list[tuple[Incident, FieldView]] = []
    for part in parts.values():
        for source, anchor, text, actor, fact, according_to in part.uses:
            entry = quotes[source].get(anchor)
            if entry is None:
                entry = quotes[source][anchor] = QuoteUse(
                    anchor, text, position=positions.get((source, text), 0))
            # Records and facts are compared by identity: comparing dataclasses field by
            # field made this pass quadratic in the facts citing one quote.  A fact is
            # made once per claim, and its citations are used one after another: if it
            # cites the quote already, it is the last fact the quote got.
            if actor and not any(known is actor for known in entry.according_to):
                entry.according_to.append(actor)
            if not entry.facts or entry.facts[-1] is not fact:
                entry.facts.append(fact)
            if according_to:
                attributed[according_to].setdefault(
                    (fact.page, fact.record_title, fact.label, fact.value))
        for name, key, pair in part.actors:
            by_actor[name].setdefault(key, pair)
    for part in parts.values():
        disputes.extend((part.record, view) for view in part.disputes)

    by_speaker: dict[str, list[Statement]] = defaultdict(list)
    by_incident: dict[str, list[Statement]] = defaultdict(list)
    for statement in records.statements.values():
        by_speaker[statement.speaker].append(statement)
        for ident in statement.about:
            by_incident[ident].append(statement)
    ordered = {s: sorted(q.values(), key=lambda u: (u.position, u.anchor))
               for s, q in quotes.items()}
    return Index(ordered, dict(by_speaker), dict(by_incident),
                 {actor: list(pairs.values()) for actor, pairs in by_actor.items()},
                 {actor: list(items) for actor, items in attributed.items()}, disputes)


def _may_be_disputed(claims: list[Claim]) -> bool:
    """Whether a single-valued field has several claims (cheap, before any view is made)."""
    seen: set[str] = set()
    for claim in claims:
        if not claim.field.multi:
            if claim.field.name in seen:
                return True
            seen.add(claim.field.name)
    return False


def incidents_by_date(records: Records) -> list[Incident]:
    """Incidents oldest first; ties by id so the order never depends on file order."""
    return sorted(records.incidents.values(), key=lambda i: (i.date.start, i.date.end, i.id))
