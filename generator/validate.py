"""Checks on the records themselves: references between ids and rules of the model."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Iterator

from .errors import Location, Problem
from .model import Actor, Claim, FuzzyDate, Incident, Statement


def _unknown(problems: list[Problem], loc: Location, what: str, ident: str,
             known: Collection[str], unloaded: set[str]) -> None:
    if ident in unloaded:
        return  # the record exists but has errors of its own, reported where it is
    close = difflib.get_close_matches(ident, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"add a record with id {ident!r}"
    problems.append(Problem(loc, "error", "unknown-reference",
                            f"{what} {ident!r} does not exist", hint))


def references(record: Actor | Incident | Statement) -> Iterator[tuple[str, str, str, Location]]:
    """Each id ``record`` names: (the kind it must be, the id, what it is, where)."""
    citations = ([c for claim in record.claims for c in claim.citations]
                 if not isinstance(record, Statement) else record.citations)
    for citation in citations:
        yield "sources", citation.source, "source", citation.source_loc
        if citation.according_to:
            yield ("actors", citation.according_to, "actor (according_to)",
                   citation.according_to_loc)
    if isinstance(record, Statement):
        yield "actors", record.speaker, "speaker", record.speaker_loc
        for ident, loc in zip(record.about, record.about_locs):
            yield "incidents", ident, "incident (about)", loc
        return
    for claim in record.claims:
        if claim.field.value == "actor":
            yield "actors", claim.value, f"actor ({claim.field.name})", claim.value_loc
    if isinstance(record, Incident):
        for ident, loc in zip(record.related, record.related_locs):
            yield "incidents", ident, "incident (related)", loc


def check_references(refs: Iterable[tuple[str, str, str, Location]],
                     known: dict[str, Collection[str]], unloaded: set[str],
                     problems: list[Problem]) -> None:
    """Every id a record names must exist, and be of the right kind."""
    for kind, ident, what, loc in refs:
        if ident not in known[kind]:
            _unknown(problems, loc, what, ident, known[kind], unloaded)


def check_incident_rules(incident: Incident, problems: list[Problem]) -> None:
    """An incident's date window must be cited, and cover every dated claim."""
    fields = {claim.field.name for claim in incident.claims}
    for required in ("date", "place"):
        if required not in fields:
            problems.append(Problem(
                incident.loc, "error", "no-citation",
                f"incident {incident.id!r} has no cited '{required}' claim",
                f"add claims.{required} with the words of a source that give it"))
    for claim in incident.claims:
        if claim.field.name == "date" and isinstance(claim.value, FuzzyDate):
            if not incident.date.contains(claim.value):
                problems.append(Problem(
                    claim.value_loc, "error", "date-outside-window",
                    f"claimed date {claim.value} is outside the incident's date "
                    f"{incident.date}",
                    "widen 'date' to a window START/END that covers every version"))
    _check_repeats(incident.claims, problems)


def _check_repeats(claims: list[Claim], problems: list[Problem]) -> None:
    seen: dict[tuple, Claim] = {}
    for claim in claims:
        key = (claim.field.name, str(claim.value), claim.detail or "")
        if key in seen:
            problems.append(Problem(
                claim.loc, "warning", "repeated-claim",
                f"claims.{claim.field.name} repeats the value {str(claim.value)!r} "
                f"of line {seen[key].loc.line}",
                "merge them into one claim with several citations; "
                "separate claims are shown as disagreeing versions"))
        else:
            seen[key] = claim
