"""Run every case file in tests/cases/check/: a facts snippet, a corpus snippet, the messages.

A case file starts with a comment saying what it is about, then ``args:`` and ``exit:``
lines, then sections.  ``--- PATH`` replaces or adds a file of the base project in
``_base/``; ``--- delete PATH`` removes one; ``--- expect`` lists the exact problem
lines `factsheet check` must print, in order (hints are left out).  ``{sha:PATH}``
stands for the SHA-256 of a corpus file as the case leaves it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from generator.check import CheckCache, check_facts, check_project
from generator.cli import main
from generator.model import ACTOR_FIELDS, INCIDENT_FIELDS, Incident

CASES = Path(__file__).parent / "cases" / "check"


def _parse(path: Path) -> tuple[dict[str, str], dict[str, str | None], list[str]]:
    header: dict[str, str] = {}
    files: dict[str, str | None] = {}
    expect: list[str] = []
    section: str | None = None
    lines: list[str] = []

    def close() -> None:
        if section is None:
            return
        if section == "expect":
            expect.extend(line for line in lines if line.strip())
        elif section.startswith("delete "):
            files[section.removeprefix("delete ")] = None
        else:
            files[section] = "\n".join(lines) + "\n"

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("--- "):
            close()
            section, lines = line[4:].strip(), []
        elif section is None:
            if line.strip() and not line.startswith("#"):
                key, _, value = line.partition(":")
                header[key.strip()] = value.strip()
        else:
            lines.append(line)
    close()
    return header, files, expect


def _materialise(tmp: Path, files: dict[str, str | None]) -> None:
    shutil.copytree(CASES / "_base", tmp, dirs_exist_ok=True)
    for rel, content in files.items():
        target = tmp / rel
        if content is None:
            target.unlink()
        elif not rel.startswith("facts/"):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
    for rel, content in files.items():  # facts last: they may name corpus digests
        if content is not None and rel.startswith("facts/"):
            def digest(match: re.Match) -> str:
                return hashlib.sha256((tmp / match.group(1)).read_bytes()).hexdigest()
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(re.sub(r"\{sha:([^}]+)\}", digest, content), encoding="utf-8")


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("*.txt")))
def test_case(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header, files, expect = _parse(CASES / case)
    _materialise(tmp_path, files)
    args = header.get("args", "").split()
    code = main(["--root", str(tmp_path), "check", *args])
    out = capsys.readouterr().out
    printed = [line for line in out.splitlines() if not line.startswith("    hint: ")]
    assert printed == expect
    assert code == int(header["exit"])


def test_every_case_file_says_what_it_checks() -> None:
    cases = sorted(CASES.glob("*.txt"))
    assert len(cases) >= 15
    for path in cases:
        assert path.read_text(encoding="utf-8").startswith("# "), path.name


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("*.txt")))
def test_the_check_on_every_core_finds_what_the_serial_check_finds(case: str, tmp_path: Path):
    """`factsheet check` reads the files in forked workers, and so does the build, which
    has them send their records back; a preview checks in process.

    All must report the same problems and counts, whatever the case breaks, and the
    build's check must give the same records and the same places of quotes.
    """
    _materialise(tmp_path, _parse(CASES / case)[1])
    serial = check_project(tmp_path, workers=1)
    counts = {kind: len(getattr(serial.records, kind))
              for kind in ("sources", "actors", "incidents", "statements")}
    counts["citations"] = sum(1 for _ in serial.records.all_citations())
    for workers in (1, 2, 3):
        forked = check_facts(tmp_path, workers)
        assert forked.problems == serial.problems, workers
        assert forked.counts == counts == serial.counts
        kept = check_project(tmp_path, workers=workers)
        assert kept.problems == serial.problems, workers
        assert kept.records == serial.records and kept.counts == serial.counts
        for kind in ("actors", "incidents", "statements"):  # in the same order, too
            assert list(getattr(kept.records, kind)) == list(getattr(serial.records, kind))
        assert kept.corpus.matches == serial.corpus.matches
        assert all(claim.field is (INCIDENT_FIELDS if isinstance(record, Incident)
                                   else ACTOR_FIELDS)[claim.field.name]
                   for record, claim, _ in kept.records.all_citations() if claim is not None)


def test_a_refused_duplicate_adds_no_problems_of_its_content_when_checked_apart(tmp_path: Path):
    """The second record with an id is refused: its quotes and references are not checked,
    even when another worker than the first record's read it."""
    _materialise(tmp_path, {})
    incidents = tmp_path / "facts" / "incidents"
    wrong = (incidents / "attack.yaml").read_text(encoding="utf-8").replace(
        "Eight rockets were fired", "Nine rockets were fired").replace(
        "according_to: military", "according_to: nobody")
    (incidents / "zz-attack-again.yaml").write_text(wrong, encoding="utf-8")
    serial = check_project(tmp_path, workers=1)
    assert [p.code for p in serial.problems] == ["duplicate-id"]
    assert check_facts(tmp_path, 2).problems == serial.problems
    kept = check_project(tmp_path, workers=2)
    assert kept.problems == serial.problems and kept.records == serial.records


def test_a_preview_checks_again_only_the_files_that_changed(tmp_path: Path):
    _materialise(tmp_path, {})
    cache = CheckCache()
    first = check_project(tmp_path, cache)
    assert first.problems == [] and cache.reused == 0
    others = sum(1 for p in (tmp_path / "facts").rglob("*.yaml") if p.parent.name != "sources")

    attack = tmp_path / "facts" / "incidents" / "attack.yaml"
    attack.write_text(attack.read_text(encoding="utf-8").replace(
        "Eight rockets were fired", "Nine rockets were fired"), encoding="utf-8")
    again = check_project(tmp_path, cache)
    fresh = check_project(tmp_path)
    assert cache.reused == others - 1
    assert again.problems == fresh.problems
    assert "quote-not-found" in [p.code for p in again.problems]
    # where rendering places each quote (the cache may also hold quotes no longer cited)
    assert fresh.corpus.matches.items() <= again.corpus.matches.items()
    assert again.records == fresh.records
    # the source files were not read into records again: the same objects
    assert all(again.records.sources[ident] is first.records.sources[ident]
               for ident in first.records.sources)

    source = next((tmp_path / "facts" / "sources").iterdir())
    text = source.read_text(encoding="utf-8")
    assert "- on Sunday night" in text
    source.write_text(text.replace("- on Sunday night", "- on Monday night"), encoding="utf-8")
    edited = check_project(tmp_path, cache)
    assert edited.problems == check_project(tmp_path).problems
    assert "quote-not-found" in [p.code for p in edited.problems if p.location.path ==
                                 f"facts/sources/{source.name}"]  # the edit is read
    source.write_text(text, encoding="utf-8")
    assert check_project(tmp_path, cache).problems == again.problems

    article = next((tmp_path / "corpus").iterdir())
    added = "\nNine rockets were fired at the area.\n"
    article.write_text(article.read_text(encoding="utf-8") + added, encoding="utf-8")
    changed = check_project(tmp_path, cache)
    assert cache.reused == 0  # every record is checked against the changed article
    assert changed.problems == check_project(tmp_path).problems
    assert "quote-not-found" not in [p.code for p in changed.problems]


def test_the_build_check_forks_workers_only_for_a_large_project(tmp_path: Path, monkeypatch):
    from generator import check

    _materialise(tmp_path, {})
    forked = []
    real = check.fork_then
    monkeypatch.setattr(check, "fork_then", lambda *args: forked.append(args[3]) or real(*args))
    small = check_project(tmp_path)
    assert forked == []
    monkeypatch.setattr(check, "FORK_FROM_FILES", 1)
    monkeypatch.setattr(check, "cores", lambda: 2)
    large = check_project(tmp_path)
    assert forked == [2]
    assert large.problems == small.problems and large.records == small.records
