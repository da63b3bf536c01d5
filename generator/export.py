"""Data downloads built with the site: all records as JSON, CSV tables, JSON-LD."""

from __future__ import annotations

import csv
import io
import json

from .model import Claim, Established, FuzzyDate, Quantity, Records
from .views import Index


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


def records_json(records: Records) -> dict:
    """Every record as plain JSON-ready data, in a stable order."""
    return {
        "sources": [{
            "id": s.id, "outlet": _established(s.outlet), "title": s.title,
            "published": _established(s.published), "url": s.url, "language": s.language,
            "relays": _established(s.relays), "copy_of": _established(s.copy_of),
            "corpus": s.corpus, "sha256": s.sha256, "notes": s.notes,
        } for s in records.sources.values()],
        "actors": [{"id": a.id, "name": a.name, "kind": a.kind, "aliases": a.aliases,
                    "claims": [_claim(c) for c in a.claims]} for a in records.actors.values()],
        "incidents": [{"id": i.id, "title": i.title, "kind": i.kind, "date": _date(i.date),
                       "place": i.place, "related": i.related,
                       "claims": [_claim(c) for c in i.claims]}
                      for i in records.incidents.values()],
        "statements": [{
            "id": s.id, "speaker": s.speaker, "date": _established(s.date), "medium": s.medium,
            "text": s.text.text, "about": s.about, "language_note": s.language_note,
            "citations": [{"source": c.source, "quote": c.quote.text,
                           "according_to": c.according_to} for c in s.citations],
        } for s in records.statements.values()],
    }


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is prefixed with '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue().encode("utf-8")


def _records_file(data: dict[str, list[dict]]) -> str:
    """The records as JSON, one record per line: readable, diffable, and written by the
    C encoder (an indented dump runs the pure-Python one, seconds for a large record)."""
    kinds = []
    for kind, items in data.items():
        lines = ",\n".join("    " + json.dumps(item, ensure_ascii=False) for item in items)
        kinds.append(f'  {json.dumps(kind)}: [\n{lines}\n  ]' if items else f'  {json.dumps(kind)}: []')
    return "{\n" + ",\n".join(kinds) + "\n}\n"


def _established_text(e: Established | None) -> str:
    if e is None or e.value is None:
        return ""
    return str(e.value)


def data_files(records: Records, index: Index) -> dict[str, bytes]:
    """The downloadable data: ``data/factsheet.json`` and one CSV table per kind."""
    claims_rows = []
    for kind, table in (("incident", records.incidents), ("actor", records.actors)):
        for record in table.values():
            for claim in record.claims:
                for c in claim.citations:
                    claims_rows.append([kind, record.id, claim.field.name, str(claim.value),
                                        claim.detail, c.source, c.quote.text, c.according_to])
    return {
        "data/factsheet.json": _records_file(records_json(records)).encode("utf-8"),
        "data/incidents.csv": _csv(
            ["id", "title", "kind", "date", "date_start", "date_end", "place", "claims"],
            [[i.id, i.title, i.kind, i.date.text, i.date.start, i.date.end, i.place,
              len(i.claims)] for i in records.incidents.values()]),
        "data/claims.csv": _csv(
            ["record_kind", "record_id", "field", "value", "detail", "source", "quote",
             "according_to"], claims_rows),
        "data/statements.csv": _csv(
            ["id", "speaker", "date", "date_basis", "medium", "text", "about", "sources"],
            [[s.id, s.speaker, _established_text(s.date), s.date.basis, s.medium, s.text.text,
              " ".join(s.about), " ".join(c.source for c in s.citations)]
             for s in records.statements.values()]),
        "data/actors.csv": _csv(
            ["id", "name", "kind", "aliases"],
            [[a.id, a.name, a.kind, "; ".join(a.aliases)] for a in records.actors.values()]),
        "data/sources.csv": _csv(
            ["id", "outlet", "outlet_basis", "title", "published", "published_basis", "url",
             "language", "relays", "copy_of", "corpus", "sha256"],
            [[s.id, _established_text(s.outlet), s.outlet.basis, s.title,
              _established_text(s.published), s.published.basis, s.url, s.language,
              _established_text(s.relays), _established_text(s.copy_of), s.corpus, s.sha256]
             for s in records.sources.values()]),
    }


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
