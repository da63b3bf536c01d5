"""How much of the curated record `factsheet suggest` finds again, as a check on suggest.

Run with ``python benchmarks/suggest_recall.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import citations as cit
from .authoring import read_source_text
from .drafts import render_draft
from .errors import FactsheetError, Problem
from .load import load_records
from .suggest import Draft, suggest_from, texts_agree

@dataclass(slots=True)
class RecallReport:
    """How many curated statements `suggest` proposes again, and whether its quotes verify."""

    curated: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    recovered_any_speaker: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    proposed_quotes: int = 0
    unverified: list[str] = field(default_factory=list)
    dropped: int = 0

    @property
    def share(self) -> float:
        return len(self.recovered) / len(self.curated) if self.curated else 1.0


def measure_recall(root: Path) -> RecallReport:
    """Run `suggest` on every source and compare with `facts/statements`.

    A curated statement is recovered when `suggest`, run on one of the sources it
    cites, proposes a statement by the same speaker whose text contains the curated
    text (or most of it).  Every quote of every draft is verified again, as text read
    back from the rendered YAML.
    """
    problems: list[Problem] = []
    records = load_records(root, problems)
    report = RecallReport()
    drafts: dict[str, Draft] = {}
    for source_id in records.sources:
        try:
            source_text = read_source_text(root, source_id)
        except FactsheetError as exc:  # an unreadable corpus file is check's business
            report.unverified.append(f"{source_id}: {exc}")
            continue
        draft = suggest_from(source_text, records)
        drafts[source_id] = draft
        report.dropped += len(draft.dropped)
        document = yaml.safe_load(render_draft(draft))
        for quote in _draft_quotes(document):
            report.proposed_quotes += 1
            if cit.find_quote(quote, source_text.text) is None:
                report.unverified.append(f"{source_id}: {quote!r}")
    for statement in records.statements.values():
        report.curated.append(statement.id)
        proposals = [s for c in statement.citations if c.source in drafts
                     for s in drafts[c.source].statements]
        agreeing = [s for s in proposals if texts_agree(statement.text.text, s.text)]
        if any(s.speaker.actor == statement.speaker for s in agreeing):
            report.recovered.append(statement.id)
        else:
            report.missed.append(statement.id)
        if agreeing:
            report.recovered_any_speaker.append(statement.id)
    return report


def _draft_quotes(document: dict) -> list[str]:
    quotes = []
    for actor in document.get("actors") or []:
        for claims in (actor.get("claims") or {}).values():
            quotes += [c["quote"] for claim in claims for c in claim["citations"]]
    for statement in document.get("statements") or []:
        quotes.append(statement["text"])
        quotes += [c["quote"] for c in statement.get("citations", [])]
        quotes += list(statement.get("date", {}).get("quotes") or [])
    for claim in document.get("claims") or []:
        quotes += [c["quote"] for c in claim["claim"].get("citations", [])]
    return [str(q) for q in quotes]
