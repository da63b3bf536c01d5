"""Build a tiny, valid fact-sheet project in a temporary folder, so a test states only what
it is about.

The project has one corpus article, one source citing it (with the article's real SHA-256),
one actor, one incident with cited date and place claims, and one statement; `factsheet
check` passes on it with no errors and no warnings.  A test changes what it needs::

    records = tiny_records()
    records["incidents"][0]["date"] = "2020-02-30"
    root = write_project(tmp_path, records)
    code, out, err = run_check(root)

Records are plain dicts written with :func:`dump_record`; a test that needs exact line
numbers writes its own text with :func:`write_fact`.  Nothing here writes outside the
folder it is given.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import hashlib
import io
from pathlib import Path

import yaml

from generator.cli import main

ARTICLE_NAME = "001_wire.txt"
ARTICLE = (
    "Rockets hit Baghdad Green Zone\n"
    "By Example Wire\n"
    "BAGHDAD, 20 December 2020 - Eight rockets were fired at the Green Zone in Baghdad on "
    "Sunday, the Iraqi military said in a statement.\n"
    "One Iraqi soldier was injured when a rocket landed near a checkpoint.\n"
)

SOURCE_ID = "wire-2020-12-20"
ACTOR_ID = "iraqi-military"
INCIDENT_ID = "green-zone-rockets-2020-12-20"
STATEMENT_ID = "iraqi-military-statement-2020-12-20"

# Written unquoted, as contributors write dates (YAML would read it as a timestamp).
DAY = datetime.date(2020, 12, 20)

# A source's sha256 of AUTO is replaced by the digest of the corpus file it names.
AUTO = "AUTO"


def sha256_of(text: str | bytes) -> str:
    """The SHA-256 a source records for a corpus file with this content (UTF-8)."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(raw).hexdigest()


def tiny_records() -> dict[str, list[dict]]:
    """A fresh copy of the tiny project's records, by kind folder, for a test to change."""
    citation = {"source": SOURCE_ID, "quote": "Eight rockets were fired",
                "according_to": ACTOR_ID}
    return copy.deepcopy({
        "sources": [{
            "id": SOURCE_ID,
            "corpus": f"corpus/{ARTICLE_NAME}",
            "sha256": AUTO,
            "title": "Rockets hit Baghdad Green Zone",
            "outlet": {"value": "Example Wire", "basis": "stated",
                       "evidence": "The byline names the agency.",
                       "quotes": ["By Example Wire"]},
            "published": {"value": DAY, "basis": "stated",
                          "evidence": "The dateline gives the day.",
                          "quotes": ["BAGHDAD, 20 December 2020"]},
            "language": "en",
        }],
        "actors": [{"id": ACTOR_ID, "name": "Iraqi military", "kind": "military"}],
        "incidents": [{
            "id": INCIDENT_ID,
            "title": "Rocket attack on the Green Zone",
            "kind": "attack",
            "date": DAY,
            "place": "Green Zone, Baghdad",
            "claims": {
                "date": [{"value": DAY, "citations": [
                    {"source": SOURCE_ID, "quote": "BAGHDAD, 20 December 2020"}]}],
                "place": [{"value": "Green Zone, Baghdad", "citations": [
                    {"source": SOURCE_ID, "quote": "fired at the Green Zone in Baghdad"}]}],
                "rockets": [{"value": 8, "citations": [citation]}],
            },
        }],
        "statements": [{
            "id": STATEMENT_ID,
            "speaker": ACTOR_ID,
            "date": {"value": DAY, "basis": "stated",
                     "evidence": "The dateline gives the day.",
                     "quotes": ["BAGHDAD, 20 December 2020"]},
            "medium": "statement",
            "text": "Eight rockets were fired at the Green Zone in Baghdad",
            "about": [INCIDENT_ID],
            "citations": [{"source": SOURCE_ID,
                           "quote": "Eight rockets were fired at the Green Zone in Baghdad"}],
        }],
    })


class _PlainDumper(yaml.SafeDumper):
    """Writes every value out in full: fact files refuse anchors and aliases."""

    def ignore_aliases(self, data) -> bool:
        return True


def dump_record(record: dict) -> str:
    """A record as a contributor would write it: block style, keys in the given order."""
    return yaml.dump(record, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True,
                     width=1000)


def write_fact(root: Path, kind: str, name: str, content: str | bytes) -> Path:
    """Write ``facts/<kind>/<name>`` verbatim (text as UTF-8) and return its path."""
    path = root / "facts" / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def write_corpus(root: Path, name: str, content: str | bytes) -> Path:
    """Write ``corpus/<name>`` verbatim (text as UTF-8) and return its path."""
    path = root / "corpus" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def write_project(root: Path, records: dict[str, list[dict]] | None = None,
                  corpus: dict[str, str | bytes] | None = None) -> Path:
    """Write a project into ``root``: corpus files, then one YAML file per record.

    ``records`` defaults to :func:`tiny_records` and ``corpus`` to the one article.  Each
    record is written to ``facts/<kind>/<id>.yaml``; a source's ``sha256`` of
    :data:`AUTO` becomes the digest of the ``corpus`` entry it names (or of
    :data:`ARTICLE` when it names none, e.g. a path outside `corpus/`).  Returns ``root``.
    """
    records = tiny_records() if records is None else records
    corpus = {ARTICLE_NAME: ARTICLE} if corpus is None else corpus
    for name, content in corpus.items():
        write_corpus(root, name, content)
    for kind in ("sources", "actors", "incidents", "statements"):
        (root / "facts" / kind).mkdir(parents=True, exist_ok=True)
        for record in records.get(kind, []):
            record = dict(record)
            if record.get("sha256") == AUTO:
                name = str(record.get("corpus", "")).removeprefix("corpus/")
                record["sha256"] = sha256_of(corpus.get(name, ARTICLE))
            write_fact(root, kind, f"{record['id']}.yaml", dump_record(record))
    return root


def run_check(root: Path, *options: str) -> tuple[int, str, str]:
    """Run ``factsheet --root ROOT check [OPTIONS]``; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--root", str(root), "check", *options])
    return code, out.getvalue(), err.getvalue()
