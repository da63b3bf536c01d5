"""Data downloads built with the site: all records as JSON, CSV tables, JSON-LD."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from .model import Claim, Established, FuzzyDate, Quantity, Records


def _date(value: FuzzyDate | None) -> dict | None:
    if value is None:
        return None
    return {"value": value.text, "precision": value.precision,
            "start": value.start.isoformat(), "end": value.end.isoformat()}


def _established(e: Established | None) -> dict | None:
    if e is None:
        return None
    value = _date(e.value) if isinstance(e.value, FuzzyDate) else e.value
    return {"value": value, "basis": e.basis, "evidence": e.evidence,
            "quotes": [q.text for q in e.quotes]}


def _value(claim: Claim) -> object:
    if isinstance(claim.value, Quantity):
        return {"text": claim.value.text, "low": claim.value.low, "high": claim.value.high,
                "approximate": claim.value.approximate}
    if isinstance(claim.value, FuzzyDate):
        return _date(claim.value)
    return claim.value


def _claim(claim: Claim) -> dict:
    return {"field": claim.field.name, "value": _value(claim), "detail": claim.detail,
            "note": claim.note,
            "citations": [{"source": c.source, "quote": c.quote.text,
                           "according_to": c.according_to} for c in claim.citations]}


def _source_item(s) -> dict:
    return {"id": s.id, "outlet": _established(s.outlet), "title": s.title,
            "published": _established(s.published), "url": s.url, "language": s.language,
            "relays": _established(s.relays), "copy_of": _established(s.copy_of),
            "corpus": s.corpus, "sha256": s.sha256, "notes": s.notes}


def _actor_item(a) -> dict:
    return {"id": a.id, "name": a.name, "kind": a.kind, "aliases": a.aliases,
            "claims": [_claim(c) for c in a.claims]}


def _incident_item(i) -> dict:
    return {"id": i.id, "title": i.title, "kind": i.kind, "date": _date(i.date),
            "place": i.place, "related": i.related, "claims": [_claim(c) for c in i.claims]}


def _statement_item(s) -> dict:
    return {"id": s.id, "speaker": s.speaker, "date": _established(s.date), "medium": s.medium,
            "text": s.text.text, "about": s.about, "language_note": s.language_note,
            "citations": [{"source": c.source, "quote": c.quote.text,
                           "according_to": c.according_to} for c in s.citations]}


_ITEMS = {"sources": _source_item, "actors": _actor_item, "incidents": _incident_item,
          "statements": _statement_item}


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is prefixed with '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


def _established_text(e: Established | None) -> str:
    if e is None or e.value is None:
        return ""
    return str(e.value)


def _claim_rows(kind: str, record) -> list[list[object]]:
    return [[kind, record.id, claim.field.name, str(claim.value), claim.detail, c.source,
             c.quote.text, c.according_to] for claim in record.claims for c in claim.citations]


# Each kind's rows in the CSV tables: {file: rows of one record}.
_TABLE_ROWS = {
    "sources": lambda s: {"sources": [[
        s.id, _established_text(s.outlet), s.outlet.basis, s.title,
        _established_text(s.published), s.published.basis, s.url, s.language,
        _established_text(s.relays), _established_text(s.copy_of), s.corpus, s.sha256]]},
    "actors": lambda a: {"actors": [[a.id, a.name, a.kind, "; ".join(a.aliases)]],
                         "claims": _claim_rows("actor", a)},
    "incidents": lambda i: {"incidents": [[i.id, i.title, i.kind, i.date.text, i.date.start,
                                           i.date.end, i.place, len(i.claims)]],
                            "claims": _claim_rows("incident", i)},
    "statements": lambda s: {"statements": [[
        s.id, s.speaker, _established_text(s.date), s.date.basis, s.medium, s.text.text,
        " ".join(s.about), " ".join(c.source for c in s.citations)]]},
}
_HEADERS = {
    "incidents": ["id", "title", "kind", "date", "date_start", "date_end", "place", "claims"],
    "claims": ["record_kind", "record_id", "field", "value", "detail", "source", "quote",
               "according_to"],
    "statements": ["id", "speaker", "date", "date_basis", "medium", "text", "about", "sources"],
    "actors": ["id", "name", "kind", "aliases"],
    "sources": ["id", "outlet", "outlet_basis", "title", "published", "published_basis", "url",
                "language", "relays", "copy_of", "corpus", "sha256"],
}
# claims.csv lists the incidents' claims, then the actors'
_TABLE_KINDS = {"incidents": ("incidents",), "claims": ("incidents", "actors"),
                "statements": ("statements",), "actors": ("actors",), "sources": ("sources",)}


@dataclass(slots=True)
class _Parts:
    """One record's share of the data files, in UTF-8: its line of the JSON file (with its
    indent), its CSV rows.  Joining bytes is one copy; joining text, then encoding it,
    copied the 14 MB of a 5,000-incident JSON file five times, in every preview."""

    record: object
    json: bytes
    rows: dict[str, bytes]  # table -> its rows of this record, as CSV


DataMemo = dict[tuple[str, str], _Parts]  # (kind, id) -> the parts last made


def _parts(kind: str, record, memo: DataMemo | None) -> _Parts:
    if memo is not None:
        kept = memo.get((kind, record.id))
        if kept is not None and (kept.record is record or kept.record == record):
            return kept
    parts = _Parts(record, ("    " + json.dumps(_ITEMS[kind](record), ensure_ascii=False)
                            ).encode("utf-8"),
                   {table: _csv_rows(rows).encode("utf-8")
                    for table, rows in _TABLE_ROWS[kind](record).items()})
    if memo is not None:
        memo[(kind, record.id)] = parts
    return parts


def data_files(records: Records, memo: DataMemo | None = None) -> dict[str, bytes]:
    """The downloadable data: ``data/factsheet.json`` and one CSV table per kind.

    With a ``memo`` (a preview's, kept between its rebuilds), a record that is the same
    object as last time, or equal to it, gives the same share of each file, made once.
    """
    parts = {kind: [_parts(kind, r, memo) for r in getattr(records, kind).values()]
             for kind in _ITEMS}
    if memo is not None:  # forget removed records
        for key in [key for key in memo if key[1] not in getattr(records, key[0])]:
            del memo[key]
    files = {"data/factsheet.json": _records_file(
        {kind: [p.json for p in kind_parts] for kind, kind_parts in parts.items()})}
    for table, header in _HEADERS.items():
        files[f"data/{table}.csv"] = b"".join(
            [_csv_rows([header]).encode("utf-8"),
             *(p.rows.get(table, b"") for kind in _TABLE_KINDS[table] for p in parts[kind])])
    return files


def _records_file(lines: dict[str, list[bytes]]) -> bytes:
    """The records as JSON, one record per (indented) line: readable, diffable, and
    written by the C encoder (an indented dump runs the pure-Python one, seconds for a
    large record)."""
    kinds = []
    for kind, items in lines.items():
        name = json.dumps(kind).encode("utf-8")
        kinds.append(b"  " + name + b": [\n" + b",\n".join(items) + b"\n  ]" if items
                     else b"  " + name + b": []")
    return b"{\n" + b",\n".join(kinds) + b"\n}\n"


def script_json(data: object) -> str:
    """JSON that is safe inside a <script> element whatever strings it holds."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def incident_jsonld(incident, records: Records) -> str:
    """A schema.org Event for an incident page, citing the articles it rests on."""
    cited = []
    for claim in incident.claims:
        for c in claim.citations:
            if c.source not in cited:
                cited.append(c.source)
    articles = []
    for ident in cited:
        s = records.sources[ident]
        article = {"@type": "NewsArticle", "identifier": s.id}
        if s.title:
            article["headline"] = s.title
        if s.outlet.value:
            article["publisher"] = {"@type": "Organization", "name": s.outlet.value}
        if s.published.value is not None and s.published.value.precision == "day":
            article["datePublished"] = s.published.value.text
        if s.url:
            article["url"] = s.url
        articles.append(article)
    event = {"@context": "https://schema.org", "@type": "Event", "name": incident.title,
             "startDate": incident.date.start.isoformat(),
             "endDate": incident.date.end.isoformat(),
             "location": {"@type": "Place", "name": incident.place},
             "citation": articles}
    return f'<script type="application/ld+json">{script_json(event)}</script>'
