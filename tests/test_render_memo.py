"""A preview renders again only the pages an edit reaches (``render.RenderMemo``).

The memo's rule of which pages depend on which records is checked against the shipped
templates: each record of the shipped project is changed in turn, in what it shows and in
the records it names, and the tree rendered with the memo must equal a full render.
"""

from __future__ import annotations

import copy
import re
import dataclasses
import datetime
import shutil
from pathlib import Path

import pytest

from generator import render
from generator.check import CheckResult, check_project
from generator.model import KINDS, FuzzyDate, Records
from generator.site import render_checked
from generator.validate import references

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "site_templates"


@pytest.fixture(scope="module")
def checked() -> CheckResult:
    result = check_project(REPO)
    assert not result.errors
    return result


def with_record(result: CheckResult, kind: str, record) -> CheckResult:
    """``result`` with one record replaced, or added."""
    tables = {name: dict(getattr(result.records, name)) for name in KINDS}
    tables[kind][record.id] = record
    return CheckResult(Records(**tables), [], result.corpus, result.counts)


def later(day: FuzzyDate) -> FuzzyDate:
    one = datetime.timedelta(days=1)
    return FuzzyDate(f"{day.start + one}/{day.end + one}", day.start + one, day.end + one,
                     "window")


def edits(result: CheckResult):
    """(what, kind, changed record) for each record: what it shows, then what it names."""
    records = result.records
    other_actor = sorted(records.actors)[0]
    for source in records.sources.values():
        outlet = dataclasses.replace(source.outlet, value=f"{source.outlet.value} Edited")
        yield "outlet and title", "sources", dataclasses.replace(
            source, outlet=outlet, title=f"{source.title} Edited")
    for actor in records.actors.values():
        yield "name", "actors", dataclasses.replace(actor, name=actor.name + " Edited",
                                                    aliases=[*actor.aliases, "Edited"])
        if actor.claims:
            yield "a claim removed", "actors", dataclasses.replace(actor, claims=actor.claims[1:])
    for incident in records.incidents.values():
        claims = copy.deepcopy(incident.claims)
        for claim in claims:
            claim.detail = (claim.detail or "") + " edited"
        yield "title, place, date and details", "incidents", dataclasses.replace(
            incident, title=incident.title + " Edited", place=incident.place + " edited",
            date=later(incident.date), claims=claims)
        named = [c for c in incident.claims if c.field.value == "actor"]
        if named:
            yield "an actor claim removed", "incidents", dataclasses.replace(
                incident, claims=[c for c in incident.claims if c is not named[0]])
        if incident.related:
            yield "related removed", "incidents", dataclasses.replace(incident, related=[],
                                                                       related_locs=[])
    for statement in records.statements.values():
        text = dataclasses.replace(statement.text, text=statement.text.text + " edited")
        date = dataclasses.replace(statement.date, value=later(statement.date.value)) \
            if isinstance(statement.date.value, FuzzyDate) else statement.date
        yield "text and date", "statements", dataclasses.replace(statement, text=text, date=date)
        yield "speaker and about changed", "statements", dataclasses.replace(
            statement, speaker=other_actor if statement.speaker != other_actor
            else sorted(records.actors)[1], about=[], about_locs=[])


def contents(tree: render.Tree) -> dict[str, str | bytes]:
    return {path: output.content for path, output in tree.items()}


def test_each_edit_renders_the_same_tree_as_a_full_render(checked):
    memo = render.RenderMemo()
    render_checked(checked, TEMPLATES, "Fact sheet", memo=memo)
    assert memo.reused == 0
    start = dataclasses.replace(memo, records=dict(memo.records), names=dict(memo.names),
                                pages=dict(memo.pages), index=dict(memo.index))
    wrong, reused = [], []
    for what, kind, record in edits(checked):
        edited = with_record(checked, kind, record)
        memo = dataclasses.replace(start, records=dict(start.records),
                                   names=dict(start.names), pages=dict(start.pages),
                                   index=dict(start.index))
        incremental = contents(render_checked(edited, TEMPLATES, "Fact sheet", memo=memo))
        full = contents(render_checked(edited, TEMPLATES, "Fact sheet"))
        assert list(incremental) == list(full)  # the same pages, in the same order
        stale = sorted(path for path in full if incremental[path] != full[path])
        if stale:
            wrong.append(f"{kind}/{record.id} ({what}): {stale}")
        reused.append(memo.reused)
    assert not wrong, "pages left as they were before the edit:\n" + "\n".join(wrong)
    pages = sum(1 for path in full if path.count("/") == 1 and not path.endswith("index.md"))
    assert min(reused) > 0 and sum(reused) / len(reused) > pages / 2  # most pages kept


def test_a_new_record_and_a_removed_one_are_rendered_and_dropped(checked):
    memo = render.RenderMemo()
    render_checked(checked, TEMPLATES, "Fact sheet", memo=memo)
    incident = next(iter(checked.records.incidents.values()))
    copied = dataclasses.replace(incident, id=incident.id + "-copy")
    edited = with_record(checked, "incidents", copied)
    tree = render_checked(edited, TEMPLATES, "Fact sheet", memo=memo)
    assert contents(tree) == contents(render_checked(edited, TEMPLATES, "Fact sheet"))
    assert f"incidents/{copied.id}.md" in tree
    tree = render_checked(checked, TEMPLATES, "Fact sheet", memo=memo)  # and gone again
    assert f"incidents/{copied.id}.md" not in tree
    assert contents(tree) == contents(render_checked(checked, TEMPLATES, "Fact sheet"))


def test_a_changed_template_or_article_renders_every_page_again(checked, tmp_path):
    templates = tmp_path / "site_templates"
    shutil.copytree(TEMPLATES, templates)
    memo = render.RenderMemo()
    render_checked(checked, templates, "Fact sheet", memo=memo)
    render_checked(checked, templates, "Fact sheet", memo=memo)
    assert memo.reused == len(memo.pages)  # nothing changed: every record page kept
    macros = templates / "_macros.md.j2"
    macros.write_text(macros.read_text(encoding="utf-8").replace(
        "the article itself", "the article alone"), encoding="utf-8")
    tree = render_checked(checked, templates, "Fact sheet", memo=memo)
    assert memo.reused == 0
    assert contents(tree) == contents(render_checked(checked, templates, "Fact sheet"))
    raw = dict(checked.corpus.raw)
    first = sorted(raw)[0]
    raw[first] = raw[first] + "\n"
    moved = CheckResult(checked.records, [], dataclasses.replace(checked.corpus, raw=raw),
                        checked.counts)
    render_checked(moved, templates, "Fact sheet", memo=memo)
    assert memo.reused == 0


def test_data_files_remake_only_the_edited_records_share(checked):
    memo = render.RenderMemo()
    render_checked(checked, TEMPLATES, "Fact sheet", memo=memo)
    before = dict(memo.data)
    assert set(before) == {(kind, ident) for kind in KINDS
                           for ident in getattr(checked.records, kind)}
    incident = next(iter(checked.records.incidents.values()))
    edited = with_record(checked, "incidents",
                         dataclasses.replace(incident, title=incident.title + " Edited"))
    tree = render_checked(edited, TEMPLATES, "Fact sheet", memo=memo)
    changed = [key for key in before if memo.data[key] is not before[key]]
    assert changed == [("incidents", incident.id)]
    assert b"Edited" in tree["data/factsheet.json"].content
    assert contents(tree) == contents(render_checked(edited, TEMPLATES, "Fact sheet"))


def test_the_index_remakes_only_the_parts_of_the_records_an_edit_reaches(checked):
    memo = render.RenderMemo()
    render_checked(checked, TEMPLATES, "Fact sheet", memo=memo)
    before = dict(memo.index)
    assert set(before) == {(kind, ident) for kind in ("incidents", "actors", "statements")
                           for ident in getattr(checked.records, kind)}
    records = checked.records
    names = {(kind, ident): {(k, i) for k, i, _, _ in references(record)}
             for kind in ("incidents", "actors", "statements")
             for ident, record in getattr(records, kind).items()}
    incident = max(records.incidents.values(),  # the one most other records name
                   key=lambda i: sum(("incidents", i.id) in named for named in names.values()))
    key = ("incidents", incident.id)
    edited = with_record(checked, "incidents",
                         dataclasses.replace(incident, title=incident.title + " Edited"))
    tree = render_checked(edited, TEMPLATES, "Fact sheet", memo=memo)
    remade = {part for part in before if memo.index[part] is not before[part]}
    naming = {other for other, named in names.items() if key in named}
    reached = {key} | names[key] | naming | {k for other in naming for k in names[other]}
    assert key in remade and naming & remade  # the statements about it name its title
    assert remade <= reached and set(before) - reached  # the others kept as they were
    assert contents(tree) == contents(render_checked(edited, TEMPLATES, "Fact sheet"))


def test_a_render_that_fails_leaves_the_memo_as_the_last_good_render_left_it(checked,
                                                                            monkeypatch):
    memo = render.RenderMemo()
    render_checked(checked, TEMPLATES, "Fact sheet", memo=memo)
    records = checked.records
    named = {c.value for i in records.incidents.values() for c in i.claims
             if c.field.value == "actor"}
    actor = next(a for a in records.actors.values() if a.id in named)
    renamed = with_record(checked, "actors", dataclasses.replace(actor, name="Renamed"))

    def fail(*args, **kwargs):
        raise OSError("disk full")

    before = {name: dict(getattr(memo, name)) for name in ("records", "pages", "index")}
    with monkeypatch.context() as patch:
        patch.setattr(render.export, "data_files", fail)
        with pytest.raises(OSError):
            render_checked(renamed, TEMPLATES, "Fact sheet", memo=memo)
    for name, kept in before.items():  # nothing made from the renamed actor is kept
        assert all(getattr(memo, name)[key] is value for key, value in kept.items()), name
    # the name put back, in a record equal to the first, not the same object
    back = with_record(checked, "actors", dataclasses.replace(actor))
    tree = contents(render_checked(back, TEMPLATES, "Fact sheet", memo=memo))
    assert tree == contents(render_checked(back, TEMPLATES, "Fact sheet"))
    assert not any(isinstance(page, str) and "Renamed" in page for page in tree.values())


def test_each_footnote_names_the_article_of_its_own_source(checked):
    """The footnotes' article labels are rendered once per source and reused on every page."""
    tree = render_checked(checked, TEMPLATES, "Fact sheet")
    seen = set()
    for output in tree.values():
        if not isinstance(output.content, str):
            continue
        for line in output.content.splitlines():
            found = re.match(r"\[\^c\d+\]: (.*?): “.*\]\((?:\.\./)*sources/([a-z0-9-]+)\.md\\#",
                             line)
            if found:
                label, source = found.group(1), checked.records.sources[found.group(2)]
                outlet = source.outlet.value or ""
                assert label.startswith(f"**{outlet}") and source.published.basis in label, line
                assert (source.title or "untitled article") in label.replace("\\", ""), line
                seen.add(source.id)
    assert len(seen) == len(checked.records.sources) > 1
