"""Problems found in the facts, and the few exceptions the library raises.

Checks never raise on bad data: they collect :class:`Problem` records so that a
contributor sees every mistake in one run.  Exceptions are for conditions that
stop a command outright (a missing project folder, a failed MkDocs build).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(slots=True, order=True, unsafe_hash=True)
class Location:
    """A place in a file: path relative to the project root, 1-based line and column.

    Treat it as immutable (it is hashed).  It is not a frozen dataclass because a check
    makes a few hundred thousand, and a frozen one takes three times as long to make.
    """

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.column}"
        return self.path


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of a check: where, how bad, what is wrong, and how to fix it."""

    location: Location
    severity: Severity
    code: str
    message: str
    hint: str = ""

    def sort_key(self) -> tuple:
        return (self.location, self.severity != "error", self.code, self.message)


class FactsheetError(Exception):
    """Base class for errors that stop a factsheet command."""


class ProjectError(FactsheetError):
    """The project folder is missing or lacks the expected layout."""


class BuildError(FactsheetError):
    """A stage of the site build failed; the previous site is left untouched."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []  # what the failed stage found, for the CLI to show


class UsageError(FactsheetError):
    """The command line asked for something that cannot be done."""
