"""The JSON Schemas in schemas/: generated from the model, shipped, and in step with the loader.

A schema that disagrees with `factsheet check` would mislead an editor, so the tests hold
the two side by side: shipped files equal freshly generated ones, every fact file of the
repository validates, and on small records the schema accepts exactly what the loader
accepts.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import yaml

from generator import load, schema
from generator.check import check_project
from generator.cli import main
from generator.errors import Problem
from generator.model import FuzzyDate, KINDS, Quantity
from generator.yamlfile import Node, parse_yaml

from factories import dump_record, tiny_records, write_project

jsonschema = pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parent.parent


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def plain(node: Node):
    """A located YAML tree as the plain values an editor's YAML plug-in sees."""
    if isinstance(node.value, dict):
        return {key: plain(value) for key, value in node.value.items()}
    if isinstance(node.value, list):
        return [plain(item) for item in node.value]
    return node.value


def validator(kind: str):
    return jsonschema.Draft7Validator(schema.build_schema(kind))


def loads_cleanly(kind: str, record: dict) -> bool:
    """Whether the loader reads the record with no problem of its own."""
    problems: list[Problem] = []
    node = parse_yaml(dump_record(record).encode("utf-8"), f"facts/{kind}/x.yaml", problems)
    result = load.LOADERS[kind](node, problems)
    return result is not None and not problems


def test_shipped_schemas_equal_freshly_generated_ones():
    assert schema.stale_schemas(REPO) == [], "run: factsheet schema --write"
    for kind in KINDS:
        shipped = json.loads(schema.schema_path(REPO, kind).read_text(encoding="utf-8"))
        assert shipped == schema.build_schema(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_each_schema_is_a_valid_draft7_schema(kind):
    jsonschema.Draft7Validator.check_schema(schema.build_schema(kind))


def test_every_fact_file_of_the_repository_validates_against_its_schema():
    failures = []
    for kind, path in load.fact_files(REPO):
        node = parse_yaml(path.read_bytes(), path.name, [])
        for error in validator(kind).iter_errors(plain(node)):
            failures.append(f"{path.relative_to(REPO)}: {list(error.path)}: {error.message}")
    assert failures == []


def test_the_schema_describes_every_key_of_the_loader():
    for kind, keys in schema.KEYS.items():
        built = schema.build_schema(kind)
        assert list(built["properties"]) == list(keys)
        assert built["additionalProperties"] is False
    definitions = schema.build_schema("incidents")["definitions"]
    assert list(definitions["citation"]["properties"]) == list(load.CITATION_KEYS)
    assert list(definitions["established"]["properties"]) == list(load.ESTABLISHED_KEYS)
    assert list(definitions["claim-quantity"]["properties"]) == list(load.CLAIM_KEYS)
    assert set(definitions["incident-claims"]["properties"]) == set(
        schema.model.INCIDENT_FIELDS)


def test_a_key_added_to_the_loader_without_a_schema_is_an_error(monkeypatch):
    monkeypatch.setitem(schema.KEYS, "sources", (*load.SOURCE_KEYS, "byline"))
    with pytest.raises(schema.SchemaError, match=r"^sources: keys without a schema \['byline'\]"):
        schema.build_schema("sources")


@pytest.mark.parametrize("kind", KINDS)
def test_required_keys_are_those_the_loader_requires(kind):
    record = tiny_records()[kind][0]
    if kind == "sources":
        record["sha256"] = "0" * 64
    assert loads_cleanly(kind, record) and validator(kind).is_valid(
        json.loads(json.dumps(record, default=str)))
    for key in list(record):
        smaller = {k: v for k, v in record.items() if k != key}
        by_loader = loads_cleanly(kind, smaller)
        by_schema = validator(kind).is_valid(json.loads(json.dumps(smaller, default=str)))
        assert by_loader == by_schema, f"{kind} without {key!r}: loader {by_loader}, " \
                                       f"schema {by_schema}"
        assert by_schema == (key not in schema.REQUIRED[kind])


@pytest.mark.parametrize("kind, key, value", [
    ("actors", "kind", "warlord"), ("incidents", "kind", "skirmish"),
    ("statements", "medium", "carrier pigeon"), ("actors", "nickname", "x"),
    ("incidents", "date", "2020-13"), ("statements", "speaker", "Not An Id"),
    ("actors", "id", "index"), ("incidents", "id", "lpt1"),
])
def test_schema_and_loader_both_refuse_a_wrong_value(kind, key, value):
    record = tiny_records()[kind][0]
    record[key] = value
    assert not loads_cleanly(kind, record)
    assert not validator(kind).is_valid(json.loads(json.dumps(record, default=str)))


@pytest.mark.parametrize("raw", [
    8, 0, -1, "8", "at least 1", "About 2,500", "17 to 18", "3 or 4", "1-2", "several",
    "A  Volley", "dozens", "eight", "at least", " at  most 5 ", "up to 3", "roughly 40",
    "2,500", "5 – 7", "9 to 2", "unknown", "some", 2.5, True])
def test_quantity_schema_agrees_with_the_model(raw):
    record = {"value": raw, "citations": [{"source": "s", "quote": "q"}]}
    by_schema = jsonschema.Draft7Validator(
        {**schema.build_schema("incidents")["definitions"]["claim-quantity"],
         "definitions": schema.build_schema("incidents")["definitions"]}).is_valid(record)
    # the schema cannot compare the two ends of a range: '9 to 2' passes it, not the model
    expected = Quantity.parse(raw) is not None or raw == "9 to 2"
    assert by_schema == expected


@pytest.mark.parametrize("raw", [
    "2020-12-20", "2020-12", "2020", 2020, "2020-11-17/2020-11-18", " 2020-12 / 2021 ",
    "20-12-2020", "December 2020", "2020/12/20", 20201220, "2020-12-20/", "2020-13",
    "2020-00-10", "2020-12-32", "2020-12-31", "2020-02-30"])
def test_date_schema_agrees_with_the_model(raw):
    definitions = schema.build_schema("incidents")["definitions"]
    by_schema = jsonschema.Draft7Validator(
        {"$ref": "#/definitions/fuzzy-date", "definitions": definitions}).is_valid(raw)
    # a pattern cannot know February's length: '2020-02-30' passes it, not the model
    assert by_schema == (FuzzyDate.parse(raw) is not None or raw == "2020-02-30")


def test_established_needs_quotes_when_stated_and_no_value_when_unknown():
    definitions = schema.build_schema("sources")["definitions"]
    check = jsonschema.Draft7Validator({"$ref": "#/definitions/established",
                                        "definitions": definitions}).is_valid
    assert check({"value": "CNN", "basis": "stated", "evidence": "e", "quotes": ["CNN"]})
    assert not check({"value": "CNN", "basis": "stated", "evidence": "e"})
    assert not check({"value": "CNN", "basis": "stated", "evidence": "e", "quotes": []})
    assert check({"value": "CNN", "basis": "inferred", "evidence": "e"})
    assert not check({"basis": "inferred", "evidence": "e"})
    assert check({"basis": "unknown", "evidence": "e"})
    assert not check({"value": "CNN", "basis": "unknown", "evidence": "e"})


# --- the modeline --------------------------------------------------------------------

MODELINE = "# yaml-language-server: $schema=../../schemas/actors.schema.json"


@pytest.mark.parametrize("before, after", [
    ("id: a\n", f"{MODELINE}\nid: a\n"),
    (f"{MODELINE}\nid: a\n", f"{MODELINE}\nid: a\n"),
    ("# yaml-language-server: $schema=old.json\nid: a\n", f"{MODELINE}\nid: a\n"),
    ("id: a\r\nname: b\r\n", f"{MODELINE}\r\nid: a\r\nname: b\r\n"),
    ("\ufeff# a comment\nid: a", f"\ufeff{MODELINE}\n# a comment\nid: a"),
])
def test_annotate_text_puts_the_modeline_first_once(before, after):
    assert schema.annotate_text(before, "actors") == after
    assert schema.annotate_text(after, "actors") == after


def test_annotate_adds_the_modeline_to_every_fact_file_idempotently(tmp_path):
    root = write_project(tmp_path)
    before = check_project(root)
    changed = schema.annotate(root)
    assert sorted(p.relative_to(root).as_posix() for p in changed) == sorted(
        p.relative_to(root).as_posix() for _, p in load.fact_files(root))
    for kind, path in load.fact_files(root):
        assert path.read_text(encoding="utf-8").splitlines()[0] == \
            schema.MODELINE.format(kind=kind)
    assert schema.annotate(root) == []
    after = check_project(root)
    assert (after.problems, list(after.records.sources)) == ([], list(before.records.sources))


def test_annotate_leaves_a_file_that_is_not_utf8_alone(tmp_path):
    root = write_project(tmp_path)
    broken = root / "facts" / "actors" / "broken.yaml"
    broken.write_bytes(b"id: caf\xe9\n")
    schema.annotate(root)
    assert broken.read_bytes() == b"id: caf\xe9\n"


# --- the command ---------------------------------------------------------------------

def test_cli_schema_prints_one_kind_or_all():
    code, out, err = run("schema", "statements")
    assert (code, err) == (0, "")
    assert json.loads(out) == schema.build_schema("statements")
    code, out, _ = run("schema")
    assert code == 0 and list(json.loads(out)) == list(KINDS)


def test_cli_schema_check_write_and_annotate(tmp_path):
    assert run("--root", str(REPO), "schema", "--check")[0] == 0
    root = write_project(tmp_path)
    code, _, err = run("--root", str(root), "schema", "--check")
    assert code == 1
    assert err.splitlines()[0] == ("schemas/sources.schema.json is out of date; run: "
                                   "factsheet schema --write")
    code, out, _ = run("--root", str(root), "schema", "--write")
    assert code == 0 and out.splitlines() == [f"wrote schemas/{kind}.schema.json"
                                              for kind in KINDS]
    assert run("--root", str(root), "schema", "--check")[0] == 0
    assert run("--root", str(root), "schema", "--write")[1] == ""
    code, out, _ = run("--root", str(root), "schema", "--annotate")
    assert code == 0 and "annotated facts/actors/iraqi-military.yaml" in out.splitlines()
    assert run("--root", str(root), "schema", "--annotate")[1] == ""


def test_shipped_yaml_with_a_modeline_still_loads(tmp_path):
    records = tiny_records()
    root = write_project(tmp_path, records)
    schema.annotate(root)
    assert check_project(root).problems == []
    assert yaml.safe_load((root / "facts" / "actors" / "iraqi-military.yaml").read_text())[
        "id"] == "iraqi-military"
