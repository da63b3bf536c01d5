"""Warn when a contributor writes Markdown or HTML inside fact text.

The site shows fact text literally (see :func:`generator.render.md_escape`), so a
link, emphasis or tag written in YAML appears as its raw characters.  That is safe,
but rarely what the contributor meant; this lint says so at check time.
markdown-it-py parses with ``html=False``, as a CommonMark reader would.
"""

from __future__ import annotations

import re

from functools import cache

from .errors import Location, Problem
from .model import Actor, Incident

# Only text with one of these can hold markup; the rest skips the parser entirely.
_MAYBE = re.compile(r"[*_`\[\]<>#!|{}~\\]|^\s*(?:[-+>]|\d+[.)])\s|\n")
_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^>]*)?>|<!--")
_ALLOWED = {"paragraph_open", "paragraph_close", "inline", "text", "softbreak"}
_NAMES = {"link_open": "a link", "image": "an image", "em_open": "emphasis",
          "strong_open": "bold text", "code_inline": "inline code", "heading_open": "a heading",
          "bullet_list_open": "a list", "ordered_list_open": "a list",
          "blockquote_open": "a block quote", "fence": "a code block",
          "code_block": "a code block", "hr": "a rule", "hardbreak": "a line break"}


@cache
def _parser():
    from markdown_it import MarkdownIt  # imported when some text may hold markup

    return MarkdownIt("commonmark", {"html": False})


def markup_in(text: str) -> str | None:
    """What kind of markup ``text`` holds, or None when it is plain text."""
    if not _MAYBE.search(text):
        return None
    if _TAG.search(text):
        return "an HTML tag"
    for token in _parser().parse(text):
        for t in [token, *(token.children or [])]:
            if t.type not in _ALLOWED:
                return _NAMES.get(t.type, t.type.replace("_open", "").replace("_", " "))
    return None


def lint_record(record: Actor | Incident, problems: list[Problem]) -> None:
    """Warn about markup in the free text of an incident or actor and its claims."""
    def lint(text: str | None, loc: Location, what: str) -> None:
        if text and (kind := markup_in(text)):
            problems.append(Problem(
                loc, "warning", "markup-in-text",
                f"{what} contains {kind}; the site shows it literally, as typed",
                "fact text is plain text: remove the markup, or keep it if the characters "
                "are meant literally"))

    if isinstance(record, Incident):
        lint(record.title, record.loc, "the title")
        lint(record.place, record.loc, "the place")
    else:
        lint(record.name, record.loc, "the name")
    for claim in record.claims:
        if claim.field.value == "text":
            lint(str(claim.value), claim.value_loc, f"claims.{claim.field.name}")
        lint(claim.detail, claim.loc, f"the detail of claims.{claim.field.name}")
        lint(claim.note, claim.loc, f"the note of claims.{claim.field.name}")
