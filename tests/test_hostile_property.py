"""Hostile input, generated: `factsheet check` reports problems and never raises.

Hypothesis mutates the tiny project of :mod:`factories` -- byte flips, truncation,
inserted tabs, quotes, colons and YAML syntax, random Unicode, values swapped for
other types, deleted and renamed keys, edited and undecodable corpora, hostile corpus
paths -- and asserts that every run

* returns exit code 0 or 1, and 1 exactly when an error is reported, without raising;
* prints no traceback;
* reports each problem at a path inside the project, and at a line and column >= 1
  (and within the file) whenever the problem is in a regular file's text.

The default run is small enough for every test run.  ``HYPOTHESIS_PROFILE=thorough``
generates about 5,000 inputs; add ``--hypothesis-show-statistics`` to see the counts::

    HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_hostile_property.py \\
        --hypothesis-show-statistics
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from pathlib import Path, PurePosixPath

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import ARTICLE, ARTICLE_NAME, dump_record, run_check, sha256_of, tiny_records
from generator.check import check_project

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def examples(default: int, thorough: int):
    """Settings for one property: few examples by default, many in the thorough profile."""
    return settings(max_examples=thorough if THOROUGH else default, deadline=None,
                    database=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.data_too_large])


# Problems about a whole file or folder rather than a place in its text.
FILE_LEVEL = {"symlink", "stray-file", "unreferenced-corpus", "unreadable"}

RECORDS = tiny_records()
KIND_OF = {f"facts/{kind}/{record['id']}.yaml": (kind, index)
           for kind, records in RECORDS.items() for index, record in enumerate(records)}
FACT_FILES = sorted(KIND_OF)
SOURCE_FILE = next(rel for rel in FACT_FILES if rel.startswith("facts/sources/"))
CORPUS_FILE = f"corpus/{ARTICLE_NAME}"


def base_files() -> dict[str, bytes]:
    """The tiny project as file contents, with the source's real SHA-256 filled in."""
    files = {CORPUS_FILE: ARTICLE.encode("utf-8")}
    for rel, (kind, index) in KIND_OF.items():
        record = dict(RECORDS[kind][index])
        if kind == "sources":
            record["sha256"] = sha256_of(ARTICLE)
        files[rel] = dump_record(record).encode("utf-8")
    return files


BASE = base_files()


# --- strategies ----------------------------------------------------------------------------

SNIPPETS = [b"\t", b"  ", b"\t  ", b'"', b"'", b":", b": ", b" :", b"- ", b"-", b"\n", b"\r",
            b"\r\n", b"#", b"&a ", b"*a", b"&a [1]", b"[*a, *a]", b"!!python/object:os.system ",
            b"!!binary ", b"!!set ", b"!custom ", b"{", b"}", b"[", b"]", b",", b"? ", b"<<: ",
            b"---\n", b"...\n", b"%YAML 1.1\n", b"%TAG ! tag:x,2000:\n", b"|", b">-", b"\\",
            b"\xef\xbb\xbf", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\x1b[2J", b"\x85",
            "\u2028".encode(), b"~", b"null", b"yes", b"0x1F", b"0o17", b"1_000", b".nan",
            b".inf", b"1e999", b"2020-02-30", b"2020-12-20T10:00:00", b"9" * 5000,
            b"[" * 60, b"{a: " * 60, b"id: ", b"claims:\n", b"citations: ", b"value: ",
            b"quote: ", b"source: ", b"  - ", b"\n  - source: x\n    quote: y\n"]

inserted = st.one_of(st.sampled_from(SNIPPETS), st.binary(max_size=8),
                     st.text(max_size=12).map(lambda t: t.encode("utf-8")))


@st.composite
def byte_mutation(draw, raw: bytes) -> bytes:
    """One edit of a file's bytes: flip, truncate, insert, delete, or move lines."""
    op = draw(st.sampled_from(["flip", "truncate", "insert", "insert", "delete", "copy-line",
                               "swap-lines", "indent"]))
    at = draw(st.integers(0, len(raw)))
    if op == "flip" and raw:
        at = min(at, len(raw) - 1)
        return raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1:]
    if op == "truncate":
        return raw[:at]
    if op == "delete":
        return raw[:at] + raw[at + draw(st.integers(1, 40)):]
    lines = raw.split(b"\n")
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    if op == "copy-line":
        lines.insert(j, lines[i])
    elif op == "swap-lines":
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "indent":
        lines[i] = draw(st.sampled_from([b"", b" ", b"   ", b"\t", b"      "])) + lines[i].lstrip()
    else:  # insert
        return raw[:at] + draw(inserted) + raw[at:]
    return b"\n".join(lines)


@st.composite
def mutated_bytes(draw, raw: bytes, max_edits: int = 4) -> bytes:
    for _ in range(draw(st.integers(1, max_edits))):
        raw = draw(byte_mutation(raw))
    return raw


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.dates(), st.datetimes(), st.just(""), st.just("   "), st.just("2020-02-30"),
    st.just("2020-12-21/2020-12-20"), st.just("9" * 5000), st.just("../../etc/passwd"),
    st.just("index"), st.just("con"), st.sampled_from(["several", "at least 1", "2 to 1",
                                                        "about 2,500", "-3"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def _places(node, path=()):
    """Every (path, container, key) in a record, for picking what to change."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield path + (key,), node, key
        if isinstance(value, (dict, list)):
            yield from _places(value, path + (key,))


@st.composite
def mutated_record(draw, record: dict) -> dict:
    """The record with values swapped for other types, keys deleted, added or renamed."""
    record = json.loads(json.dumps(record, default=str))  # a deep copy; dates become text
    for _ in range(draw(st.integers(1, 3))):
        places = list(_places(record))
        if not places:
            break
        _, container, key = draw(st.sampled_from(places))
        op = draw(st.sampled_from(["swap", "swap", "delete", "add", "rename"]))
        if op == "swap":
            container[key] = draw(values)
        elif op == "delete":
            del container[key]
        elif op == "add" and isinstance(container, dict):
            container[draw(st.text(max_size=10))] = draw(values)
        elif op == "add":
            container.insert(key, draw(values))
        elif isinstance(container, dict):
            new_key = draw(st.one_of(st.text(max_size=10), st.sampled_from(list(container))))
            container[new_key] = container.pop(key)
    return record


def _json_safe(value):
    return value.isoformat() if isinstance(value, (datetime.date, datetime.datetime)) else value


# --- running a project and checking the report ---------------------------------------------

def run_project(files: dict[str, bytes], links: dict[str, str] | None = None,
                strict: bool = False) -> None:
    """Write ``files`` into a fresh folder, run the check, and assert the report is sound."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for rel, raw in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(raw)
        for rel, target in (links or {}).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, root / rel)
        code, out, err = run_check(root, "--format", "json", *(["--strict"] if strict else []))
        assert_sound_report(root, code, out, err, strict)


def assert_sound_report(root: Path, code: int, out: str, err: str, strict: bool = False) -> None:
    """Exit 0 or 1 as the problems say, no traceback, every place inside the project."""
    assert "Traceback" not in out and "Traceback" not in err
    problems = json.loads(out)
    fails = any(p["severity"] == "error" or strict for p in problems)
    assert code == (1 if fails else 0), (code, problems)
    for p in problems:
        rel = PurePosixPath(p["path"])
        assert not rel.is_absolute() and ".." not in rel.parts, p
        target = root / rel
        assert target.exists() or target.is_symlink(), p
        if p["code"] in FILE_LEVEL or not target.is_file() or target.is_symlink():
            continue
        text = target.read_bytes().decode("utf-8", "replace")
        assert 1 <= p["line"] <= len(text.splitlines()) + 1, p
        assert p["column"] >= 1, p


# --- the properties ------------------------------------------------------------------------

@examples(default=80, thorough=1500)
@given(st.data())
def test_byte_mutations_of_fact_files(data):
    files = dict(BASE)
    for rel in data.draw(st.lists(st.sampled_from(FACT_FILES), min_size=1, max_size=2,
                                  unique=True)):
        files[rel] = data.draw(mutated_bytes(files[rel]))
    run_project(files)


@examples(default=80, thorough=1500)
@given(st.data())
def test_type_swaps_and_deleted_keys(data):
    files = dict(BASE)
    rel = data.draw(st.sampled_from(FACT_FILES))
    kind, index = KIND_OF[rel]
    record = dict(RECORDS[kind][index])
    if kind == "sources":
        record["sha256"] = sha256_of(ARTICLE)
    mutated = data.draw(mutated_record(record))
    files[rel] = json.dumps(mutated, default=_json_safe).encode("utf-8")  # JSON is YAML
    if data.draw(st.booleans()):
        files[rel] = dump_record(mutated).encode("utf-8")
    if data.draw(st.booleans()):
        files[rel] = data.draw(mutated_bytes(files[rel], max_edits=2))
    run_project(files, strict=data.draw(st.booleans()))


@examples(default=60, thorough=1200)
@given(st.data())
def test_mutated_corpora(data):
    files = dict(BASE)
    article = data.draw(st.one_of(
        mutated_bytes(files[CORPUS_FILE]),
        st.binary(max_size=200),
        st.text(max_size=300).map(lambda t: t.encode("utf-8")),
        st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe" + ARTICLE.encode("utf-16-le"),
                         ARTICLE.encode("utf-8") + b"9" * 5000,
                         ARTICLE.replace("Eight", "Seven").encode("utf-8")])))
    files[CORPUS_FILE] = article
    if data.draw(st.booleans()):  # re-cite it, so its quotes are checked against the edit
        record = dict(RECORDS["sources"][0], sha256=sha256_of(article))
        files[SOURCE_FILE] = dump_record(record).encode("utf-8")
    if data.draw(st.booleans()):
        extra = data.draw(st.text(min_size=1, max_size=12, alphabet=st.characters(
            blacklist_characters="/\\\0", blacklist_categories=("Cs",))))
        if extra not in (".", ".."):
            files[f"corpus/{extra}"] = data.draw(st.binary(max_size=50))
    run_project(files)


HOSTILE_PATHS = ["../corpus/001_wire.txt", "corpus/../corpus/001_wire.txt", "/etc/passwd",
                 "corpus/link.txt", "corpus/dirlink/001_wire.txt", "corpus/", "corpus/.",
                 "corpus//001_wire.txt", "corpus/./001_wire.txt", "corpus\\001_wire.txt",
                 "corpus/001_wire.txt\0", "~/corpus/001_wire.txt", "corpus/ 001_wire.txt"]


@examples(default=60, thorough=500)
@given(st.one_of(st.sampled_from(HOSTILE_PATHS), st.text(max_size=40)))
def test_hostile_corpus_paths_are_never_followed(corpus_path):
    with tempfile.TemporaryDirectory() as folder:
        outside = Path(folder) / "outside"
        outside.mkdir()
        (outside / ARTICLE_NAME).write_text(ARTICLE, encoding="utf-8")
        root = Path(folder) / "project"
        for rel, raw in BASE.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(raw)
        os.symlink(outside / ARTICLE_NAME, root / "corpus" / "link.txt")
        os.symlink(outside, root / "corpus" / "dirlink")
        record = dict(RECORDS["sources"][0], corpus=corpus_path, sha256=sha256_of(ARTICLE))
        (root / SOURCE_FILE).write_text(dump_record(record), encoding="utf-8")
        code, out, err = run_check(root, "--format", "json")
        assert_sound_report(root, code, out, err)
        read = check_project(root).corpus.text
        inside = PurePosixPath(corpus_path.strip()) == PurePosixPath("corpus", ARTICLE_NAME)
        assert bool(read) == (inside and corpus_path == corpus_path.strip()
                              and corpus_path.isprintable()), (corpus_path, read.keys())


@examples(default=40, thorough=300)
@given(st.data())
def test_mutations_everywhere_at_once(data):
    files = {rel: data.draw(mutated_bytes(raw, max_edits=3)) if data.draw(st.booleans()) else raw
             for rel, raw in BASE.items()}
    links = {}
    if data.draw(st.booleans()):
        links["facts/actors/linked.yaml"] = "/etc/hostname"
    if data.draw(st.booleans()):
        files["facts/stray.yaml"] = data.draw(st.binary(max_size=30))
    run_project(files, links)


# --- libyaml's composed tree against the event reader ----------------------------------------

def _tree(node) -> object:
    """A read tree as plain values, with the line and column of every value and key."""
    where = (node.mark.line, node.mark.column)
    if isinstance(node.value, dict):
        return ("mapping", where, [(key, (node.key_marks[key].line, node.key_marks[key].column),
                                    _tree(value)) for key, value in node.value.items()])
    if isinstance(node.value, list):
        return ("list", where, [_tree(item) for item in node.value])
    return (type(node.value).__name__, where, node.value)


def assert_composed_agrees(raw: bytes) -> bool:
    """When libyaml's composed tree is taken for a file, the event reader reads the same
    tree from it and has nothing to say; True when it was taken."""
    from generator import yamlfile

    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return False
    composed = yamlfile._composed(text, "f.yaml")
    if composed is None:
        return False
    problems = []
    read = yamlfile._read_events(text, "f.yaml", problems)
    assert problems == [] and _tree(composed) == _tree(read)
    return True


def test_the_composed_tree_is_the_event_readers_for_every_shipped_and_fixture_file():
    root = Path(__file__).parent.parent
    files = [*root.glob("facts/*/*.yaml"), *root.glob("tests/**/*.yaml"), *BASE_FACTS]
    numbers = [f"{key}: {value}\n".encode() for key in ("n", "7", "2020-12-20")
               for value in ("0", "7", "07", "09", "10", "1_000", "0x1F", "1:30", "٣",
                             "2020-12-20", "2020-1-2", "1e3", "12.5")]
    taken = [assert_composed_agrees(f.read_bytes() if isinstance(f, Path) else f)
             for f in [*files, *numbers]]
    assert len(taken) > 20 and sum(taken) > len(taken) // 2


BASE_FACTS = [content for rel, content in BASE.items() if rel.endswith(".yaml")]


@examples(default=150, thorough=3000)
@given(st.data())
def test_the_composed_tree_is_the_event_readers_for_mutated_files(data):
    raw = data.draw(st.sampled_from(BASE_FACTS))
    if data.draw(st.booleans()):
        raw = data.draw(mutated_bytes(raw))
    else:
        record = data.draw(mutated_record(yaml.safe_load(raw)))
        raw = dump_record(record).encode("utf-8")
        if data.draw(st.booleans()):
            raw = json.dumps(record, default=_json_safe).encode("utf-8")
    assert_composed_agrees(raw)


@pytest.mark.parametrize("content", [
    "id: a\nid: b\n", "id: a\n1: b\n", "id: a\nyes: b\n", "id: a\n<<: {b: c}\n",
    "id: a\n? [b]\n: c\n", "id: !!str a\n", "id: &x a\nname: *x\n", "---\nid: a\n---\nid: b\n",
    "id: a\nkind: 2020-12-20\n" + "list:" + " [" * 60 + " ]" * 60 + "\n", "",
    "id: a\nnote: " + "x" * 40_000 + "\n"])
def test_the_event_reader_reads_what_the_composed_tree_would_hide(content):
    from generator import yamlfile

    assert yamlfile._composed(content, "f.yaml") is None


def test_a_libyaml_that_does_not_bound_nesting_never_composes(monkeypatch):
    # its composer would recurse in C until the interpreter crashed on deep nesting
    from generator import yamlfile

    assert yamlfile._libyaml_bounds_nesting()  # the pinned PyYAML's libyaml does
    assert yamlfile._composed("id: a\n", "f.yaml") is not None
    monkeypatch.setattr(yamlfile, "_libyaml_bounds_nesting", lambda: False)
    assert yamlfile._composed("id: a\n", "f.yaml") is None
    problems = []
    assert yamlfile.parse_yaml(b"id: a\n", "f.yaml", problems).value["id"].value == "a"
    assert problems == []
