"""Citation coverage: how much of each article the facts quote, and what they leave out.

Each source's normalised text is divided into *passages*.  Every line of the article
is split into sentences; a sentence is never split inside a quotation.  The words a
sentence quotes between double quotes ("...", the normalised form of curly quotes)
form passages of their own, and the rest of the sentence (the narration) forms
another.  A quotation that is still open at the end of a line runs to the end of it,
as news copy leaves a quote open when the next paragraph continues it.

The facts *quote* a passage of text when it lies inside one of the source's citation
quotes (only the quoted segments: an ellipsis gap is not quoted), the text of a
statement that cites the source, an evidence quote of the source's outlet, date,
relay or copy (or of the date of a statement that cites it), or the source's title.

The rule: a passage is *covered* when more than half of its letters and digits are
quoted.  Counting letters and digits only keeps punctuation and spaces from tipping
the balance.  A source's *share* is the letters and digits of its covered passages
divided by those of all its passages; the total adds up every source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .check import CheckResult
from .citations import find_quote, normalize
from .model import Records

COVERED_ABOVE = 0.5  # a passage is covered when more than this share of it is quoted

# The gap marker that find_quote accepts inside a quote; what it stands for is not quoted.
_GAP = re.compile(r"\s*(?:\[\s*\.\.\.\s*\]|\.\.\.)\s*")
# A sentence ends at ., ! or ?, perhaps followed by closing quotes or brackets, then a
# space and a capital, a digit or an opening quote or bracket.
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?= [A-Z0-9\"(\[])")
_ABBREVIATIONS = frozenset((
    "jan feb mar apr jun jul aug sep sept oct nov dec gen maj lt col capt sgt adm "
    "mr mrs ms dr st sen rep gov pres prof no vol vs").split())
_INITIALS = re.compile(r"(?:[A-Za-z]\.)+")


@dataclass(frozen=True, slots=True)
class Passage:
    """A sentence's narration or a quoted passage, with how much of it the facts quote."""

    kind: str  # "sentence" or "quote"
    spans: tuple[tuple[int, int], ...]  # where it lies in the normalised text
    text: str  # as a reader sees it; a sentence shows its quotations as "[...]"
    chars: int  # letters and digits
    quoted_chars: int  # of which the facts quote

    @property
    def covered(self) -> bool:
        """Whether more than half of the passage's letters and digits are quoted."""
        return self.quoted_chars > COVERED_ABOVE * self.chars


@dataclass(frozen=True, slots=True)
class SourceCoverage:
    """The passages of one source's article and which of them the facts cover."""

    source: str
    corpus: str
    passages: tuple[Passage, ...]

    @property
    def chars(self) -> int:
        return sum(p.chars for p in self.passages)

    @property
    def covered_chars(self) -> int:
        return sum(p.chars for p in self.passages if p.covered)

    @property
    def share(self) -> float:
        """Covered letters and digits over all of them; an empty article counts as covered."""
        return self.covered_chars / self.chars if self.chars else 1.0

    @property
    def uncovered(self) -> tuple[Passage, ...]:
        return tuple(p for p in self.passages if not p.covered)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Coverage of every source whose article could be read, in record order."""

    sources: tuple[SourceCoverage, ...]

    @property
    def chars(self) -> int:
        return sum(s.chars for s in self.sources)

    @property
    def covered_chars(self) -> int:
        return sum(s.covered_chars for s in self.sources)

    @property
    def share(self) -> float:
        return self.covered_chars / self.chars if self.chars else 1.0

    def below(self, min_share: float) -> tuple[SourceCoverage, ...]:
        """The sources whose share is below ``min_share`` (a fraction from 0 to 1)."""
        return tuple(s for s in self.sources if s.share < min_share)


def measure_coverage(result: CheckResult) -> Coverage:
    """Measure, for each source, which passages of its article the facts quote."""
    measured = []
    for source_id, source in result.records.sources.items():
        text = result.corpus.text.get(source_id)
        if text is None:
            continue  # unreadable or missing article: `factsheet check` reports it
        quoted = bytearray(len(text))
        for start, end in quoted_spans(result.records, source_id, text):
            quoted[start:end] = b"\1" * (end - start)
        raw = result.corpus.raw.get(source_id, text)
        passages = tuple(_measure(kind, spans, shown, text, quoted)
                         for kind, spans, shown in split_passages(raw, text))
        measured.append(SourceCoverage(source_id, source.corpus,
                                       tuple(p for p in passages if p.chars)))
    return Coverage(tuple(measured))


def quoted_spans(records: Records, source_id: str, text: str) -> list[tuple[int, int]]:
    """Every stretch of ``text`` (the source's normalised article) that the facts quote."""
    spans: list[tuple[int, int]] = []

    def add(quote: str, allow_gaps: bool = True) -> None:
        match = find_quote(quote, text, allow_gaps)
        if match is None:
            return  # `factsheet check` reports it; an unverified quote covers nothing
        if not allow_gaps:
            spans.append((match.start, match.end))
            return
        spans.extend(_segments(normalize(quote), text, match.start, match.end))

    for _record, _claim, citation in records.all_citations():
        if citation.source == source_id:
            add(citation.quote.text)
    for statement in records.statements.values():
        if any(c.source == source_id for c in statement.citations):
            add(statement.text.text, allow_gaps=False)
            for quote in statement.date.quotes:
                add(quote.text)
    source = records.sources[source_id]
    for established in (source.outlet, source.published, source.relays, source.copy_of):
        for quote in established.quotes if established else ():
            add(quote.text)
    if source.title:
        add(source.title, allow_gaps=False)
    return spans


def _segments(quote: str, text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Where each segment of a quote with gaps lies within its match ``start:end``."""
    segments = [s for s in _GAP.split(quote) if s]
    found = [(start, start + len(segments[0]))]
    position = found[0][1]
    for segment in segments[1:]:
        at = text.find(segment, position, end)
        if at == -1:  # cannot happen for a match find_quote made; stay safe
            return [(start, end)]
        found.append((at, at + len(segment)))
        position = at + len(segment)
    return found


def split_passages(raw: str, text: str) -> list[tuple[str, tuple[tuple[int, int], ...], str]]:
    """Divide normalised ``text`` into passages, using the lines of ``raw`` as paragraphs.

    Returns (kind, spans, shown) in reading order: for each sentence, its narration (the
    sentence less its quotations, shown with each quotation shortened to "[...]") and
    then each quotation it holds.
    """
    passages = []
    for start, end in _paragraphs(raw, text):
        quotes = _quotations(text, start, end)
        for s_start, s_end in _sentences(text, start, end, quotes):
            inside = [q for q in quotes if s_start <= q[0] < s_end]
            narration, shown, position = [], [], s_start
            for q_start, q_end, closed in inside:
                narration.append((position, q_start))
                shown.append(text[position:q_start] + ('"[...]"' if closed else '"[...]'))
                position = q_end
            narration.append((position, s_end))
            shown.append(text[position:s_end])
            spans = tuple(_trim(text, a, b) for a, b in narration if text[a:b].strip())
            if spans:
                passages.append(("sentence", spans, "".join(shown)))
            for q_start, q_end, closed in inside:
                content = _trim(text, q_start + 1, q_end - 1 if closed else q_end)
                if content[0] < content[1]:
                    passages.append(("quote", (content,), text[content[0]:content[1]]))
    return passages


def _paragraphs(raw: str, text: str) -> list[tuple[int, int]]:
    """Each non-blank line of the raw article, located in the normalised text."""
    found, position = [], 0
    for line in raw.splitlines():
        line = normalize(line)
        if not line:
            continue
        at = text.find(line, position)
        if at == -1:  # the raw text does not match the normalised one: one paragraph
            return [(0, len(text))] if text else []
        found.append((at, at + len(line)))
        position = at + len(line)
    return found


def _quotations(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """Quotations of a paragraph as (start, end, closed), marks included.

    Marks pair up in order; an odd last one opens a quotation that runs to the end of
    the paragraph.
    """
    marks = [i for i in range(start, end) if text[i] == '"']
    pairs = []
    for i in range(0, len(marks), 2):
        if i + 1 < len(marks):
            pairs.append((marks[i], marks[i + 1] + 1, True))
        else:
            pairs.append((marks[i], end, False))
    return pairs


def _sentences(text: str, start: int, end: int,
               quotes: list[tuple[int, int, bool]]) -> list[tuple[int, int]]:
    """Sentences of a paragraph: never split inside a quotation or after an abbreviation."""
    cuts = [start]
    for match in _SENTENCE_END.finditer(text, start, end):
        cut = match.end()
        if any(q_start < cut < q_end for q_start, q_end, _ in quotes):
            continue
        if text[match.start():cut] == "." and _is_abbreviation(text, start, match.start()):
            continue
        cuts.append(cut)
    cuts.append(end)
    return [_trim(text, a, b) for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    """Whether the word ending with the full stop at ``dot`` is 'U.S.', 'Nov.' or the like."""
    word = text[start:dot + 1].rsplit(" ", 1)[-1].lstrip("\"'([")
    return bool(_INITIALS.fullmatch(word)) or word[:-1].lower() in _ABBREVIATIONS


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    return start, end


def _measure(kind: str, spans: tuple[tuple[int, int], ...], shown: str, text: str,
             quoted: bytearray) -> Passage:
    chars = quoted_chars = 0
    for start, end in spans:
        for i in range(start, end):
            if text[i].isalnum():
                chars += 1
                quoted_chars += quoted[i]
    return Passage(kind, spans, shown, chars, quoted_chars)


def format_coverage(coverage: Coverage) -> str:
    """A report for people: each source's share and its uncovered passages, then a total."""
    lines = []
    for source in coverage.sources:
        uncovered = source.uncovered
        lines.append(f"{source.source} ({source.corpus}): {_percent(source.share)} covered "
                     f"({source.covered_chars} of {source.chars} letters and digits); "
                     f"{len(uncovered)} of {len(source.passages)} passages uncovered")
        for passage in uncovered:
            lines.append(f"    uncovered {passage.kind}: {passage.text}")
    passages = sum(len(s.passages) for s in coverage.sources)
    uncovered = sum(len(s.uncovered) for s in coverage.sources)
    lines.append(f"total: {_percent(coverage.share)} covered ({coverage.covered_chars} of "
                 f"{coverage.chars} letters and digits); {uncovered} of {passages} "
                 "passages uncovered")
    return "\n".join(lines)


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"
