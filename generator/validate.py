"""Checks on the records themselves: references between ids and rules of the model."""

from __future__ import annotations

import difflib

from .errors import Location, Problem
from .model import Claim, FuzzyDate, Records


def _unknown(problems: list[Problem], loc: Location, what: str, ident: str,
             known: dict, unloaded: set[str]) -> None:
    if ident in unloaded:
        return  # the record exists but has errors of its own, reported where it is
    close = difflib.get_close_matches(ident, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"add a record with id {ident!r}"
    problems.append(Problem(loc, "error", "unknown-reference",
                            f"{what} {ident!r} does not exist", hint))


def check_references(records: Records, problems: list[Problem]) -> None:
    """Every id a record names must exist, and be of the right kind."""
    for _record, claim, citation in records.all_citations():
        if citation.source not in records.sources:
            _unknown(problems, citation.source_loc, "source", citation.source, records.sources, records.unloaded)
        if citation.according_to and citation.according_to not in records.actors:
            _unknown(problems, citation.according_to_loc, "actor (according_to)",
                     citation.according_to, records.actors, records.unloaded)
    for record in (*records.actors.values(), *records.incidents.values()):
        for claim in record.claims:
            if claim.field.value == "actor" and claim.value not in records.actors:
                _unknown(problems, claim.value_loc, f"actor ({claim.field.name})",
                         claim.value, records.actors, records.unloaded)
    for statement in records.statements.values():
        if statement.speaker not in records.actors:
            _unknown(problems, statement.speaker_loc, "speaker", statement.speaker,
                     records.actors, records.unloaded)
        for ident, loc in zip(statement.about, statement.about_locs):
            if ident not in records.incidents:
                _unknown(problems, loc, "incident (about)", ident, records.incidents, records.unloaded)
    for incident in records.incidents.values():
        for ident, loc in zip(incident.related, incident.related_locs):
            if ident not in records.incidents:
                _unknown(problems, loc, "incident (related)", ident, records.incidents, records.unloaded)


def check_incident_rules(records: Records, problems: list[Problem]) -> None:
    """An incident's date window must be cited, and cover every dated claim."""
    for incident in records.incidents.values():
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
