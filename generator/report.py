"""Print problems for people (text), for GitHub Actions (annotations), or as JSON."""

from __future__ import annotations

import json

from .errors import Problem

FORMATS = ("text", "github", "json")


# Control characters (from a corpus passage, say) would move the cursor or recolour
# the contributor's terminal; they are shown as escapes instead.
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)]}


def format_text(problems: list[Problem]) -> str:
    """``path:line:col: error: message`` lines, each followed by its hint."""
    lines = []
    for p in problems:
        lines.append(f"{p.location}: {p.severity}: {p.message} [{p.code}]".translate(_CONTROLS))
        if p.hint:
            lines.append(f"    hint: {p.hint}".translate(_CONTROLS))
    return "\n".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(problems: list[Problem]) -> str:
    """GitHub Actions workflow commands that annotate the offending YAML lines."""
    lines = []
    for p in problems:
        props = [f"file={_escape_property(p.location.path)}"]
        if p.location.line:
            props += [f"line={p.location.line}", f"col={p.location.column}"]
        props.append(f"title={_escape_property('factsheet ' + p.code)}")
        body = p.message + (f"\nhint: {p.hint}" if p.hint else "")
        lines.append(f"::{p.severity} {','.join(props)}::{_escape_data(body)}")
    return "\n".join(lines)


def format_json(problems: list[Problem]) -> str:
    """A JSON list with one object per problem."""
    return json.dumps([
        {"path": p.location.path, "line": p.location.line, "column": p.location.column,
         "severity": p.severity, "code": p.code, "message": p.message, "hint": p.hint}
        for p in problems], indent=2, ensure_ascii=False)


def format_problems(problems: list[Problem], fmt: str) -> str:
    """Render problems in one of :data:`FORMATS`."""
    return {"text": format_text, "github": format_github, "json": format_json}[fmt](problems)


def summary(problems: list[Problem]) -> str:
    """'2 errors, 1 warning' for the last line of a run."""
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    return (f"{errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}")
