"""The draft file `factsheet suggest` writes: YAML for an editor to review, never facts/."""

from __future__ import annotations

from pathlib import Path

from .authoring import Commented, Flow, emit_yaml
from .model import ID_PATTERN
from .suggest import Draft, ProposedActor, ProposedClaim, ProposedStatement

def render_draft(draft: Draft) -> str:
    """The draft as one YAML document, commented for the editor who reviews it."""
    published = draft.published.text if draft.published else None
    header = [
        f"# Draft written by `factsheet suggest {draft.source}` from {draft.corpus}.",
        "# Nothing in this file is checked or published. For each proposal: check it",
        "# against the article, fix or delete it, remove the CONFIRM marks, then move it",
        "# into facts/: an actor to facts/actors/<id>.yaml, a statement to",
        "# facts/statements/<id>.yaml, a claim under 'claims: <field>:' of its incident.",
        "# Every quote below was found in the article; `factsheet check` verifies it again.",
    ]
    if draft.published is None:
        header.append("# The source has no publication date, so relative dates ('Sunday') "
                      "were left unresolved.")
    for dropped in draft.dropped:
        header.append(f"# Dropped, quote did not verify: {dropped}")
    document = {
        "source": draft.source,
        "published": published,
        "incident": Commented(draft.incident, "CONFIRM: the incident the article is about")
        if draft.incident else None,
        "actors": [_actor_entry(a, draft.source) for a in draft.actors],
        "statements": [_statement_entry(s, draft.source) for s in draft.statements],
        "claims": [_claim_entry(c, draft.source) for c in draft.claims],
    }
    return "\n".join(header) + "\n" + emit_yaml(document)


def _actor_entry(actor: ProposedActor, source: str) -> Commented:
    entry: dict[str, object] = {
        "id": actor.id, "name": actor.name,
        "kind": Commented(actor.kind, "CONFIRM: guessed from the name"),
        "aliases": Flow(actor.aliases)}
    if actor.role:
        entry["claims"] = {"role": [{"value": Commented(actor.role, "CONFIRM"), "citations": [
            {"source": source, "quote": actor.role_quote}]}]}
    return Commented(entry, f"NEW ACTOR, quoted at line {actor.line}")


def _statement_entry(statement: ProposedStatement, source: str) -> Commented:
    speaker = Commented(statement.speaker.actor, f"CONFIRM: {statement.speaker.how}")
    entry: dict[str, object] = {
        "id": statement.id,
        "speaker": speaker,
        "date": statement.date,
        "medium": statement.medium if statement.medium_found
        else Commented(statement.medium, "CONFIRM: the article does not say how"),
        "text": statement.text,
        "about": Commented(Flow(statement.about), "CONFIRM") if statement.about else Flow(),
        "citations": [{"source": source, "quote": statement.quote}],
    }
    comment = f"line {statement.line}"
    if statement.curated:
        comment += (f"; ALREADY CURATED as facts/statements/{statement.curated}.yaml: "
                    "add the citation there if it lacks it")
    if statement.short:
        comment += "; CONFIRM: a short phrase, keep it only if it is a statement"
    return Commented(entry, comment)


def _claim_entry(claim: ProposedClaim, source: str) -> Commented:
    body: dict[str, object] = {"value": claim.value}
    if claim.detail:
        body["detail"] = claim.detail
    if claim.note:
        body["note"] = claim.note
    citation: dict[str, object] = {"source": source, "quote": claim.quote}
    if claim.according_to:
        citation["according_to"] = Commented(claim.according_to, "CONFIRM")
    body["citations"] = [citation]
    entry = {"incident": Commented(claim.incident, claim.incident_note),
             "field": claim.field, "claim": body}
    return Commented(entry, f"line {claim.line}")


def draft_path(root: Path, source_id: str) -> Path:
    """Where the draft for a source goes: `drafts/<source-id>.yaml`, never `facts/`."""
    if not ID_PATTERN.match(source_id):
        raise ValueError(f"not a source id: {source_id!r}")
    return root / "drafts" / f"{source_id}.yaml"


def write_draft(root: Path, draft: Draft) -> Path:
    """Write the draft to `drafts/<source-id>.yaml`, replacing an earlier draft."""
    path = draft_path(root, draft.source)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_draft(draft), encoding="utf-8")
    return path
