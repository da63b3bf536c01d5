"""Citation coverage: how articles are split into passages, which passages the facts cover,
the report, `factsheet coverage --min-share`, and what the shipped facts leave uncovered.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import io
from pathlib import Path

import pytest

from factories import write_project
from generator.check import check_project
from generator.citations import normalize
from generator.cli import main
from generator.coverage import Passage, format_coverage, measure_coverage, split_passages

REPO = Path(__file__).resolve().parent.parent

ARTICLE_NAME = "001_wire.txt"
# Letters and digits per passage: headline 22; "Eight ... Sunday." 29; "One soldier was
# hurt." 17; the narration "the U.S. embassy said." 16; its quotation 19; "Share ..." 16.
ARTICLE = ("Rockets hit the Green Zone\n"
           "\n"
           "Eight rockets were fired on Sunday. One soldier was hurt.\n"
           "\u201cWe condemn this attack,\u201d the U.S. embassy said.\n"
           "Share this article\n")
DAY = datetime.date(2020, 12, 20)


def records() -> dict[str, list[dict]]:
    """A project that quotes the headline (title), the first sentence (a date claim), the
    words either side of a gap in the second ("One ... hurt") and the embassy's quotation
    (a statement), and nothing of the rest."""
    return copy.deepcopy({
        "sources": [{
            "id": "wire", "corpus": f"corpus/{ARTICLE_NAME}", "sha256": "AUTO",
            "title": "Rockets hit the Green Zone",
            "outlet": {"basis": "unknown", "evidence": "No outlet is named."},
            "published": {"value": DAY, "basis": "inferred", "evidence": "It says Sunday."},
        }],
        "actors": [{"id": "embassy", "name": "US Embassy", "kind": "diplomatic-mission"}],
        "incidents": [{
            "id": "attack", "title": "Rocket attack", "kind": "attack", "date": DAY,
            "place": "Green Zone",
            "claims": {
                "date": [{"value": DAY, "note": "Sunday: 20 December 2020.", "citations": [
                    {"source": "wire", "quote": "Eight rockets were fired on Sunday"}]}],
                "place": [{"value": "Green Zone", "citations": [
                    {"source": "wire", "quote": "Rockets hit the Green Zone"}]}],
                "injured": [{"value": 1, "citations": [
                    {"source": "wire", "quote": "One ... hurt"}]}],
            },
        }],
        "statements": [{
            "id": "embassy-condemns", "speaker": "embassy",
            "date": {"value": DAY, "basis": "inferred", "evidence": "The day of the attack."},
            "medium": "statement", "text": "We condemn this attack", "about": ["attack"],
            "citations": [{"source": "wire", "quote": "We condemn this attack"}],
        }],
    })


def project(tmp_path: Path, changed: dict[str, list[dict]] | None = None) -> Path:
    return write_project(tmp_path, changed or records(), {ARTICLE_NAME: ARTICLE})


def run(root: Path, *options: str) -> tuple[int, str, str]:
    """Run ``factsheet --root ROOT coverage [OPTIONS]``; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--root", str(root), "coverage", *options])
    return code, out.getvalue(), err.getvalue()


def passages(raw: str) -> list[tuple[str, str, list[str]]]:
    """(kind, shown text, the text of each span) for every passage of ``raw``."""
    text = normalize(raw)
    return [(kind, shown, [text[a:b] for a, b in spans])
            for kind, spans, shown in split_passages(raw, text)]


# --- splitting ------------------------------------------------------------------------------

def test_lines_are_paragraphs_and_quotations_are_passages_of_their_own() -> None:
    assert passages(ARTICLE) == [
        ("sentence", "Rockets hit the Green Zone", ["Rockets hit the Green Zone"]),
        ("sentence", "Eight rockets were fired on Sunday.",
         ["Eight rockets were fired on Sunday."]),
        ("sentence", "One soldier was hurt.", ["One soldier was hurt."]),
        ("sentence", '"[...]" the U.S. embassy said.', ["the U.S. embassy said."]),
        ("quote", "We condemn this attack,", ["We condemn this attack,"]),
        ("sentence", "Share this article", ["Share this article"]),
    ]


def test_no_split_after_abbreviations_initials_or_inside_a_quotation() -> None:
    raw = ("A strike on Nov. 18 hit the U.S. Embassy, Maj. Gen. Smith said. "
           "\u201cIt failed. We are safe,\u201d he said. Next one?  Yes!\n")
    assert passages(raw) == [
        ("sentence", "A strike on Nov. 18 hit the U.S. Embassy, Maj. Gen. Smith said.",
         ["A strike on Nov. 18 hit the U.S. Embassy, Maj. Gen. Smith said."]),
        ("sentence", '"[...]" he said.', ["he said."]),
        ("quote", "It failed. We are safe,", ["It failed. We are safe,"]),
        ("sentence", "Next one?", ["Next one?"]),
        ("sentence", "Yes!", ["Yes!"]),
    ]


def test_a_quotation_left_open_runs_to_the_end_of_its_line() -> None:
    raw = ('It said \u201cattacks are a violation. They must stop.\n'
           '\u201cWe call on leaders to act,\u201d it added, \u201cnow\u201d.\n')
    assert passages(raw) == [
        ("sentence", 'It said "[...]', ["It said"]),
        ("quote", "attacks are a violation. They must stop.",
         ["attacks are a violation. They must stop."]),
        ("sentence", '"[...]" it added, "[...]".', ["it added,", "."]),
        ("quote", "We call on leaders to act,", ["We call on leaders to act,"]),
        ("quote", "now", ["now"]),
    ]


# --- the rule -------------------------------------------------------------------------------

@pytest.mark.parametrize(("quoted", "covered"), [(0, False), (5, False), (6, True), (10, True)])
def test_a_passage_is_covered_when_more_than_half_of_it_is_quoted(quoted, covered) -> None:
    assert Passage("sentence", ((0, 12),), "x", 10, quoted).covered is covered


def test_measure_counts_titles_quotes_and_statements_but_not_the_gaps_of_a_quote(tmp_path):
    result = check_project(project(tmp_path))
    assert result.problems == []
    (source,) = measure_coverage(result).sources
    assert (source.source, source.corpus) == ("wire", f"corpus/{ARTICLE_NAME}")
    assert [(p.kind, p.text, p.chars, p.quoted_chars, p.covered) for p in source.passages] == [
        ("sentence", "Rockets hit the Green Zone", 22, 22, True),
        ("sentence", "Eight rockets were fired on Sunday.", 29, 29, True),
        ("sentence", "One soldier was hurt.", 17, 7, False),  # "One" and "hurt" only
        ("sentence", '"[...]" the U.S. embassy said.', 16, 0, False),
        ("quote", "We condemn this attack,", 19, 19, True),
        ("sentence", "Share this article", 16, 0, False),
    ]
    assert (source.covered_chars, source.chars) == (70, 119)
    assert round(source.share, 4) == 0.5882


def test_evidence_quotes_cover_their_passage(tmp_path: Path) -> None:
    changed = records()
    changed["sources"][0]["outlet"]["quotes"] = ["Share this article"]
    (source,) = measure_coverage(check_project(project(tmp_path, changed))).sources
    assert [p.text for p in source.uncovered] == ["One soldier was hurt.",
                                                   '"[...]" the U.S. embassy said.']
    assert (source.covered_chars, source.chars) == (86, 119)


def test_a_quote_that_does_not_verify_covers_nothing(tmp_path: Path) -> None:
    changed = records()
    changed["incidents"][0]["claims"]["date"][0]["citations"][0]["quote"] = (
        "Eight rockets were launched on Sunday")
    result = check_project(project(tmp_path, changed))
    assert [p.code for p in result.errors] == ["quote-not-found"]
    (source,) = measure_coverage(result).sources
    assert source.uncovered[0].text == "Eight rockets were fired on Sunday."
    assert source.covered_chars == 41


def test_a_source_whose_article_is_missing_is_left_out(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "corpus" / ARTICLE_NAME).unlink()
    coverage = measure_coverage(check_project(root))
    assert coverage.sources == ()
    assert (coverage.chars, coverage.share) == (0, 1.0)


# --- the report and the command -------------------------------------------------------------

REPORT = (
    f"wire (corpus/{ARTICLE_NAME}): 58.8% covered (70 of 119 letters and digits); "
    "3 of 6 passages uncovered\n"
    "    uncovered sentence: One soldier was hurt.\n"
    '    uncovered sentence: "[...]" the U.S. embassy said.\n'
    "    uncovered sentence: Share this article\n"
    "total: 58.8% covered (70 of 119 letters and digits); 3 of 6 passages uncovered\n")


def test_format_coverage_lists_each_source_then_the_total(tmp_path: Path) -> None:
    assert format_coverage(measure_coverage(check_project(project(tmp_path)))) + "\n" == REPORT


def test_coverage_command_reports_and_exits_0_by_default(tmp_path: Path) -> None:
    assert run(project(tmp_path)) == (0, REPORT, "")


@pytest.mark.parametrize(("option", "code"), [("58.8", 0), ("58", 0), ("59", 1), ("100", 1)])
def test_min_share_fails_when_a_source_is_below_it(tmp_path, option, code) -> None:
    exit_code, out, err = run(project(tmp_path), "--min-share", option)
    assert (exit_code, out) == (code, REPORT)
    assert err == ("" if code == 0 else
                   f"factsheet coverage: wire is 58.8% covered, below --min-share {option}%\n")


@pytest.mark.parametrize("option", ["101", "-1", "half"])
def test_min_share_must_be_a_percentage(tmp_path, option) -> None:
    code, out, err = run(project(tmp_path), "--min-share", option)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1].startswith("factsheet coverage: error: argument --min-share: ")


def test_errors_in_the_facts_are_mentioned(tmp_path: Path) -> None:
    changed = records()
    changed["statements"][0]["text"] = "We deplore this attack"
    changed["statements"][0]["citations"][0]["quote"] = "We deplore this attack"
    code, out, err = run(project(tmp_path, changed))
    assert code == 0
    assert "(51 of 119 letters and digits)" in out.splitlines()[0]
    assert err == ("factsheet coverage: the facts have 2 errors; a quote that does not verify "
                   "covers nothing (run 'factsheet check')\n")


def test_a_folder_without_facts_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = run(tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith("factsheet: error: ")


# --- the shipped facts ----------------------------------------------------------------------

SHIPPED_UNCOVERED = {
    "al-monitor-2020-12-20": ["Skip to main content", "Recommended Articles"],
    "cnn-2020-12-20": ["IMAGE: The US embassy across the Tigris river in Iraq's capital Baghdad.",
                       "File photo from January 2020."],
    "cnn-copy-2022-01-13": ["Source link", "Leave a Reply",
                            "Your email address will not be published.",
                            "Required fields are marked *"],
    "esta-2020-12-20": [],
    "news-agencies-2020-12-20": [],
}


def test_shipped_facts_leave_only_page_furniture_uncovered() -> None:
    coverage = measure_coverage(check_project(REPO))
    found = {s.source: [p.text for p in s.uncovered] for s in coverage.sources
             if s.source in SHIPPED_UNCOVERED}
    assert found == SHIPPED_UNCOVERED
