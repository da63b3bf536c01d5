"""Broken fact files: each kind of mistake is one clear problem at its file, line and column.

Every test writes one broken file into the tiny project of :mod:`factories`, runs
``factsheet check`` and asserts the exact problems (all of them, in every file), exit
code 1, and that no traceback was printed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from factories import INCIDENT_ID, dump_record, run_check, tiny_records, write_fact, write_project

ACTOR = "facts/actors/iraqi-military.yaml"
INCIDENT = f"facts/incidents/{INCIDENT_ID}.yaml"
ACTOR_HEAD = "id: iraqi-military\nname: Iraqi military\nkind: military\n"
ALIAS_HINT = "anchors and aliases (&name / *name) are not used in fact files"
MAPPING_HERE = "invalid YAML: mapping values are not allowed in this context"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path)


def check_with(root: Path, rel: str, content: str | bytes) -> list[tuple]:
    """Write ``rel`` with ``content``, run the check, and return every problem it reports.

    Each problem is (path, line, column, code, message).  The run must fail with exit
    code 1 and print no traceback.
    """
    kind, name = rel.split("/")[1:]
    write_fact(root, kind, name, content)
    code, out, err = run_check(root, "--format", "json")
    assert "Traceback" not in out + err
    assert code == 1
    return [(p["path"], p["line"], p["column"], p["code"], p["message"])
            for p in json.loads(out)]


def test_the_tiny_project_is_clean(project):
    assert run_check(project)[0] == 0


def test_text_output_names_file_line_and_column(project):
    write_fact(project, "actors", "iraqi-military.yaml",
               "id: iraqi-military\nname: Iraqi military\n\tkind: military\n")
    code, out, err = run_check(project)
    assert code == 1
    assert out.splitlines()[0] == (
        f"{ACTOR}:3:1: error: invalid YAML: while scanning a plain scalar (line 2, column 7) "
        "found a tab character that violates indentation [yaml-syntax]")
    assert "Traceback" not in out + err


def test_tab_indentation(project):
    text = "id: iraqi-military\nname: Iraqi military\n\tkind: military\n"
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 3, 1, "yaml-syntax", "invalid YAML: while scanning a plain scalar (line 2, "
                                     "column 7) found a tab character that violates indentation")]


def test_bad_indentation(project):
    text = "id: iraqi-military\n  name: Iraqi military\nkind: military\n"
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 2, 7, "yaml-syntax", MAPPING_HERE)]


@pytest.mark.parametrize("quote", ['"', "'"])
def test_unclosed_quote_points_where_it_opens(project, quote):
    text = f"id: iraqi-military\nname: {quote}Iraqi military\nkind: military\n"
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 2, 7, "yaml-syntax", "invalid YAML: while scanning a quoted scalar (line 2, "
                                     "column 7) found unexpected end of stream")]


def test_stray_colon_in_a_value(project):
    text = "id: iraqi-military\nname: Iraqi military: army\nkind: military\n"
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 2, 21, "yaml-syntax", MAPPING_HERE)]


@pytest.mark.parametrize("line, expected", [
    ("name: {first: Iraqi}", (2, 7, "wrong-type", "'name' in actor must be text, not a mapping")),
    ("name: [Iraqi, military]", (2, 7, "wrong-type", "'name' in actor must be text, not a list")),
    ("name: true", (2, 7, "wrong-type", "'name' in actor must be text, not a bool")),
    ("name: ''", (2, 7, "empty-value", "'name' in actor is empty")),
    ("name:", (1, 1, "missing-key", "actor has no 'name'")),
])
def test_wrong_type_of_a_value(project, line, expected):
    text = f"id: iraqi-military\n{line}\nkind: military\n"
    assert check_with(project, ACTOR, text) == [(ACTOR, *expected)]


def test_wrong_types_deeper_in_a_record(project):
    records = tiny_records()
    claims = records["incidents"][0]["claims"]
    claims["rockets"][0]["value"] = [8]
    claims["place"][0]["citations"] = "wire-2020-12-20"
    text = dump_record(records["incidents"][0])
    assert check_with(project, INCIDENT, text) == [
        (INCIDENT, 14, 16, "wrong-type", "'citations' in claim 'place' must be a list "
                                         "(lines starting with '- ')"),
        (INCIDENT, 17, 5, "bad-quantity", "a list is not a count for 'rockets'"),
    ]


def test_the_file_is_not_a_mapping(project):
    assert check_with(project, ACTOR, "- id: iraqi-military\n") == [
        (ACTOR, 1, 1, "wrong-type",
         "a fact file must be a mapping of 'key: value' lines, not a list")]


def test_non_utf8_byte_is_located_by_character_column(project):
    text = "id: iraqi-military\nname: Irakische Streitkräfte \xff\nkind: military\n"
    raw = text.encode("utf-8").replace(b"\xc3\xbf", b"\xff")  # a Latin-1 byte, not UTF-8
    assert check_with(project, ACTOR, raw) == [
        (ACTOR, 2, 30, "encoding", "byte 0xff is not valid UTF-8")]


def test_utf16_file(project):
    assert check_with(project, ACTOR, ACTOR_HEAD.encode("utf-16")) == [
        (ACTOR, 1, 1, "encoding", "byte 0xff is not valid UTF-8")]


def test_control_character(project):
    text = "id: iraqi-military\nname: Iraqi\x1b[31m military\nkind: military\n"
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 2, 12, "yaml-syntax", "invalid YAML: character U+001B is not allowed")]


def test_byte_order_mark_is_harmless(project):
    write_fact(project, "actors", "iraqi-military.yaml", b"\xef\xbb\xbf" + ACTOR_HEAD.encode())
    code, out, err = run_check(project)
    assert (code, out) == (0, "")
    assert "Traceback" not in err


def test_byte_order_mark_does_not_shift_columns(project):
    text = b"\xef\xbb\xbfid: iraqi-military\nname: Iraqi military\nkind: milit\n"
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 3, 7, "bad-value", "'kind' 'milit' is not allowed")]


@pytest.mark.parametrize("content", ["", "   \n\n", "# to do\n", "\xef\xbb\xbf"])
def test_empty_file(project, content):
    assert check_with(project, ACTOR, content.encode("latin-1")) == [
        (ACTOR, 1, 1, "empty-file", "file is empty")]


def test_very_large_file(project):
    text = ACTOR_HEAD + "aliases:\n" + "  - Iraqi army\n" * 300_000
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 1, 1, "file-too-large", "file is 4,500,064 bytes; the limit is 4,194,304")]


def test_file_of_too_many_values_is_refused_before_it_is_composed(project):
    text = ACTOR_HEAD + "aliases: [" + "a, " * 100_000 + "a]\n"
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 4, 299_984, "file-too-large", "the file holds more than 100,000 values")]


def test_alias_bomb_is_refused_where_each_alias_is_written(project):
    text = ACTOR_HEAD + "aliases: &a [army, army, army]\nnotes: [*a, *a]\n"
    alias = "alias '*a' is not allowed: " + ALIAS_HINT
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 5, 1, "unknown-key", "unknown key 'notes' in actor"),
        (ACTOR, 5, 9, "yaml-alias", alias),
        (ACTOR, 5, 13, "yaml-alias", alias),
    ]


def test_billion_laughs_is_quick(project):
    rows = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    problems = check_with(project, ACTOR, ACTOR_HEAD + "\n".join(rows) + "\n")
    assert len([p for p in problems if p[3] == "yaml-alias"]) == 81
    assert {p[3] for p in problems} == {"yaml-alias", "unknown-key"}


def test_undefined_alias(project):
    assert check_with(project, ACTOR, "id: iraqi-military\nname: *name\nkind: military\n") == [
        (ACTOR, 2, 7, "yaml-alias", "alias '*name' is not allowed: " + ALIAS_HINT),
        (ACTOR, 2, 7, "yaml-syntax", "invalid YAML: found undefined alias"),
    ]


def test_duplicate_key(project):
    text = "id: iraqi-military\nname: Iraqi military\nname: Iraqi army\nkind: military\n"
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 3, 1, "duplicate-key", "duplicate key 'name' (first at line 2)")]


def test_duplicate_key_in_a_nested_mapping(project):
    records = tiny_records()
    text = dump_record(records["incidents"][0]).replace(
        "      quote: Eight rockets were fired\n",
        "      quote: Eight rockets were fired\n      quote: Eight rockets\n")
    assert check_with(project, INCIDENT, text) == [
        (INCIDENT, 22, 7, "duplicate-key", "duplicate key 'quote' (first at line 21)")]


@pytest.mark.parametrize("line, column, message", [
    ("2020: founded", 1, "key '2020' is read as int, not text"),
    ("no: comment", 1, "key 'no' is read as bool, not text"),
    ("~: nothing", 1, "key '~' is read as null, not text"),
    ("1.5: x", 1, "key '1.5' is read as float, not text"),
    ("? [a, b]\n: x", 3, "a key must be a plain word"),
    ("<<: {aliases: [army]}", 1, "a key must be a plain word"),
])
def test_key_that_is_not_text(project, line, column, message):
    assert check_with(project, ACTOR, ACTOR_HEAD + line + "\n") == [
        (ACTOR, 4, column, "yaml-key", message)]


@pytest.mark.parametrize("day", ["2020-02-30", "2021-02-29", "2020-13-01", "2020-00",
                                 "2020-12-21/2020-12-20", "20-12-2020", "0000-01-01"])
def test_date_that_does_not_exist(project, day):
    text = dump_record(tiny_records()["incidents"][0]).replace(
        "date: 2020-12-20\nplace", f"date: {day}\nplace")
    assert check_with(project, INCIDENT, text) == [
        (INCIDENT, 4, 7, "bad-date", f"'{day}' is not a date")]


def test_claimed_date_that_does_not_exist(project):
    text = dump_record(tiny_records()["incidents"][0]).replace(
        "  - value: 2020-12-20", "  - value: 2020-11-31")
    assert check_with(project, INCIDENT, text) == [
        (INCIDENT, 1, 1, "no-citation", f"incident '{INCIDENT_ID}' has no cited 'date' claim"),
        (INCIDENT, 8, 12, "bad-date", "'2020-11-31' is not a date"),
    ]


def test_a_date_given_as_a_mapping_is_described_not_dumped(project):
    text = dump_record(tiny_records()["incidents"][0]).replace(
        "date: 2020-12-20\nplace", "date: {day: 20}\nplace")
    assert check_with(project, INCIDENT, text) == [
        (INCIDENT, 4, 7, "bad-date", "a mapping is not a date")]


def test_two_documents_in_one_file(project):
    assert check_with(project, ACTOR, ACTOR_HEAD + "---\nid: iraqi-army\n") == [
        (ACTOR, 4, 1, "yaml-syntax", "invalid YAML: expected a single document in the stream "
                                     "(line 1, column 1) but found another document")]


@pytest.mark.parametrize("value, column", [
    ("!!python/object/apply:os.system [ls]", 7),
    ("!!binary aGVsbG8=", 7),
    ("!!set {a, b}", 7),
])
def test_tags_are_refused_and_never_constructed(project, value, column):
    problems = check_with(project, ACTOR, f"id: iraqi-military\nname: {value}\nkind: military\n")
    assert [p for p in problems if p[3] == "yaml-tag"] == [
        (ACTOR, 2, column, "yaml-tag",
         f"unsupported tag 'tag:yaml.org,2002:{value.split()[0].removeprefix('!!')}'")]


def test_deep_nesting_is_refused_before_it_is_composed(project):
    text = ACTOR_HEAD + "aliases: " + "[" * 60 + "]" * 60 + "\n"
    assert check_with(project, ACTOR, text) == [
        (ACTOR, 4, 59, "yaml-too-deep", "lists and mappings are nested more than 50 levels deep")]


def test_nesting_that_would_crash_libyaml_is_an_error_in_a_fresh_process(project):
    # libyaml's composer recurses in C: this file used to end the interpreter with SIGSEGV
    write_fact(project, "actors", "iraqi-military.yaml",
               ACTOR_HEAD + "aliases: " + "[" * 500_000 + "]" * 500_000 + "\n")
    run = subprocess.run([sys.executable, "-m", "generator.cli", "--root", str(project), "check"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    # where: the 51st bracket, or where libyaml's own limit (1,000 levels, PyYAML 6.0.4 and
    # later) stops its scanner, which reads ahead of the events
    first = run.stdout.splitlines()[0]
    expected = (rf"{re.escape(ACTOR)}:4:(59|1009): error: lists and mappings are nested "
                r"more than 50 levels deep \[yaml-too-deep\]")
    assert re.fullmatch(expected, first), first
    assert "Traceback" not in run.stderr


def test_every_broken_file_is_reported_in_one_run(project):
    write_fact(project, "actors", "iraqi-military.yaml", "id: iraqi-military\nname: 'x\n")
    problems = check_with(project, INCIDENT, dump_record(tiny_records()["incidents"][0])
                          .replace("date: 2020-12-20\nplace", "date: 2020-02-30\nplace"))
    assert [(p[0], p[3]) for p in problems] == [(ACTOR, "yaml-syntax"), (INCIDENT, "bad-date")]
