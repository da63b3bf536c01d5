"""The claims matrix of a disputed fact: a cell per source and version, naming each voice
once, as the template's Jinja filters did before the rows were made in Python."""

from __future__ import annotations

from types import SimpleNamespace

import jinja2

from generator import render

# What disputed.md.j2 wrote for each cell before ``dispute_rows`` made its rows.
FILTERS = jinja2.Environment().from_string(
    '{% for s in columns %}{% set cell = version_notes|selectattr("source.id", "equalto", s.id)'
    '|list %}{% if cell %}{{ cell|map(attribute="number")|list }}'
    '{{ cell|selectattr("according_to")|map(attribute="according_to.name")|unique|list }}'
    '{% else %}-{% endif %};{% endfor %}')


def note(number: int, source: str, voice: str | None):
    return SimpleNamespace(number=number, source=SimpleNamespace(id=source),
                           according_to=SimpleNamespace(name=voice) if voice else None)


class Notes:
    """Stands in for views.Footnotes: a version's citations are its notes here."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def refs(self, citations):
        self.asked += [n.number for n in citations]
        return citations


def test_each_cell_holds_its_sources_notes_and_each_voice_once_as_first_written():
    versions = [
        [note(1, "a", "Iraqi military"), note(2, "b", None), note(3, "a", "iraqi MILITARY"),
         note(4, "a", "US embassy"), note(5, "a", None), note(1, "a", "Iraqi military")],
        [note(6, "c", None)],
        [note(7, "b", "Kataib Hezbollah"), note(8, "b", "Kataib Hezbollah")],
    ]
    view = SimpleNamespace(versions=[SimpleNamespace(claim=SimpleNamespace(citations=v))
                                     for v in versions])
    columns = [SimpleNamespace(id=s) for s in ("a", "b", "c", "d")]
    notes = Notes()
    rows = render._dispute_rows(view, columns, notes)
    assert notes.asked == [1, 2, 3, 4, 5, 1, 6, 7, 8]  # numbered version by version
    for (version, cells), written in zip(rows, versions):
        shown = "".join("-;" if cell is None else
                        f"{[n.number for n in cell.notes]}{cell.voices};" for cell in cells)
        assert shown == FILTERS.render(columns=columns, version_notes=written)
    assert rows[0][1][0].voices == ["Iraqi military", "US embassy"]
    assert [cell is None for cell in rows[1][1]] == [True, True, False, True]
