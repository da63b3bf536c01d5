"""`factsheet add-source` and `factsheet quote`: bringing an article in and citing from it.

Every test works on a project in ``tmp_path`` (see tests/factories.py); the repository is
only read.
"""

from __future__ import annotations

import contextlib
import re
import hashlib
import io
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, strategies as st

from generator import citations as cit
from generator.authoring import (NormalizedText, add_source, citation_block, detect_article,
                                 emit_yaml, find_dates, find_passage, prepare_article,
                                 read_source_text, yaml_scalar)
from generator.check import check_project
from generator.cli import main
from generator.errors import UsageError
from generator.model import FuzzyDate

from factories import SOURCE_ID, write_project

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "article_006_test_fixture.txt"
FIXTURE_ID = "tigris-test-wire-2020-12-21"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# --- the corpus text, raw and normalised ---------------------------------------------

@given(st.text(alphabet=st.sampled_from(list("ab C.,\u201c\u201d\u2019'\u2014-\n\t\u00a0\u2026"
                                              "\u00ad\u200b\ufb01\u00bd")), max_size=60))
def test_normalised_text_matches_citations_normalize_and_maps_back_to_raw_words(raw):
    body = NormalizedText.of(raw)
    assert body.text == cit.normalize(raw)
    for start in range(len(body.text)):
        for end in range(start + 1, len(body.text) + 1):
            wording = body.wording(start, end)
            assert cit.find_quote(wording, body.text, allow_gaps=False) is not None or \
                not body.text[start:end].strip(), (start, end, wording)


def test_wording_keeps_the_articles_typography():
    body = NormalizedText.of("A rocket attack on Baghdad\u2019s  Green\nZone \u201cSunday\u201d.")
    start = body.text.index("Baghdad's")
    end = body.text.index('".') + 1
    assert body.wording(start, end) == "Baghdad\u2019s Green Zone \u201cSunday\u201d"
    assert body.line_of(body.text.index("Zone")) == 2


# --- add-source -----------------------------------------------------------------------

def test_prepare_article_normalises_line_endings_and_never_touches_words():
    raw = "\ufeffTitle line\r\nBody \u201cquoted\u201d  words\rlast"
    assert prepare_article(raw.encode("utf-8"), "a.txt") == \
        "Title line\nBody \u201cquoted\u201d  words\nlast\n"
    assert prepare_article("x\n".encode("utf-16"), "a.txt") == "x\n"


def test_prepare_article_refuses_what_is_not_utf8_or_empty():
    with pytest.raises(UsageError, match=r"^a\.txt:2: byte 0xe9 is not valid UTF-8; save the "
                                         r"article as UTF-8 and try again$"):
        prepare_article(b"line one\ncaf\xe9\n", "a.txt")
    with pytest.raises(UsageError, match=r"^a\.txt is empty$"):
        prepare_article(b" \n\n", "a.txt")


@pytest.mark.parametrize("name, title, outlet, how, relays, published", [
    ("001_0074f5d05fc1b585.txt", "Eight rockets target US embassy in Baghdad: Iraq army",
     None, None, "News Agencies", None),
    ("003_32b67ca48287358a.txt", None, "ESTA", "the dateline", None, None),
    ("004_05ada9d8eb4b62ea.txt",
     "Rockets target US Embassy in Baghdad ahead of anniversary of Soleimani killing",
     "Al-Monitor", "a 'More from ... Staff' line", None, None),
    ("000_c00411f44f27d285.txt", None, "CNN", "the article's own reporting ('told ...')",
     None, None),
])
def test_detect_article_on_the_seed_articles(name, title, outlet, how, relays, published):
    facts = detect_article((REPO / "corpus" / name).read_text(encoding="utf-8"))
    assert (facts.title.value if facts.title else None) == title
    assert (facts.outlet.value if facts.outlet else None) == outlet
    assert (facts.outlet.how if facts.outlet else None) == how
    assert (facts.relays.value if facts.relays else None) == relays
    assert facts.published is published


def test_detect_article_reads_a_dated_dateline_and_lists_the_dates_mentioned():
    facts = detect_article(FIXTURE.read_text(encoding="utf-8"))
    assert facts.outlet.value == "Tigris Test Wire" and facts.outlet_stated
    assert facts.outlet.quote == "BAGHDAD, Dec. 21, 2020 (Tigris Test Wire)"
    assert (facts.published.value, facts.published.quote) == ("2020-12-21",
                                                              "BAGHDAD, Dec. 21, 2020")
    assert [(m.phrase, line) for m, line in facts.dates] == [
        ("Dec. 21, 2020", 3), ("Sunday", 3), ("Monday", 5), ("Sunday", 7), ("Last month", 15)]


def test_add_source_copies_the_article_and_writes_a_record_that_checks(tmp_path):
    root = write_project(tmp_path)
    article = tmp_path / "incoming.txt"
    article.write_bytes(FIXTURE.read_bytes().replace(b"\n", b"\r\n"))
    added = add_source(root, article)
    assert added.id == FIXTURE_ID
    body = added.corpus_path.read_bytes()
    assert body == FIXTURE.read_bytes()  # CRLF became LF; nothing else changed
    assert added.corpus_path.name == f"002_{hashlib.sha256(body).hexdigest()[:16]}.txt"
    record = added.record_path.read_text(encoding="utf-8")
    assert record.splitlines()[0] == \
        "# yaml-language-server: $schema=../../schemas/sources.schema.json"
    assert "title: Six rockets hit Baghdad\u2019s Green Zone, two guards wounded  # CONFIRM: " \
           "from the first line of the article (line 1)" in record
    assert "  value: 2020-12-21  # CONFIRM: from the dateline (line 3)" in record
    assert "#   line 3: 'Sunday' (weekday, relative)" in record
    result = check_project(root)
    assert result.errors == []
    assert {p.code for p in result.warnings} == {"uncited-source", "unconfirmed"}
    source = result.records.sources[FIXTURE_ID]
    assert (source.sha256, source.outlet.value, source.published.value.text) == (
        hashlib.sha256(body).hexdigest(), "Tigris Test Wire", "2020-12-21")


def test_add_source_refuses_an_article_already_in_the_corpus_and_a_taken_id(tmp_path):
    root = write_project(tmp_path)
    add_source(root, FIXTURE)
    with pytest.raises(UsageError, match=r"is already in the corpus as corpus/002_"):
        add_source(root, FIXTURE)
    other = tmp_path / "other.txt"
    other.write_text("Another headline here\n\nSome words.\n", encoding="utf-8")
    with pytest.raises(UsageError, match=rf"^a source with id '{SOURCE_ID}' already exists$"):
        add_source(root, other, SOURCE_ID)
    with pytest.raises(UsageError, match=r"^'Bad Id' is not a valid id"):
        add_source(root, other, "Bad Id")


def test_add_source_without_outlet_or_date_marks_them_unknown(tmp_path):
    root = write_project(tmp_path)
    article = tmp_path / "bare.txt"
    article.write_text("Rockets fell on the city on Sunday.\n", encoding="utf-8")
    added = add_source(root, article)
    assert added.id.startswith("source-")
    assert "  basis: unknown  # CONFIRM: no publication date was detected" in added.record_text
    assert check_project(root).errors == []


def test_cli_add_source_reports_what_it_detected(tmp_path):
    root = write_project(tmp_path)
    code, out, err = run("--root", str(root), "add-source", str(FIXTURE))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"added source '{FIXTURE_ID}'"
    assert "  published: '2020-12-21' (from the dateline, line 3)" in out.splitlines()
    assert out.splitlines()[-1] == f"next: factsheet suggest {FIXTURE_ID}"
    code, _, err = run("--root", str(root), "add-source", str(tmp_path / "missing.txt"))
    assert code == 2 and "missing.txt is not a file" in err


# --- dates ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, published, value, note", [
    ("on Sunday night", "2020-12-21", "2020-12-20",
     "resolved from 'Sunday' against published 2020-12-21"),
    ("on Sunday", "2020-12-20", "2020-12-20",
     "resolved from 'Sunday' against published 2020-12-20"),
    ("on Sunday", "2020-12-20/2020-12-21", "2020-12-20",
     "resolved from 'Sunday' against published 2020-12-20/2020-12-21"),
    ("on Monday", "2020-12-20/2020-12-22", "2020-12-14/2020-12-21",
     "resolved from 'Monday' against published 2020-12-20/2020-12-22"),
    ("Last Wednesday", "2022-01-13", "2022-01-05",
     "resolved from 'Last Wednesday' against published 2022-01-13"),
    ("In an attack last month", "2020-12-20", "2020-11",
     "resolved from 'last month' against published 2020-12-20"),
    ("earlier this month", "2020-12-20", "2020-12",
     "resolved from 'earlier this month' against published 2020-12-20"),
    ("last week", "2022-01-13", "2022-01-03/2022-01-09",
     "resolved from 'last week' against published 2022-01-13"),
    ("a strike on Nov. 18", "2020-12-20", "2020-11-18",
     "resolved from 'Nov. 18' against published 2020-12-20"),
    ("before the January 3 anniversary", "2020-12-20", "2021-01-03",
     "resolved from 'January 3' against published 2020-12-20"),
    ("by January 15, 2021", "2020-12-20", "2021-01-15", None),
    ("on 20 December 2020", None, "2020-12-20", None),
])
def test_dates_resolve_against_the_publication_date(text, published, value, note):
    [mention] = find_dates(text)
    resolved = mention.resolve(FuzzyDate.parse(published) if published else None)
    assert (resolved.value.text, resolved.note) == (value, note)


def test_a_relative_date_without_a_publication_date_stays_unresolved():
    [mention] = find_dates("on Sunday")
    assert mention.relative and mention.resolve(None) is None


def test_may_is_a_month_only_with_a_day():
    assert [m.phrase for m in find_dates("It may rain; May 4, 2021 and May 2020")] == [
        "May 4, 2021", "May 2020"]


# --- quote ---------------------------------------------------------------------------

def test_find_passage_exact_gives_the_corpus_wording():
    source = read_source_text(REPO, "cnn-2020-12-20")
    passage = find_passage(source, "A rocket attack on Baghdad's diplomatic Green Zone")
    assert passage.exact and passage.line == 1
    assert passage.wording == "A rocket attack on Baghdad\u2019s diplomatic Green Zone"


def test_find_passage_approximate_widens_to_whole_words_and_verifies():
    source = read_source_text(REPO, "cnn-2020-12-20")
    passage = find_passage(source, "eight rockets were fired at the heavily fortified areas")
    assert not passage.exact and 90 <= passage.score < 100
    assert passage.wording == "Eight rockets were fired at the heavily fortified area"
    assert cit.find_quote(passage.wording, source.text) is not None


def test_find_passage_keeps_an_ellipsis():
    source = read_source_text(REPO, "cnn-2020-12-20")
    passage = find_passage(source, "The United States strongly condemns ... casualty")
    assert passage.wording == "The United States strongly condemns ... casualty"
    assert passage.exact


def test_find_passage_returns_nothing_below_the_threshold():
    source = read_source_text(REPO, "esta-2020-12-20")
    assert find_passage(source, "the pope visited the city") is None


def test_citation_block_is_yaml_that_loads_back_to_the_passage():
    source = read_source_text(REPO, "news-agencies-2020-12-20")
    passage = find_passage(source, "Source: News Agencies")
    block = citation_block(passage, "iraqi-military")
    assert block == ('- source: news-agencies-2020-12-20\n'
                     '  quote: "Source: News Agencies"\n'
                     '  according_to: iraqi-military\n')
    assert yaml.safe_load(block) == [{"source": "news-agencies-2020-12-20",
                                      "quote": "Source: News Agencies",
                                      "according_to": "iraqi-military"}]


def test_cli_quote_prints_a_citation_or_the_closest_passage():
    code, out, err = run("--root", str(REPO), "quote", "cnn-2020-12-20",
                         "eight rockets were fired at the heavily fortified areas",
                         "--according-to", "iraqi-military")
    assert (code, err) == (0, "")
    assert out == ("# corpus/000_c00411f44f27d285.txt:2: approximate match (98%): check it is "
                   "the passage you mean\n"
                   "- source: cnn-2020-12-20\n"
                   "  quote: Eight rockets were fired at the heavily fortified area\n"
                   "  according_to: iraqi-military\n")
    code, out, err = run("--root", str(REPO), "quote", "corpus/003_32b67ca48287358a.txt",
                         "the pope visited")
    assert (code, out) == (1, "")
    assert err.startswith("factsheet quote: not found in corpus/003_32b67ca48287358a.txt; "
                          "closest passage (")
    code, _, err = run("--root", str(REPO), "quote", "no-such-source", "words")
    assert code == 2 and err.startswith("factsheet: error: no source 'no-such-source' in "
                                        "facts/sources (known: ")


# --- writing YAML --------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "plain words", "Source: News Agencies", "a # not a comment", "- a list?", "\u201cquoted\u201d",
    "'single'", '"double"', "yes", "null", "12", "3.5", "", "key: value", "[x]", "{y}", "@at",
    "tab\there", "ends with colon:", "Baghdad\u2019s", "% percent", "!tag", "&anchor", "*alias"])
def test_yaml_scalar_reads_back_the_same_text(value):
    assert yaml.safe_load(f"k: {yaml_scalar(value)}") == {"k": " ".join(value.split())}
    assert yaml.safe_load(f"k: [{yaml_scalar(value, flow=True)}]")["k"] == [
        " ".join(value.split())]


def test_dates_are_written_plain_as_contributors_write_them():
    assert yaml_scalar("2020-12-20") == "2020-12-20"
    assert yaml.safe_load(emit_yaml({"value": "2020-12-20/2020-12-21"})) == {
        "value": "2020-12-20/2020-12-21"}
    assert yaml.safe_load("v: " + yaml_scalar("2020-12-20"))["v"] == date(2020, 12, 20)


# --- the contributor's guide stays true ----------------------------------------------

GUIDE = REPO / "site_templates" / "pages" / "contributing.md"


def guide_blocks(language: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return [block.split("\n", 1)[1] for block in text.split("```")[1::2]
            if block.startswith(language + "\n")]


def test_the_guide_names_only_commands_that_exist():
    from generator.cli import build_parser

    commands = set(build_parser()._subparsers._group_actions[0].choices)
    named = set()
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        named |= set(re.findall(r"factsheet ([a-z][a-z-]+)", line))
    pending = {"linkcheck"}  # the link checker's command is being added with generator/linkcheck.py
    assert named - commands - pending == set()
    assert {"add-source", "suggest", "quote", "check", "serve", "schema"} <= named


def test_the_guides_yaml_examples_load_and_their_quotes_verify():
    fixture = cit.normalize(FIXTURE.read_text(encoding="utf-8"))
    corpus = {source_id: read_source_text(REPO, source_id).text
              for source_id in ("cnn-2020-12-20", "news-agencies-2020-12-20")}
    corpus[FIXTURE_ID] = fixture
    blocks = guide_blocks("yaml")
    assert len(blocks) == 4  # a source record, a citation, according_to, a disagreement
    quotes = 0
    for block in blocks:
        assert yaml.safe_load(block)
        for source_id, quote in re.findall(r"source: ([a-z0-9-]+)\n\s+quote: (.+)", block):
            assert cit.find_quote(quote, corpus[source_id]), quote
            quotes += 1
    assert quotes == 4
    record = yaml.safe_load(blocks[0])
    digest = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    assert (record["sha256"], record["corpus"]) == (digest, f"corpus/005_{digest[:16]}.txt")
    for quote in [record["title"], *record["outlet"]["quotes"], *record["published"]["quotes"]]:
        assert cit.find_quote(quote, fixture), quote


@pytest.mark.parametrize("value", ["bell\x07", "c1\x85ok\x9f", "lone\ud800", "del\x7f", "bom\ufeffmid"])
def test_yaml_scalar_escapes_what_yaml_cannot_hold_raw(value):
    assert yaml.safe_load(f"k: {yaml_scalar(value)}") == {"k": " ".join(value.split())}


def test_add_source_refuses_a_binary_file_and_keeps_a_strange_name_in_its_comment(tmp_path):
    root = write_project(tmp_path)
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"GIF89a\n\x00\x01")
    with pytest.raises(UsageError, match=r"photo\.txt:2: a NUL character: this is not a text"):
        add_source(root, binary)
    odd = tmp_path / "odd\nid: injected.txt"
    odd.write_text("Rockets fell on Sunday.\n", encoding="utf-8")
    added = add_source(root, odd)
    assert yaml.safe_load(added.record_text)["id"] == added.id
    assert check_project(root).errors == []


def test_a_month_alone_is_read_as_the_nearest_such_month():
    published = FuzzyDate.parse("2020-12-20")
    months = [m.resolve(published).value.text
              for m in find_dates("In October; by mid-January; since September")]
    assert months == ["2020-10", "2021-01", "2020-09"]
