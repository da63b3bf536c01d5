"""Find quotes in corpus text, tolerant of typography but not of wording.

A quote matches its source when the two agree after normalising Unicode (NFKC),
curly and straight quotes and apostrophes, dashes and runs of whitespace.  Case and
words must agree exactly.  An ellipsis (``...``, ``…`` or ``[...]``) inside a quote
matches a gap of at most :data:`MAX_GAP` characters of the source.  When a quote is
not found, :func:`closest_passage` names the nearest passage and its similarity.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


MAX_GAP = 300

_FOLDED = {
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u301d\u301e", '"'),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u0060\u00b4", "'"),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    **dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", ""),
}
# A search for the few folded characters beats str.translate, which looks up every one.
_FOLD = re.compile("[" + "".join(map(re.escape, _FOLDED)) + "]")
_ELLIPSIS = re.compile(r"\s*(?:\[\s*\.\.\.\s*\]|\.\.\.)\s*")


def fold(text: str) -> str:
    """Curly quotes, primes and dashes as their plain forms; invisible characters removed."""
    return _FOLD.sub(lambda found: _FOLDED[found.group()], text)


def normalize(text: str) -> str:
    """The form in which quotes are compared: typography folded, words and case kept."""
    text = fold(unicodedata.normalize("NFKC", text))
    return " ".join(text.split())  # runs of whitespace (str.isspace, as re's \s) to one space


def quote_key(quote: str) -> str:
    """A short stable anchor for a quote on its source page."""
    return "q-" + hashlib.sha1(normalize(quote).encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class Match:
    """Where a quote was found in a source's normalised text."""

    start: int
    end: int


def find_quote(quote: str, text: str, allow_gaps: bool = True) -> Match | None:
    """Find a normalised quote in normalised text; ellipses may stand for short gaps."""
    quote = normalize(quote)
    if not quote:
        return None
    if allow_gaps and "..." in quote:  # "[...]" holds it too; most quotes have no gap
        segments = [s for s in _ELLIPSIS.split(quote) if s]
    else:
        segments = [quote]
    if not segments:
        return None
    match = _find_segments(segments, text)
    if match is None and segments[0][:1].isalpha():
        # a quote that starts mid-sentence in one article may start one in another
        segments[0] = segments[0][0].swapcase() + segments[0][1:]
        match = _find_segments(segments, text)
    return match


def _find_segments(segments: list[str], text: str) -> Match | None:
    first = segments[0]
    start = text.find(first)
    while start != -1:
        end = _follow(segments[1:], text, start + len(first))
        if end is not None:
            return Match(start, end)
        start = text.find(first, start + 1)
    return None


def _follow(segments: list[str], text: str, position: int) -> int | None:
    for segment in segments:
        found = text.find(segment, position, position + MAX_GAP + len(segment) + 2)
        if found == -1:
            return None
        position = found + len(segment)
    return position


def closest_passage(quote: str, text: str) -> tuple[str, float]:
    """The passage of ``text`` most like ``quote``, and its similarity in percent."""
    quote = normalize(quote)
    if not quote or not text:
        return "", 0.0
    from rapidfuzz import fuzz  # imported when a quote is not found, not by every check

    result = fuzz.partial_ratio_alignment(quote, text)
    passage = text[result.dest_start:result.dest_end]
    # widen to whole words so the contributor can paste it back
    start = text.rfind(" ", 0, result.dest_start) + 1
    end = text.find(" ", result.dest_end)
    passage = text[start:end if end != -1 else len(text)]
    return passage, round(result.score, 1)


# A number in digits: grouped by thousands ("2,500"; no digit or point before it), or a
# plain run (no digit, point or comma before it, and no digit after a comma or digit).
# Spelled with the digit first, so that the search skips to digits instead of trying the
# look-behinds at every character: five times as fast.  ``(?<![\d.]\d)`` after a digit
# is ``(?<![\d.])`` before it.
_DIGITS = re.compile(r"\d(?:(?<![\d.]\d)\d{0,2}(?:,\d{3})+(?!\d)|(?<![\d.,]\d)\d*(?![\d,]\d))")
_ZERO_WORDS = ("no", "none", "zero", "nobody", "not", "nothing")


@lru_cache(maxsize=4096)
def _number_words(n: int) -> tuple[str, ...]:
    from num2words import num2words  # imported when a figure is not in digits in its quote

    try:
        words = {num2words(n), num2words(n, to="ordinal")}
    except OverflowError:  # num2words stops near 10**27; larger figures count in digits only
        return ()
    words |= {w.replace("-", " ") for w in words} | {w.replace(",", "") for w in words}
    if n == 0:
        words |= set(_ZERO_WORDS)
    if n == 1:
        words |= {"a", "an", "single"}
    if n == 2:
        words |= {"two", "both", "pair", "couple"}
    return tuple(sorted(words))


def digits_in(text: str) -> set[int]:
    """Every number written in digits in ``text`` (``2,500`` counts as 2500)."""
    # int() refuses more than 4,300 digits; a run that long is no figure anyone cites
    return {int(m.replace(",", "")) for m in _DIGITS.findall(text) if len(m) < 4000}


def number_in(n: int, text: str, digits: set[int] | None = None) -> bool:
    """Whether ``text`` gives ``n`` in digits or in words ("8", "eight", "eighth").

    ``digits`` is ``digits_in(text)`` when the caller has it already.
    """
    if n in (digits_in(text) if digits is None else digits):
        return True
    lowered = " " + re.sub(r"[^a-z0-9]+", " ", text.lower()) + " "
    return any(f" {w} " in lowered for w in _number_words(n))
