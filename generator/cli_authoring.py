"""Sub-commands for authors: `add-source`, `quote`, `suggest` and `schema`.

Each command is a few lines around :mod:`~generator.authoring`,
:mod:`~generator.suggest` and :mod:`~generator.schema`; errors raised there become
exit codes in :func:`generator.cli.main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .cli import project_root
from .model import KINDS

# The commands import what they use when they run: `factsheet check` registers them
# all, and should not pay for loading rapidfuzz, num2words and the authoring helpers.


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the authoring sub-commands on the `factsheet` parser."""
    add = commands.add_parser("add-source", help="copy an article into corpus/ and draft "
                                                 "its source record")
    add.add_argument("file", help="the article, as a UTF-8 text file")
    add.add_argument("--id", help="the source id (default: from the outlet and date found)")
    add.set_defaults(run=cmd_add_source)

    quote = commands.add_parser("quote", help="find words in a source and print a citation")
    quote.add_argument("source", help="a source id, or its corpus/ file")
    quote.add_argument("text", help="the words to find; '...' may stand for left-out words")
    quote.add_argument("--according-to", metavar="ACTOR",
                       help="the actor the article attributes the claim to")
    quote.set_defaults(run=cmd_quote)

    draft = commands.add_parser("suggest", help="draft statements, figures and dates from a "
                                                "source into drafts/SOURCE.yaml")
    draft.add_argument("source", help="a source id, or its corpus/ file")
    draft.add_argument("--stdout", action="store_true",
                       help="print the draft instead of writing drafts/SOURCE.yaml")
    draft.set_defaults(run=cmd_suggest)

    schema = commands.add_parser("schema", help="print the JSON Schema of a kind of fact file")
    schema.add_argument("kind", nargs="?", choices=KINDS,
                        help="one kind (default: all, as one JSON object by kind)")
    action = schema.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true",
                        help="write schemas/KIND.schema.json for every kind")
    action.add_argument("--check", action="store_true",
                        help="exit 1 if a file in schemas/ differs from the model")
    action.add_argument("--annotate", action="store_true",
                        help="add the schema modeline to every fact file that lacks it")
    schema.set_defaults(run=cmd_schema)


def cmd_add_source(args: argparse.Namespace) -> int:
    """Copy the article, write its source record, and say what was detected."""
    from .authoring import add_source

    root = project_root(args.root)
    added = add_source(root, Path(args.file), args.id)
    print(f"added source {added.id!r}")
    print(f"  {added.corpus_path.relative_to(root).as_posix()} (sha256 {added.sha256[:12]}...)")
    print(f"  {added.record_path.relative_to(root).as_posix()}: check every value marked "
          "CONFIRM")
    facts = added.facts
    for label, found in (("title", facts.title), ("outlet", facts.outlet),
                         ("relays", facts.relays), ("published", facts.published)):
        shown = f"{found.value!r} (from {found.how}, line {found.line})" if found else "not found"
        print(f"  {label}: {shown}")
    print(f"  dates mentioned: {len(facts.dates)}")
    print(f"next: factsheet suggest {added.id}")
    return 0


def cmd_quote(args: argparse.Namespace) -> int:
    """Print a citation for the passage, or the closest passage when there is none."""
    from . import citations as cit
    from .authoring import citation_block, find_passage, read_source_text

    source_text = read_source_text(project_root(args.root), args.source)
    passage = find_passage(source_text, args.text)
    if passage is None:
        closest, score = cit.closest_passage(args.text, source_text.text)
        print(f"factsheet quote: not found in {source_text.source.corpus}"
              + (f"; closest passage ({score:.0f}%): \"{closest}\"" if closest else ""),
              file=sys.stderr)
        return 1
    how = ("exact match" if passage.exact else
           f"approximate match ({passage.score:.0f}%): check it is the passage you mean")
    print(f"# {passage.corpus}:{passage.line}: {how}")
    print(citation_block(passage, args.according_to), end="")
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    """Write (or print) the draft for one source."""
    from .drafts import render_draft, write_draft
    from .suggest import suggest

    root = project_root(args.root)
    draft = suggest(root, args.source)
    if args.stdout:
        print(render_draft(draft), end="")
        return 0
    path = write_draft(root, draft)
    print(f"{path.relative_to(root).as_posix()}: {len(draft.statements)} statements, "
          f"{len(draft.claims)} claims, {len(draft.actors)} new actors to review")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print, write or check the schemas, or annotate the fact files with them."""
    from .schema import annotate, build_schema, stale_schemas, write_schemas

    if args.write or args.check or args.annotate:
        root = project_root(args.root)
        if args.write:
            for path in write_schemas(root):
                print(f"wrote {path.relative_to(root).as_posix()}")
            return 0
        if args.check:
            stale = stale_schemas(root)
            for kind in stale:
                print(f"schemas/{kind}.schema.json is out of date; run: factsheet schema --write",
                      file=sys.stderr)
            return 1 if stale else 0
        for path in annotate(root):
            print(f"annotated {path.relative_to(root).as_posix()}")
        return 0
    if args.kind:
        shown: object = build_schema(args.kind)
    else:
        shown = {kind: build_schema(kind) for kind in KINDS}
    print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0
