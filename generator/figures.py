"""Figures in a sentence of an article: rockets, killed, injured, troops.

`factsheet suggest` proposes each as a claim with what it counts ("five other
civilians"), in the words the article uses ("at least one", "about 2,500").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Quantity

_WORD_NUMBERS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}
_WORD_NUMBERS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                  "eighty": 80, "ninety": 90, "a hundred": 100, "hundred": 100}
_VAGUE_WORDS = ("several", "dozens", "hundreds", "thousands", "a few", "a volley")
_NUM = (r"(?P<mod>at least|at most|up to|about|approximately|roughly|around)?\s*"
        r"(?P<n>\d{1,3}(?:,\d{3})+|\d+|" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True))
        + r"|several|dozens|hundreds|thousands|a few|a volley of|an?|no)")
_PEOPLE = (r"(?:civilians?|people|persons?|soldiers?|troops|children|child|girls?|boys?|woman|"
           r"women|man|men|members?|guards?|officers?|personnel|contractors?|Iraqis?|Americans?|"
           r"forces|security person|residents?|workers?|staff)")
_WHAT = (r"(?P<what>(?:of (?:our|the|their) )?(?:(?!(?:and|or|when|who|in|at|with|as)\b)"
         rf"[\w-]+ ){{0,3}}{_PEOPLE}\b)")
_FIGURES = (
    ("rockets", re.compile(rf"\b{_NUM}\s+(?:(?:more|other|further|Katyusha|Grad|incoming)\s+)?"
                           r"(?:rockets?|missiles?|projectiles|mortar (?:rounds|shells|bombs))\b"
                           r"(?!\s+(?:attacks?|strikes?|fire)\b)", re.IGNORECASE)),
    ("killed", re.compile(rf"\b(?:killing|killed|kills)\s+{_NUM}\s+{_WHAT}", re.IGNORECASE)),
    ("killed", re.compile(rf"\b{_NUM}\s+{_WHAT}\s+(?:were|was|had been|have been)\s+"
                          r"(?:killed|dead)\b", re.IGNORECASE)),
    ("killed", re.compile(r"\b(?P<n>no) (?P<what>one|[\w.-]+ forces|[\w.-]+ troops|people)\s+"
                          r"(?:was|were) killed\b", re.IGNORECASE)),
    ("injured", re.compile(rf"\b(?:injuring|wounding|injured|wounded|wound|hurting)\s+{_NUM}\s+"
                           rf"{_WHAT}", re.IGNORECASE)),
    ("injured", re.compile(rf"\b{_NUM}\s+{_WHAT}\s+(?:(?:was|were|had been|have been|are|is)\s+)?"
                           r"(?:injured|wounded|hurt)\b", re.IGNORECASE)),
    ("injured", re.compile(rf"\b{_NUM}\s+{_WHAT}?\s*casualt(?:y|ies)\b", re.IGNORECASE)),
    ("injured", re.compile(r"\b(?P<n>no) (?P<what>(?:injuries|casualties)(?: or (?:injuries|"
                           r"casualties))?)\b", re.IGNORECASE)),
    ("troops", re.compile(rf"\b{_NUM}\s+(?:(?:more|US|U\.S\.|American|foreign|coalition)\s+)"
                          r"{0,2}troops\b", re.IGNORECASE)),
)
_TROOPS_FROM_TO = re.compile(r"\btroops from (?P<a>\d[\d,]*) to (?P<b>\d[\d,]*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Figure:
    """A count the article gives: which field it belongs to, its value and what it counts."""

    field: str
    value: object  # int or Quantity text
    detail: str | None
    note: str | None


def find_figures(sentence: str) -> list[Figure]:
    """Rockets, killed, injured and troop figures in one sentence, in reading order."""
    found: list[tuple[int, Figure]] = []
    taken: list[tuple[int, int]] = []
    for m in _TROOPS_FROM_TO.finditer(sentence):
        for key, detail in (("a", "before the reduction"), ("b", "after the reduction")):
            count = int(m[key].replace(",", ""))
            found.append((m.start(key), Figure("troops", f"{count:,}" if count >= 1000 else count,
                                               detail, None)))
        taken.append((m.start(), m.end()))
    for name, pattern in _FIGURES:
        for m in pattern.finditer(sentence):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            figure = _figure(name, m)
            if figure is not None:
                taken.append((m.start(), m.end()))
                found.append((m.start(), figure))
    return [figure for _, figure in sorted(found, key=lambda pair: pair[0])]


def _figure(name: str, m: re.Match) -> Figure | None:
    groups = m.groupdict()
    number = groups["n"].lower()
    what = (groups.get("what") or "").strip()
    note = None
    if number == "no":
        value: object = 0
    elif number in ("a", "an"):
        if name == "rockets" or what.endswith("s"):
            return None  # 'a rocket' is not a count; 'a few' is caught as vague
        value = 1
    elif number.rstrip(" of") in _VAGUE_WORDS or number.removesuffix(" of") in _VAGUE_WORDS:
        value = number.removesuffix(" of")
    elif number in _WORD_NUMBERS:
        value = _WORD_NUMBERS[number]
    else:
        value = int(number.replace(",", ""))
    modifier = (groups.get("mod") or "").lower()
    if modifier and isinstance(value, int):
        modifier = "about" if modifier in ("approximately", "roughly", "around") else modifier
        value = f"{modifier} {value:,}"
    elif isinstance(value, int) and value >= 1000:
        value = f"{value:,}"  # as the article writes it
    if Quantity.parse(value) is None:
        return None
    if what.lower().startswith("of "):
        what = what.split(" ", 2)[-1]
    if "casualt" in m.group(0).lower() and value != 0:
        note = "CONFIRM: the article says 'casualty', which may mean killed or injured"
    detail = what if what and name != "rockets" else None
    if value == 0:
        rest = m.group(0).split(" ", 1)[1] if " " in m.group(0) else ""
        detail = f"no {detail or rest}" if (detail or rest).lower() not in ("", "one", "people") \
            else None
    return Figure(name, value, detail, note)
