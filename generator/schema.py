"""JSON Schema for each kind of fact file, built from the loader's own keys and vocabularies.

The schemas let an editor's YAML plug-in complete keys and flag mistakes while typing;
`factsheet check` stays the authority.  They are generated from the key tuples of
:mod:`~generator.load` and the vocabularies and patterns of :mod:`~generator.model`, so
adding a key or a kind of actor changes them; the copies shipped in `schemas/` are
compared with freshly generated ones by the tests.  Each fact file points at its schema
with a first-line modeline that :func:`annotate` adds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import load, model
from .model import FieldSpec

DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FOLDER = "schemas"
MODELINE = "# yaml-language-server: $schema=../../schemas/{kind}.schema.json"
_MODELINE_PREFIX = "# yaml-language-server:"

KEYS = {"sources": load.SOURCE_KEYS, "actors": load.ACTOR_KEYS,
        "incidents": load.INCIDENT_KEYS, "statements": load.STATEMENT_KEYS}

# Keys the loader reports as missing when absent ('missing-key' or 'no-citation').
REQUIRED = {"sources": ("id", "corpus", "sha256", "outlet", "published"),
            "actors": ("id", "name", "kind"),
            "incidents": ("id", "title", "kind", "date", "place"),
            "statements": ("id", "speaker", "date", "medium", "text", "citations")}

TITLES = {"sources": "A source: one article of the corpus",
          "actors": "An actor: a person, government, military, militia, mission or outlet",
          "incidents": "An incident: an event, with claims cited from the sources",
          "statements": "A statement: words an actor said or wrote, quoted by a source"}

_TEXT = {"type": ["string", "number"]}  # the loader reads numbers as text too
_REF = "#/definitions/"


def _ref(name: str, description: str) -> dict:
    return {"$ref": _REF + name, "description": description}


def _text(description: str) -> dict:
    return {**_TEXT, "description": description}


def _id_list(description: str) -> dict:
    return {"type": "array", "items": {"$ref": _REF + "id"}, "description": description}


PROPERTIES: dict[str, dict[str, dict]] = {
    "sources": {
        "id": _ref("record-id", "This source's id, e.g. 'cnn-2020-12-20'; claims cite it."),
        "corpus": {"type": "string", "pattern": r"^corpus/[^/\\]+$",
                   "description": "The article's text file, e.g. 'corpus/005_ab12.txt'."},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                   "description": "SHA-256 of the corpus file (sha256sum); a change to the "
                                  "article is then caught."},
        "outlet": _ref("established", "Who published the article, and how that is known."),
        "title": _text("The headline, copied exactly from the article."),
        "published": _ref("established-date",
                          "When it appeared (YYYY-MM-DD, or a window START/END), and how that "
                          "is known; relative dates such as 'Sunday' are read against it."),
        "url": {"type": "string", "pattern": "^https?://",
                "description": "The article's address; leave it out when not known, never "
                               "guess it."},
        "archive_url": {"type": "string", "pattern": "^https?://",
                        "description": "A copy of the article in a web archive (Wayback "
                                       "Machine, archive.today), for when 'url' dies."},
        "language": _text("The article's language, e.g. 'en'."),
        "relays": _ref("established", "The agency or outlet whose reporting it relays."),
        "copy_of": _ref("established", "The outlet whose story this is a copy of."),
        "notes": _text("Anything a reader should know about this text."),
    },
    "actors": {
        "id": _ref("record-id", "This actor's id, e.g. 'mike-pompeo'."),
        "name": _text("The name readers see."),
        "kind": {"enum": list(model.ACTOR_KINDS), "description": "What kind of actor."},
        "aliases": {"type": "array", "items": _TEXT,
                    "description": "Other spellings the articles use; `suggest` matches "
                                   "speakers by them."},
        "claims": {"$ref": _REF + "actor-claims"},
    },
    "incidents": {
        "id": _ref("record-id", "This incident's id, e.g. 'green-zone-rockets-2020-12-20'."),
        "title": _text("A neutral title."),
        "kind": {"enum": list(model.INCIDENT_KINDS), "description": "What kind of event."},
        "date": _ref("fuzzy-date", "YYYY-MM-DD, YYYY-MM, YYYY, or START/END covering every "
                                   "claimed date."),
        "place": _text("Where it happened."),
        "related": _id_list("Ids of related incidents."),
        "claims": {"$ref": _REF + "incident-claims"},
    },
    "statements": {
        "id": _ref("record-id", "This statement's id, e.g. 'sadr-tweet-2020-12-20'."),
        "speaker": _ref("id", "The actor who said or wrote it."),
        "date": _ref("established-date", "When it was said, and how that is known."),
        "medium": {"enum": list(model.STATEMENT_MEDIA), "description": "How it was said."},
        "text": _text("The words, exactly as every citing source gives them."),
        "about": _id_list("Ids of the incidents it is about."),
        "citations": {"$ref": _REF + "citations"},
        "language_note": _text("A note on translation or wording."),
    },
}

_ESTABLISHED_PROPERTIES = {
    "basis": {"enum": list(model.BASES),
              "description": "'stated' (the text says it; give quotes), 'inferred' (say how in "
                             "evidence) or 'unknown' (no value)."},
    "evidence": _text("How the value was established, in a sentence a reader can check."),
    "quotes": {"type": "array", "items": _TEXT,
               "description": "Words of the article that state or support it, copied exactly."},
}
_CLAIM_PROPERTIES = {
    "detail": _text("What exactly the value covers, e.g. 'Iraqi soldier'."),
    "note": _text("How the value was read, e.g. \"resolved from 'Sunday' against published "
                  "2020-12-20\"."),
    "citations": {"$ref": _REF + "citations"},
}
_CITATION_PROPERTIES = {
    "source": _ref("id", "The id of the source quoted."),
    "quote": _text("Words copied exactly from the source's article; '...' may stand for "
                   "left-out words. `factsheet quote SOURCE \"words\"` finds them."),
    "according_to": _ref("id", "The actor the article attributes the claim to."),
}


class SchemaError(Exception):
    """The model has a key the schema does not describe: update generator/schema.py."""


def _object(keys: tuple[str, ...], properties: dict[str, dict], required: tuple[str, ...],
            where: str) -> dict:
    missing = [key for key in keys if key not in properties]
    extra = [key for key in properties if key not in keys]
    if missing or extra:
        raise SchemaError(f"{where}: keys without a schema {missing}, schemas without a key "
                          f"{extra}; describe every key of the loader in generator/schema.py")
    return {"type": "object", "properties": {key: properties[key] for key in keys},
            "required": list(required), "additionalProperties": False}


def _plain_groups(pattern: str) -> str:
    """A Python pattern made portable: no named groups, no anchors."""
    return re.sub(r"\(\?P<\w+>", "(", pattern).removeprefix("^").removesuffix("$")


def _any_case(pattern: str) -> str:
    """Make literal letters match either case, and spaces any run of whitespace.

    JSON Schema patterns have no flags; the loader lower-cases and collapses spaces first.
    """
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
        elif char.isascii() and char.isalpha():
            out.append(f"[{char.lower()}{char.upper()}]")
        elif char == " ":
            out.append(r"\s+")
        else:
            out.append(char)
        i += 1
    return "".join(out)


# model._DATE with the months and days that exist (it leaves those to `date()`); the
# tests hold it to FuzzyDate.parse.
_DAY = r"\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?"


def _definitions() -> dict:
    day = _DAY
    vague = "|".join(re.escape(word).replace("\\ ", " ") for word in model._VAGUE)
    quantity = _any_case(f"(?:{vague}|{_plain_groups(model._QUANTITY.pattern)})")
    definitions: dict[str, dict] = {
        "id": {"type": "string", "pattern": model.ID_PATTERN.pattern,
               "description": "Lower-case letters, digits and single hyphens, 1 to 80 "
                              "characters."},
        "record-id": {"allOf": [{"$ref": _REF + "id"},
                                {"not": {"enum": [*load.RESERVED_IDS, *load.DEVICE_NAMES]}}],
                      "description": "An id for this record's page: not 'index', nor a "
                                     "name Windows keeps for a device (con, nul, lpt1...)."},
        "fuzzy-date": {"anyOf": [
            {"type": "string", "pattern": rf"^\s*{day}(?:\s*/\s*{day})?\s*$"},
            {"type": "integer", "minimum": 1000, "maximum": 9999}],
            "description": "YYYY-MM-DD, YYYY-MM, YYYY, or a window START/END."},
        "quantity": {"anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": rf"^\s*{quantity}\s*$"}],
            "description": "8, 'at least 1', 'about 2,500', '17 to 18', or a word such as "
                           "'several'."},
        "citation": _object(load.CITATION_KEYS, _CITATION_PROPERTIES, ("source", "quote"),
                            "citation"),
        "citations": {"type": "array", "minItems": 1, "items": {"$ref": _REF + "citation"},
                      "description": "At least one source and the exact words it gives."},
    }
    for name, value in (("established", _text("The value.")),
                        ("established-date", _ref("fuzzy-date", "The date."))):
        body = _object(load.ESTABLISHED_KEYS, {"value": value, **_ESTABLISHED_PROPERTIES},
                       ("basis", "evidence"), name)
        body["allOf"] = [
            {"if": {"properties": {"basis": {"const": "stated"}}, "required": ["basis"]},
             "then": {"required": ["value", "quotes"],
                      "properties": {"quotes": {"minItems": 1}}}},
            {"if": {"properties": {"basis": {"const": "inferred"}}, "required": ["basis"]},
             "then": {"required": ["value"]}},
            {"if": {"properties": {"basis": {"const": "unknown"}}, "required": ["basis"]},
             "then": {"not": {"required": ["value"]}}}]
        definitions[name] = body
    for value_kind, value in (("quantity", {"$ref": _REF + "quantity"}),
                              ("date", {"$ref": _REF + "fuzzy-date"}),
                              ("text", _TEXT), ("actor", {"$ref": _REF + "id"})):
        definitions[f"claim-{value_kind}"] = _object(
            load.CLAIM_KEYS, {"value": value, **_CLAIM_PROPERTIES}, ("value", "citations"),
            f"claim ({value_kind})")
    definitions["actor-claims"] = _claims(model.ACTOR_FIELDS)
    definitions["incident-claims"] = _claims(model.INCIDENT_FIELDS)
    return definitions


def _claims(fields: dict[str, FieldSpec]) -> dict:
    properties = {}
    for name, spec in fields.items():
        how = ("several claims are gathered" if spec.multi
               else "one true value: several claims are shown as disagreeing versions")
        properties[name] = {"type": "array", "items": {"$ref": f"{_REF}claim-{spec.value}"},
                            "description": f"{spec.label} ({spec.value}; {how})."}
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "description": "Claims by field; each field lists one claim per version."}


def build_schema(kind: str) -> dict:
    """The JSON Schema of one kind of fact file ('sources', 'actors', ...)."""
    if kind not in KEYS:
        raise SchemaError(f"no kind {kind!r}; kinds are {', '.join(model.KINDS)}")
    body = _object(KEYS[kind], PROPERTIES[kind], REQUIRED[kind], kind)
    return {"$schema": DRAFT,
            "$comment": "Generated from generator/load.py and generator/model.py by "
                        "`factsheet schema --write`; do not edit by hand.",
            "title": TITLES[kind], **body, "definitions": _definitions()}


def schema_text(kind: str) -> str:
    """A schema as the shipped file holds it: indented JSON and a final newline."""
    return json.dumps(build_schema(kind), indent=2, ensure_ascii=False) + "\n"


def schema_path(root: Path, kind: str) -> Path:
    return root / SCHEMA_FOLDER / f"{kind}.schema.json"


def stale_schemas(root: Path) -> list[str]:
    """Kinds whose shipped schema file is missing or differs from a generated one."""
    return [kind for kind in model.KINDS
            if not schema_path(root, kind).is_file()
            or schema_path(root, kind).read_text(encoding="utf-8") != schema_text(kind)]


def write_schemas(root: Path) -> list[Path]:
    """Write `schemas/<kind>.schema.json` for every kind; return the files that changed."""
    changed = []
    for kind in stale_schemas(root):
        path = schema_path(root, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(schema_text(kind), encoding="utf-8")
        changed.append(path)
    return changed


def annotate_text(text: str, kind: str) -> str:
    """The text of a fact file with the schema modeline as its first line (idempotent)."""
    modeline = MODELINE.format(kind=kind)
    newline = "\r\n" if "\r\n" in text else "\n"
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text.removeprefix(bom)
    first, sep, rest = body.partition("\n")
    if first.rstrip("\r") == modeline:
        return text
    if first.startswith(_MODELINE_PREFIX):
        return bom + modeline + (newline if sep else "") + rest
    return bom + modeline + newline + body


def annotate(root: Path) -> list[Path]:
    """Add the schema modeline to every fact file that lacks it; return the files changed.

    Only the first line changes; a file that is not UTF-8 or is a link is left alone
    (`factsheet check` reports those).
    """
    changed = []
    for kind, path in load.fact_files(root):
        if path.is_symlink():
            continue
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        annotated = annotate_text(text, kind)
        if annotated != text:
            path.write_bytes(annotated.encode("utf-8"))
            changed.append(path)
    return changed
