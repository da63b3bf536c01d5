"""Paths: corpus references stay inside `corpus/`, ids make safe page paths, and a corpus
file edited after it was cited is caught by its SHA-256 with the quotes that no longer verify.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from factories import (ARTICLE, ARTICLE_NAME, INCIDENT_ID, SOURCE_ID, STATEMENT_ID, dump_record,
                       run_check, sha256_of, tiny_records, write_corpus, write_fact,
                       write_project)
from generator.check import check_project

SOURCE = f"facts/sources/{SOURCE_ID}.yaml"
ACTOR = "facts/actors/iraqi-military.yaml"
INCIDENT = f"facts/incidents/{INCIDENT_ID}.yaml"
STATEMENT = f"facts/statements/{STATEMENT_ID}.yaml"
SHA_LINE = (3, 9)  # where the source's sha256 value starts


def problems(root: Path, *options: str) -> list[tuple]:
    """Every problem of a failing run without traceback: (path, line, col, code, message)."""
    code, out, err = run_check(root, "--format", "json", *options)
    assert "Traceback" not in out + err
    assert code == 1
    return [(p["path"], p["line"], p["column"], p["code"], p["message"]) for p in json.loads(out)]


def errors(root: Path) -> list[tuple]:
    return [p for p in problems(root) if p[3] != "unreferenced-corpus"]


def project_citing(root: Path, corpus_path: str, sha256: str | None = None) -> Path:
    """The tiny project with its source pointing at ``corpus_path``."""
    records = tiny_records()
    records["sources"][0]["corpus"] = corpus_path
    if sha256:
        records["sources"][0]["sha256"] = sha256
    return write_project(root, records)


# --- corpus references outside corpus/ ---------------------------------------------------

@pytest.mark.parametrize("corpus_path", [
    "../corpus/001_wire.txt",
    "corpus/../facts/sources/wire-2020-12-20.yaml",
    "corpus/../../outside.txt",
    "/etc/passwd",
    "//etc/passwd",
    "corpus\\001_wire.txt",
    "corpus/sub/001_wire.txt",
    "001_wire.txt",
    "corpus",
    "corpus/",
    "Corpus/001_wire.txt",
    "corpus/001_wire.txt\0.png",
    "corpus/\x1b[2J.txt",
])
def test_corpus_path_outside_corpus_is_refused(tmp_path, corpus_path):
    root = project_citing(tmp_path, corpus_path)
    assert errors(root) == [
        (SOURCE, 2, 9, "bad-corpus-path",
         f"corpus path {corpus_path!r} is not a file in corpus/")]


def test_corpus_file_that_is_a_symbolic_link_is_refused_and_not_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(ARTICLE, encoding="utf-8")  # would verify every quote
    root = project_citing(tmp_path / "project", f"corpus/{ARTICLE_NAME}")
    (root / "corpus" / ARTICLE_NAME).unlink()
    os.symlink(outside / "secret.txt", root / "corpus" / ARTICLE_NAME)
    assert errors(root) == [
        (SOURCE, 2, 9, "bad-corpus-path", f"corpus/{ARTICLE_NAME} is a symbolic link")]
    assert check_project(root).corpus.text == {}


def test_corpus_link_to_another_corpus_file_is_refused_too(tmp_path):
    root = project_citing(tmp_path, "corpus/002_link.txt")
    os.symlink(root / "corpus" / ARTICLE_NAME, root / "corpus" / "002_link.txt")
    assert errors(root) == [
        (SOURCE, 2, 9, "bad-corpus-path", "corpus/002_link.txt is a symbolic link")]


def test_corpus_folder_that_is_a_symbolic_link_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / ARTICLE_NAME).write_text(ARTICLE, encoding="utf-8")
    root = tmp_path / "project"
    root.mkdir()
    os.symlink(outside, root / "corpus")
    write_project(root, corpus={})
    assert errors(root) == [
        (SOURCE, 2, 9, "bad-corpus-path",
         f"corpus/ is a symbolic link, so corpus/{ARTICLE_NAME} lies outside the project")]
    assert check_project(root).corpus.text == {}


def test_missing_corpus_file(tmp_path):
    root = project_citing(tmp_path, "corpus/002_missing.txt")
    assert errors(root) == [
        (SOURCE, 2, 9, "missing-corpus", "corpus/002_missing.txt does not exist")]


def test_corpus_path_that_is_a_folder(tmp_path):
    root = project_citing(tmp_path, "corpus/002_folder.txt")
    (root / "corpus" / "002_folder.txt").mkdir()
    assert errors(root) == [
        (SOURCE, 2, 9, "missing-corpus", "corpus/002_folder.txt does not exist")]


def test_fact_file_that_is_a_symbolic_link_is_refused(tmp_path):
    root = write_project(tmp_path / "project")
    target = tmp_path / "elsewhere.yaml"
    target.write_text(dump_record({"id": "planted", "name": "Planted", "kind": "group"}))
    os.symlink(target, root / "facts" / "actors" / "planted.yaml")
    assert errors(root) == [
        ("facts/actors/planted.yaml", 0, 0, "symlink", "fact files may not be symbolic links")]
    assert "planted" not in check_project(root).records.actors


def test_kind_folder_that_is_a_symbolic_link_is_refused(tmp_path):
    root = write_project(tmp_path / "project")
    outside = tmp_path / "outside"
    (root / "facts" / "actors").rename(outside)
    os.symlink(outside, root / "facts" / "actors")
    result = check_project(root)
    assert ("facts/actors", "symlink", "a kind folder may not be a symbolic link; its files "
            "are not read") in [(str(p.location), p.code, p.message) for p in result.problems]
    assert result.records.actors == {}


def test_yaml_files_outside_the_kind_folders_are_stray(tmp_path):
    root = write_project(tmp_path / "project")
    facts = root / "facts"
    for stray in ("x.yaml", ".hidden.yml", "incidents/nested/deeper.yaml", "folder.yaml/in.yml",
                  "other/deep/d.yml"):
        (facts / stray).parent.mkdir(parents=True, exist_ok=True)
        (facts / stray).write_text("id: x\n")
    (facts / "notes.txt").write_text("not YAML")
    (facts / "incidents" / "folder.yaml").mkdir()  # a folder in a kind folder: nothing to read
    (facts / "elsewhere").mkdir()
    os.symlink(facts / "other", facts / "linked")  # a linked folder is not followed
    os.symlink(facts / "other", facts / "linked.yaml")  # but is a stray name itself
    stray = sorted(str(p.location) for p in check_project(root).problems if p.code == "stray-file")
    assert stray == ["facts/.hidden.yml", "facts/folder.yaml", "facts/folder.yaml/in.yml",
                     "facts/incidents/nested/deeper.yaml", "facts/linked.yaml",
                     "facts/other/deep/d.yml", "facts/x.yaml"]


# --- ids and page paths ------------------------------------------------------------------

@pytest.mark.parametrize("ident", ["../etc", "a/b", "a\\b", "Iraqi", "iraqi.military",
                                   "iraqi_military", "-iraqi", "iraqi-", "ïraqi", "a" * 81,
                                   "iraqi military", "%2e%2e"])
def test_id_that_is_no_safe_file_name_is_refused(tmp_path, ident):
    root = write_project(tmp_path)
    actor = tiny_records()["actors"][0] | {"id": ident}
    write_fact(root, "actors", "iraqi-military.yaml", dump_record(actor))
    assert [p for p in errors(root) if p[0] == ACTOR] == [
        (ACTOR, 1, 5, "bad-id", f"'id' {ident!r} is not a valid id")]


def test_longest_id_is_accepted(tmp_path):
    records = tiny_records()
    records["actors"].append({"id": "a" * 80, "name": "A", "kind": "group"})
    code, out, _ = run_check(write_project(tmp_path, records))
    assert (code, out) == (0, "")


@pytest.mark.parametrize("kind, ident, message", [
    ("actors", "index", "id 'index' is reserved: its page would replace the page listing all "
                        "actors"),
    ("incidents", "index", "id 'index' is reserved: its page would replace the page listing "
                           "all incidents"),
    ("actors", "con", "id 'con' names a device on Windows, where its page could not be written"),
    ("actors", "lpt1", "id 'lpt1' names a device on Windows, where its page could not be "
                       "written"),
])
def test_id_whose_page_would_collide_is_refused(tmp_path, kind, ident, message):
    records = tiny_records()
    record = records[kind][0] | {"id": ident}
    root = write_project(tmp_path, {**records, kind: []})
    write_fact(root, kind, f"{ident}.yaml", dump_record(record))
    rel = f"facts/{kind}/{ident}.yaml"
    assert [p for p in problems(root) if p[0] == rel] == [(rel, 1, 5, "bad-id", message)]


def test_same_id_in_two_kinds_is_refused(tmp_path):
    records = tiny_records()
    records["actors"].append({"id": INCIDENT_ID, "name": "Namesake", "kind": "group"})
    root = write_project(tmp_path, records)
    write_fact(root, "actors", "namesake.yaml", dump_record(records["actors"][-1]))
    (root / "facts" / "actors" / f"{INCIDENT_ID}.yaml").unlink()
    assert errors(root) == [
        (INCIDENT, 1, 1, "duplicate-id",
         f"id {INCIDENT_ID!r} is already used at facts/actors/namesake.yaml:1:1")]


def test_same_id_in_two_files_of_one_kind_is_refused(tmp_path):
    root = write_project(tmp_path)
    write_fact(root, "actors", "zz-copy.yaml", dump_record(tiny_records()["actors"][0]))
    assert errors(root) == [
        ("facts/actors/zz-copy.yaml", 1, 1, "duplicate-id",
         f"id 'iraqi-military' is already used at {ACTOR}:1:1")]


def test_file_name_that_is_not_utf8_is_shown_escaped(tmp_path):
    root = write_project(tmp_path)
    name = os.fsdecode(b"bad\xff.yaml")
    try:
        write_fact(root, "actors", name, "id: bad\n")
    except (OSError, UnicodeEncodeError):  # pragma: no cover - file systems that refuse it
        pytest.skip("this file system refuses file names that are not UTF-8")
    paths = {p[0] for p in problems(root)}
    assert "facts/actors/bad\\xff.yaml" in paths


# --- a corpus file edited after it was cited ---------------------------------------------

def test_edited_corpus_lists_the_quotes_that_no_longer_verify(tmp_path):
    root = write_project(tmp_path)
    write_corpus(root, ARTICLE_NAME, ARTICLE.replace("Eight rockets", "Seven rockets"))
    found = problems(root)
    stale = [(p[0], p[1], p[2]) for p in found if p[3] == "quote-not-found"]
    assert stale == [(INCIDENT, 21, 14), (STATEMENT, 10, 7), (STATEMENT, 15, 10)]
    (changed,) = [p for p in found if p[3] == "corpus-changed"]
    assert changed == (
        SOURCE, *SHA_LINE, "corpus-changed",
        f"corpus/{ARTICLE_NAME} has changed since it was cited: its SHA-256 is "
        f"{sha256_of(ARTICLE.replace('Eight rockets', 'Seven rockets'))}, the source records "
        f"{sha256_of(ARTICLE)}; 3 quotes no longer verify: {INCIDENT}:21:14, "
        f"{STATEMENT}:10:7, {STATEMENT}:15:10")


def test_edited_corpus_whose_quotes_still_verify(tmp_path):
    root = write_project(tmp_path)
    write_corpus(root, ARTICLE_NAME, ARTICLE + "Updated at 18:00.\n")
    assert problems(root) == [
        (SOURCE, *SHA_LINE, "corpus-changed",
         f"corpus/{ARTICLE_NAME} has changed since it was cited: its SHA-256 is "
         f"{sha256_of(ARTICLE + 'Updated at 18:00.' + chr(10))}, the source records "
         f"{sha256_of(ARTICLE)}; every quote from it still verifies")]


def test_edited_corpus_with_a_stale_title_and_evidence(tmp_path):
    root = write_project(tmp_path)
    edited = ARTICLE.replace("Rockets hit", "Rockets struck").replace("By Example", "From Example")
    write_corpus(root, ARTICLE_NAME, edited)
    (changed,) = [p for p in problems(root) if p[3] == "corpus-changed"]
    assert changed[4].endswith(f"; 2 quotes no longer verify: {SOURCE}:4:8, {SOURCE}:10:5")


def test_edited_corpus_that_is_no_longer_utf8(tmp_path):
    root = write_project(tmp_path)
    raw = ARTICLE.encode("utf-8") + "Mis à jour.\n".encode("latin-1")
    write_corpus(root, ARTICLE_NAME, raw)
    assert problems(root) == [
        (f"corpus/{ARTICLE_NAME}", 5, 5, "encoding", "byte 0xe0 is not valid UTF-8"),
        (SOURCE, *SHA_LINE, "corpus-changed",
         f"corpus/{ARTICLE_NAME} has changed since it was cited: its SHA-256 is "
         f"{sha256_of(raw)}, the source records {sha256_of(ARTICLE)}; its quotes cannot be "
         "checked until it is valid UTF-8"),
    ]


def test_corpus_with_a_byte_order_mark_keeps_its_quotes(tmp_path):
    records = tiny_records()
    root = write_project(tmp_path, records, {ARTICLE_NAME: "\ufeff" + ARTICLE})
    code, out, _ = run_check(root)
    assert (code, out) == (0, "")
