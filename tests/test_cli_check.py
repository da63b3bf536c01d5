"""`factsheet check` as CI sees it: output formats, exit codes, and the shipped facts."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from generator.check import check_project
from generator.cli import main

REPO = Path(__file__).resolve().parent.parent
BASE = Path(__file__).parent / "cases" / "check" / "_base"


@pytest.fixture
def broken_project(tmp_path: Path) -> Path:
    """The base case project with one quote changed by one word."""
    shutil.copytree(BASE, tmp_path, dirs_exist_ok=True)
    incident = tmp_path / "facts/incidents/attack.yaml"
    incident.write_text(incident.read_text().replace("Eight rockets were fired",
                                                     "Eight rockets were launched"))
    return tmp_path


def test_shipped_facts_pass_the_strict_check() -> None:
    result = check_project(REPO)
    assert [str(p.location) + " " + p.message for p in result.problems] == []
    assert len(result.records.sources) == 5


def test_text_format_prints_location_severity_message_and_hint(broken_project, capsys):
    assert main(["--root", str(broken_project), "check"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "facts/incidents/attack.yaml:22:18: error: quote not found in corpus/article.txt "
        "(source 'article'); closest passage (85%): \"said. Eight rockets were fired at the area,\" "
        "[quote-not-found]",
        "    hint: copy the words exactly from the article; '...' may stand for left-out words, "
        "and quotes, dashes and spaces may differ in typography only",
    ]
    assert re.match(r"factsheet check: 1 error, 0 warnings \(1 sources, 2 actors, 1 incidents, "
                    r"1 statements, 4 citations; \d+\.\d\d s\)", err)


def test_github_format_annotates_the_yaml_line(broken_project, capsys):
    assert main(["--root", str(broken_project), "check", "--format", "github"]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("::error file=facts/incidents/attack.yaml,line=22,col=18,"
                           "title=factsheet quote-not-found::quote not found in ")
    assert "%0Ahint: copy the words exactly" in line


def test_json_format_is_a_list_of_problems(broken_project, capsys):
    assert main(["--root", str(broken_project), "check", "--format", "json"]) == 1
    (problem,) = json.loads(capsys.readouterr().out)
    assert problem["path"] == "facts/incidents/attack.yaml"
    assert (problem["line"], problem["column"]) == (22, 18)
    assert problem["severity"] == "error" and problem["code"] == "quote-not-found"


def test_warnings_fail_only_under_strict(tmp_path, capsys):
    shutil.copytree(BASE, tmp_path, dirs_exist_ok=True)
    (tmp_path / "corpus/stray.txt").write_text("An uncited article.\n")
    assert main(["--root", str(tmp_path), "check"]) == 0
    assert main(["--root", str(tmp_path), "check", "--strict"]) == 1


@pytest.mark.parametrize("argv", [["check", "--format", "xml"], ["frobnicate"], []])
def test_usage_errors_exit_2(argv, capsys):
    assert main(["--root", str(BASE), *argv]) == 2


def test_a_folder_without_facts_is_a_usage_error(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "check"]) == 2
    assert "has no facts/ folder" in capsys.readouterr().err


def _quote_locations(root: Path):
    result = check_project(root)
    for _record, _claim, citation in result.records.all_citations():
        yield citation.quote


def _change_one_word(lines: list[str], line: int, quote: str) -> list[str] | None:
    """Replace the first word of ``quote`` found at or after ``line`` (1-based)."""
    words = [w for w in re.findall(r"[A-Za-z]{4,}", quote)]
    for number in range(line - 1, min(len(lines), line + 6)):
        for word in words:
            if re.search(rf"\b{word}\b", lines[number]):
                changed = list(lines)
                changed[number] = re.sub(rf"\b{word}\b", word + "x", lines[number], count=1)
                return changed
    return None


def test_changing_one_word_of_any_shipped_quote_fails_at_its_file_and_line(tmp_path):
    shutil.copytree(REPO / "facts", tmp_path / "facts")
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    quotes = list(_quote_locations(tmp_path))
    assert len(quotes) >= 20
    for quote in quotes:
        path = tmp_path / quote.loc.path
        original = path.read_text(encoding="utf-8")
        changed = _change_one_word(original.splitlines(keepends=True), quote.loc.line, quote.text)
        assert changed is not None, quote
        path.write_text("".join(changed), encoding="utf-8")
        try:
            problems = check_project(tmp_path).errors
        finally:
            path.write_text(original, encoding="utf-8")
        places = {(p.location.path, p.location.line, p.code) for p in problems}
        assert (quote.loc.path, quote.loc.line, "quote-not-found") in places, quote
