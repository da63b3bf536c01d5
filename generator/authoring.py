"""Bring a new article into the project and cite from it: `add-source` and `quote`.

`add-source` copies an article into `corpus/` and drafts its source record from what
the text itself shows (a headline, a dateline, a 'Source:' line, the dates it
mentions), marking every detected value ``# CONFIRM`` for the editor.  `quote` finds a
passage in a source's article, exactly or approximately, and gives it back in the
article's own wording as a citation ready to paste.  Both read the corpus through
:class:`SourceText`, which keeps the raw wording alongside the normalised text that
citations are matched against.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path, PurePosixPath

import yaml
from rapidfuzz import fuzz

from . import citations as cit
from .errors import Problem, UsageError
from .load import load_records
from .model import FuzzyDate, ID_PATTERN, Source
from .schema import MODELINE

APPROXIMATE_THRESHOLD = 80.0


# --- the corpus, raw and normalised -------------------------------------------------

@dataclass(slots=True)
class NormalizedText:
    """Text in the normalised form quotes are matched in, mapped back to the raw text."""

    raw: str
    text: str
    to_raw: list[int]  # index in ``text`` -> index of the raw character it came from

    @classmethod
    def of(cls, raw: str) -> "NormalizedText":
        """Normalise ``raw`` exactly as :func:`citations.normalize` does, keeping a map."""
        out: list[str] = []
        to_raw: list[int] = []
        space_at: int | None = None
        for i, char in enumerate(raw):
            piece = cit.fold(unicodedata.normalize("NFKC", char))
            for part in piece:
                if part.isspace():
                    if out and space_at is None:
                        space_at = i
                    continue
                if space_at is not None:
                    out.append(" ")
                    to_raw.append(space_at)
                    space_at = None
                out.append(part)
                to_raw.append(i)
        text = "".join(out)
        if text != cit.normalize(raw):
            # combining sequences normalise differently one character at a time;
            # fall back to the normalised text as its own "raw" wording
            text = cit.normalize(raw)
            return cls(text, text, list(range(len(text))))
        return cls(raw, text, to_raw)

    def wording(self, start: int, end: int) -> str:
        """The raw words behind ``text[start:end]``: curly quotes, dashes and all."""
        if start >= end:
            return ""
        return " ".join(self.raw[self.to_raw[start]:self.to_raw[end - 1] + 1].split())

    def line_of(self, start: int) -> int:
        """The 1-based line of the raw text where ``text[start]`` is."""
        return self.raw.count("\n", 0, self.to_raw[start] if start < len(self.to_raw) else
                              len(self.raw)) + 1


@dataclass(slots=True)
class SourceText:
    """A source record with its article's text, raw and normalised."""

    source: Source
    body: NormalizedText

    @property
    def text(self) -> str:
        return self.body.text


def corpus_file(root: Path, corpus: str) -> Path:
    """The file a source's ``corpus`` names, refusing anything outside `corpus/`."""
    rel = PurePosixPath(corpus)
    if (rel.is_absolute() or ".." in rel.parts or "\\" in corpus or len(rel.parts) != 2
            or rel.parts[0] != "corpus"):
        raise UsageError(f"corpus path {corpus!r} is not a file in corpus/")
    path = root / rel
    if path.is_symlink() or not path.is_file():
        raise UsageError(f"{corpus} is not a plain file in corpus/")
    return path


def find_source(root: Path, reference: str) -> Source:
    """The source record named by id (``cnn-2020-12-20``) or by its corpus path."""
    problems: list[Problem] = []
    sources = load_records(root, problems).sources
    if reference in sources:
        return sources[reference]
    wanted = reference.replace("\\", "/").removeprefix("./")
    for source in sources.values():
        if source.corpus == wanted:
            return source
    known = ", ".join(sorted(sources)) or "none"
    raise UsageError(f"no source {reference!r} in facts/sources (known: {known})")


def read_source_text(root: Path, reference: str) -> SourceText:
    """Load a source record and its article, ready for matching quotes."""
    source = find_source(root, reference)
    raw = corpus_file(root, source.corpus).read_bytes()
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source.corpus}: byte {exc.start} is not valid UTF-8") from exc
    return SourceText(source, NormalizedText.of(text))


# --- quote -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Passage:
    """A passage of a source found for a contributor's words, in the article's wording."""

    source: str
    corpus: str
    wording: str
    line: int
    exact: bool
    score: float


def find_passage(source_text: SourceText, words: str,
                 threshold: float = APPROXIMATE_THRESHOLD) -> Passage | None:
    """Find ``words`` in the article: exactly (as citations match), then approximately.

    The passage comes back in the article's own wording, so a citation made from it
    always verifies.  Below ``threshold`` percent similarity nothing is returned.
    """
    body, source = source_text.body, source_text.source
    match = cit.find_quote(words, body.text)
    if match is not None:
        wording = _wording_with_gaps(body, words, match)
        return Passage(source.id, source.corpus, wording, body.line_of(match.start), True, 100.0)
    start, end, score = _closest_span(cit.normalize(words), body.text)
    if score < threshold or start >= end:
        return None
    return Passage(source.id, source.corpus, body.wording(start, end), body.line_of(start),
                   False, score)


def _wording_with_gaps(body: NormalizedText, words: str, match: cit.Match) -> str:
    """The raw wording of a match; an ellipsis in the words stays an ellipsis."""
    segments = [s for s in cit._ELLIPSIS.split(cit.normalize(words)) if s]
    if len(segments) <= 1:
        return body.wording(match.start, match.end)
    pieces, position = [], match.start
    for index, segment in enumerate(segments):
        found = body.text.find(segment, position, match.end)
        if found == -1 and index == 0:
            found, segment = match.start, body.text[match.start:match.start + len(segment)]
        if found == -1:
            return body.wording(match.start, match.end)
        pieces.append(body.wording(found, found + len(segment)))
        position = found + len(segment)
    return " ... ".join(pieces)


def _closest_span(words: str, text: str) -> tuple[int, int, float]:
    """The span of ``text`` most like ``words``, widened to whole words, and its score."""
    if not words or not text:
        return 0, 0, 0.0
    folded_words, folded_text = words.lower(), text.lower()
    if len(folded_words) != len(words) or len(folded_text) != len(text):
        folded_words, folded_text = words, text  # lower() changed lengths: keep case
    result = fuzz.partial_ratio_alignment(folded_words, folded_text)
    start, end = result.dest_start, result.dest_end
    if 0 < start < len(text) and text[start - 1] != " ":
        start = text.rfind(" ", 0, start) + 1
    if 0 < end < len(text) and text[end] != " ":
        found = text.find(" ", end)
        end = len(text) if found == -1 else found
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] in " ,;:":
        end -= 1
    return start, end, round(result.score, 1)


def citation_block(passage: Passage, according_to: str | None = None) -> str:
    """A ``citations:`` entry for the passage, to paste under a claim or statement."""
    citation = {"source": passage.source, "quote": passage.wording}
    if according_to:
        citation["according_to"] = according_to
    return emit_yaml([citation])


# --- writing YAML for people --------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Commented:
    """A value written with a comment after it, such as ``# CONFIRM: from the dateline``."""

    value: object
    comment: str


class Flow(list):
    """A short list written on one line, ``[a, b]``, as fact files write aliases and ids."""


_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                            "\U00010000-\U0010ffff]")
_ISO_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?(?:/\d{4}(?:-\d{2}(?:-\d{2})?)?)?$")


def yaml_scalar(value: object, flow: bool = False) -> str:
    """One value as YAML: plain where that reads back the same, else double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = " ".join(str(value).split())
    if _ISO_DATE.match(text):
        return text  # fact files write dates plain; the loader reads them as text
    wrapped = f"[{text}]" if flow else text
    try:
        plain_ok = bool(text) and not _NON_PRINTABLE.search(text) and \
            yaml.safe_load(wrapped) == ([text] if flow else text)
    except yaml.YAMLError:
        plain_ok = False
    if plain_ok:
        return text
    # JSON's string syntax is YAML's double-quoted one; YAML also refuses some characters
    # JSON leaves raw (C1 controls, lone surrogates), so those become \u escapes
    return _NON_PRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}",
                              json.dumps(text, ensure_ascii=False))


def emit_yaml(value: object, indent: int = 0) -> str:
    """Mappings, lists and scalars as block YAML, keeping :class:`Commented` comments."""
    return "".join(line + "\n" for line in _yaml_lines(value, indent))


def _unwrap(value: object) -> tuple[object, str]:
    if isinstance(value, Commented):
        return value.value, "  # " + " ".join(value.comment.split())
    return value, ""


def _inline(value: object) -> str | None:
    if isinstance(value, Flow):
        return "[" + ", ".join(yaml_scalar(item, flow=True) for item in value) + "]"
    if isinstance(value, (dict, list)):
        return "[]" if value == [] else "{}" if value == {} else None
    return yaml_scalar(value)


def _yaml_lines(value: object, indent: int) -> list[str]:
    pad, lines = " " * indent, []
    if isinstance(value, dict):
        for key, item in value.items():
            item, comment = _unwrap(item)
            inline = _inline(item)
            if inline is not None:
                lines.append(f"{pad}{key}: {inline}{comment}")
            else:
                lines.append(f"{pad}{key}:{comment}")
                lines += _yaml_lines(item, indent + 2)
        return lines
    for item in value:  # a list
        item, comment = _unwrap(item)
        inline = _inline(item)
        if inline is not None:
            lines.append(f"{pad}- {inline}{comment}")
            continue
        if comment:
            lines.append(pad + comment.strip())  # a comment on a whole entry goes above it
        nested = _yaml_lines(item, indent + 2)
        lines.append(f"{pad}- {nested[0][indent + 2:]}")
        lines += nested[1:]
    return lines


# --- add-source --------------------------------------------------------------------

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November"
          r"|December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?"
          r"|Dec\.?)")
_WEEKDAYS = tuple(day.lower() for day in calendar.day_name)
_DATE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("absolute", re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")),
    ("absolute", re.compile(rf"\b(?P<mon>{_MONTH}) (?P<d>\d{{1,2}})(?:st|nd|rd|th)?,? "
                            r"(?P<y>(?:19|20)\d{2})\b")),
    ("absolute", re.compile(rf"\b(?P<d>\d{{1,2}}) (?P<mon>{_MONTH}),? (?P<y>(?:19|20)\d{{2}})\b")),
    ("month-day", re.compile(rf"\b(?P<mon>{_MONTH}) (?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?!,? \d)")),
    ("month-day", re.compile(rf"\b(?P<d>\d{{1,2}}) (?P<mon>{_MONTH})\b")),
    ("month-year", re.compile(rf"\b(?P<mon>{_MONTH}),? (?P<y>(?:19|20)\d{{2}})\b")),
    ("month", re.compile(r"\b(?:in|In|since|Since|until|by|By|early|late|mid-) ?"
                         r"(?P<mon>January|February|March|April|June|July|August|September"
                         r"|October|November|December)\b")),
    ("relative", re.compile(r"\b(?P<rel>(?:[Ee]arlier|[Ll]ater|[Ee]arly) this (?:month|year|week)"
                            r"|(?:[Ll]ast|[Tt]his|[Nn]ext) (?:week|month|year)"
                            r"|[Tt]oday|[Yy]esterday|[Tt]omorrow)\b")),
    ("weekday", re.compile(r"\b(?:(?P<which>[Ll]ast|[Nn]ext|[Tt]his) )?"
                           r"(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
                           r"(?:s\b)?")),
    ("year", re.compile(r"(?<![\d,.-])(?P<y>(?:19|20)\d{2})(?![\d,-])")),
)


@dataclass(frozen=True, slots=True)
class DateMention:
    """Words of an article that name a date, absolutely ('Dec. 21, 2020') or not ('Sunday')."""

    phrase: str
    start: int
    end: int
    kind: str  # absolute, month-day, month-year, month, relative, weekday or year
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    which: str | None = None  # last, next or this, for weekdays and relative phrases

    @property
    def value(self) -> FuzzyDate | None:
        """The date the words give on their own, without a reference date."""
        if self.kind == "absolute":
            return FuzzyDate.parse(f"{self.year:04d}-{self.month:02d}-{self.day:02d}")
        if self.kind == "month-year":
            return FuzzyDate.parse(f"{self.year:04d}-{self.month:02d}")
        if self.kind == "year":
            return FuzzyDate.parse(f"{self.year:04d}")
        return None

    @property
    def relative(self) -> bool:
        """Whether the date needs the publication date to be known."""
        return self.value is None

    def resolve(self, published: FuzzyDate | None) -> "ResolvedDate | None":
        """The date meant, read against the publication date, with a note saying so."""
        if self.value is not None:
            return ResolvedDate(self.value, None)
        if published is None:
            return None
        first, last = self._against(published.start), self._against(published.end)
        if first is None or last is None:
            return None
        if first.text == last.text:
            value = first
        else:
            value = FuzzyDate.parse(f"{first.start.isoformat()}/{last.end.isoformat()}")
            if value is None:
                return None
        note = f"resolved from {self.phrase!r} against published {published.text}"
        return ResolvedDate(value, note)

    def _against(self, ref: date) -> FuzzyDate | None:
        if self.kind == "weekday":
            back = (ref.weekday() - self.weekday) % 7
            if self.which == "next":
                day = ref + timedelta(days=(self.weekday - ref.weekday()) % 7 or 7)
            elif self.which == "last":
                back = back or 7
                day = ref - timedelta(days=back)
                if day.isocalendar()[:2] == ref.isocalendar()[:2]:
                    day -= timedelta(days=7)  # 'last Wednesday' said on a Thursday: the week before
            else:
                day = ref - timedelta(days=back)
            return FuzzyDate.parse(day.isoformat())
        if self.kind == "month-day":
            candidates = []
            for year in (ref.year - 1, ref.year, ref.year + 1):
                try:
                    candidates.append(date(year, self.month, self.day))
                except ValueError:
                    continue
            if not candidates:
                return None
            return FuzzyDate.parse(min(candidates, key=lambda d: abs((d - ref).days)).isoformat())
        if self.kind == "month":  # the nearest: 'In October' looks back, 'by mid-January' ahead
            month_index = min((ref.year * 12 + self.month - 1 + shift for shift in (-12, 0, 12)),
                              key=lambda index: abs(index - (ref.year * 12 + ref.month - 1)))
            return FuzzyDate.parse(f"{month_index // 12:04d}-{month_index % 12 + 1:02d}")
        return _relative(self.which or "", ref)


def _relative(phrase: str, ref: date) -> FuzzyDate | None:
    phrase = phrase.lower()
    if phrase in ("today", "yesterday", "tomorrow"):
        shift = {"today": 0, "yesterday": -1, "tomorrow": 1}[phrase]
        return FuzzyDate.parse((ref + timedelta(days=shift)).isoformat())
    unit = phrase.rsplit(" ", 1)[-1]
    step = -1 if phrase.startswith("last") else 1 if phrase.startswith("next") else 0
    if unit == "week":
        monday = ref - timedelta(days=ref.weekday()) + timedelta(weeks=step)
        return FuzzyDate.parse(f"{monday.isoformat()}/{(monday + timedelta(days=6)).isoformat()}")
    if unit == "month":
        month_index = ref.year * 12 + ref.month - 1 + step
        return FuzzyDate.parse(f"{month_index // 12:04d}-{month_index % 12 + 1:02d}")
    if unit == "year":
        return FuzzyDate.parse(f"{ref.year + step:04d}")
    return None


@dataclass(frozen=True, slots=True)
class ResolvedDate:
    """A date read from an article; ``note`` says how, when it was relative."""

    value: FuzzyDate
    note: str | None


def find_dates(text: str) -> list[DateMention]:
    """Every date the (normalised) text mentions, in order; longer readings win."""
    taken: list[tuple[int, int]] = []
    mentions: list[DateMention] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            mention = _mention(kind, m)
            if mention is not None:
                taken.append((m.start(), m.end()))
                mentions.append(mention)
    return sorted(mentions, key=lambda mention: mention.start)


def _mention(kind: str, m: re.Match) -> DateMention | None:
    groups = m.groupdict()
    month = _MONTHS.get(groups["mon"].lower().rstrip(".")) if groups.get("mon") else None
    year = int(groups["y"]) if groups.get("y") else None
    if kind == "absolute" and "m" in groups:
        month = int(groups["m"])
    day = int(groups["d"]) if groups.get("d") else None
    if day is not None:
        try:
            date(year or 2000, month, day)
        except (ValueError, TypeError):
            return None
    phrase = m.group(0).strip()
    if kind == "weekday":
        which = groups["which"].lower() if groups.get("which") else None
        return DateMention(phrase, m.start(), m.end(), kind,
                           weekday=_WEEKDAYS.index(groups["wd"].lower()), which=which)
    if kind == "relative":
        return DateMention(phrase, m.start(), m.end(), kind,
                           which=re.sub(r"^(?:earlier|later|early) ", "", groups["rel"].lower()))
    return DateMention(phrase, m.start(), m.end(), kind, year, month, day)


@dataclass(frozen=True, slots=True)
class Detected:
    """A value read from an article for its source record, with the words it came from."""

    value: str
    quote: str
    line: int
    how: str


@dataclass(slots=True)
class ArticleFacts:
    """What an article's text shows about itself."""

    title: Detected | None = None
    outlet: Detected | None = None
    outlet_stated: bool = False
    relays: Detected | None = None
    published: Detected | None = None
    dates: list[tuple[DateMention, int]] = field(default_factory=list)  # mention, line


_BOILERPLATE = re.compile(r"^(?:skip to (?:main )?content|advertisement|menu|home|share|"
                          r"listen to (?:this )?article.*|\d+ min read)$", re.IGNORECASE)
DATELINE = re.compile(r"^(?P<place>[A-Z][A-Z .'’-]{1,40}?)(?:, (?P<date>[^()—–]{3,30}?))? ?"
                       r"\((?P<outlet>[^()]{2,40})\) ?[—–-]")
_SOURCE_LINE = re.compile(r"^(?:Source|Sources|Via): (?P<outlet>[^.]{2,60}?)\.?$")
_PUBLISHED_LINE = re.compile(r"^(?:Published|Posted|Updated|Last updated)(?: on)?:? (?P<date>.{6,40})$",
                             re.IGNORECASE)
_OUTLET_HINTS = (
    (re.compile(r"\bMore from (?P<outlet>[A-Z][\w-]+(?: [A-Z][\w-]+){0,3}) Staff\b"),
     "a 'More from ... Staff' line"),
    (re.compile(r"(?:©|\(c\)|Copyright) ?(?:\d{4} )?(?P<outlet>[A-Z][\w&.-]+(?: [A-Z][\w&.-]+){0,3})"),
     "a copyright line"),
    (re.compile(r"\btold (?P<outlet>CNN|BBC|Reuters|AFP|AP|[A-Z][a-z]+ (?:News|Times|Post|Wire))\b"),
     "the article's own reporting ('told ...')"),
)


def detect_article(raw: str) -> ArticleFacts:
    """Read a title, an outlet, a relay, a publication date and mentioned dates from text."""
    facts = ArticleFacts()
    lines = [(number, line.strip()) for number, line in enumerate(raw.split("\n"), 1)
             if line.strip()]
    content = [(n, line) for n, line in lines if not _BOILERPLATE.match(line)]
    if content:
        number, first = content[0]
        words = first.split()
        if (len(first) <= 160 and len(words) >= 3 and not first.endswith(".")
                and not DATELINE.match(first)):
            facts.title = Detected(first, first, number, "the first line of the article")
    for number, line in content[:4]:
        m = DATELINE.match(line)
        if m:
            quote = line[:m.end("outlet") + 1]
            facts.outlet = Detected(m["outlet"].strip(), quote, number, "the dateline")
            facts.outlet_stated = True
            if m["date"]:
                when = _date_in(m["date"])
                if when:
                    facts.published = Detected(when.text, line[:m.end("date")], number,
                                               "the dateline")
            break
    for number, line in content:
        m = _SOURCE_LINE.match(line)
        if m:
            facts.relays = Detected(m["outlet"].strip(), line.rstrip("."), number,
                                    "a 'Source:' line")
        m = _PUBLISHED_LINE.match(line)
        if m and facts.published is None:
            when = _date_in(m["date"])
            if when:
                facts.published = Detected(when.text, line, number, "a 'Published' line")
    if facts.outlet is None:
        for pattern, how in _OUTLET_HINTS:
            for number, line in content:
                m = pattern.search(line)
                if m:
                    facts.outlet = Detected(m["outlet"], m.group(0), number, how)
                    break
            if facts.outlet:
                break
    for number, line in lines:
        facts.dates += [(mention, number) for mention in find_dates(cit.normalize(line))]
    return facts


def _date_in(text: str) -> FuzzyDate | None:
    for mention in find_dates(cit.normalize(text)):
        if mention.kind == "absolute":
            return mention.value
    return None


def prepare_article(raw: bytes, name: str) -> str:
    """The article's text as the corpus keeps it: UTF-8, LF line endings, words untouched."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise UsageError(f"{name}:{line}: byte 0x{raw[exc.start]:02x} is not valid UTF-8; "
                             "save the article as UTF-8 and try again") from exc
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise UsageError(f"{name} is empty")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise UsageError(f"{name}:{line}: a NUL character: this is not a text file; save "
                         "the article's text as plain UTF-8")
    return text if text.endswith("\n") else text + "\n"


@dataclass(slots=True)
class AddedSource:
    """What `add-source` wrote: the corpus file, the source record and what it detected."""

    id: str
    corpus_path: Path
    record_path: Path
    sha256: str
    facts: ArticleFacts
    record_text: str


def slug(text: str, limit: int = 50) -> str:
    """An id-friendly form of a name: 'Tigris Test Wire' -> 'tigris-test-wire'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:limit].rstrip("-")


def source_id_for(facts: ArticleFacts, sha256: str, taken: set[str]) -> str:
    """A stable id from what the article shows: outlet (or title) and publication date."""
    name = facts.outlet or facts.relays
    stem = slug(name.value, 30) if name else ""
    if not stem and facts.title:
        stem = "-".join(slug(facts.title.value).split("-")[:5])
    when = facts.published.value if facts.published else sha256[:8]
    ident = f"{stem}-{when}" if stem else f"source-{when}"
    if not ID_PATTERN.match(ident):
        ident = f"source-{sha256[:12]}"
    candidate, n = ident, 2
    while candidate in taken:
        candidate, n = f"{ident}-{n}", n + 1
    return candidate


def add_source(root: Path, article: Path, source_id: str | None = None) -> AddedSource:
    """Copy an article into `corpus/` and write its source record into `facts/sources/`.

    Refuses an article already in the corpus, an id already used, and a file that is
    not UTF-8 text, all before writing anything.
    """
    if not article.is_file():
        raise UsageError(f"{article} is not a file")
    text = prepare_article(article.read_bytes(), str(article))
    body = text.encode("utf-8")
    sha256 = hashlib.sha256(body).hexdigest()
    corpus_dir, sources_dir = root / "corpus", root / "facts" / "sources"
    existing = sorted(corpus_dir.glob("*.txt")) if corpus_dir.is_dir() else []
    for path in existing:
        if hashlib.sha256(path.read_bytes()).hexdigest() == sha256:
            raise UsageError(f"{article} is already in the corpus as corpus/{path.name}")
    problems: list[Problem] = []
    taken = set(load_records(root, problems).sources) | {p.stem for p in sources_dir.glob("*.y*ml")}
    facts = detect_article(text)
    if source_id is not None:
        if not ID_PATTERN.match(source_id):
            raise UsageError(f"{source_id!r} is not a valid id: use lower-case letters, digits "
                             "and single hyphens")
        if source_id in taken:
            raise UsageError(f"a source with id {source_id!r} already exists")
        ident = source_id
    else:
        ident = source_id_for(facts, sha256, taken)
    numbers = [int(p.name[:3]) for p in existing if p.name[:3].isdigit()]
    corpus_name = f"{max(numbers, default=-1) + 1:03d}_{sha256[:16]}.txt"
    record_text = source_record(ident, f"corpus/{corpus_name}", sha256, facts, article.name)
    record_path = sources_dir / f"{ident}.yaml"
    if record_path.exists():
        raise UsageError(f"{record_path.relative_to(root)} already exists")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    sources_dir.mkdir(parents=True, exist_ok=True)
    (corpus_dir / corpus_name).write_bytes(body)
    record_path.write_text(record_text, encoding="utf-8")
    return AddedSource(ident, corpus_dir / corpus_name, record_path, sha256, facts, record_text)


def source_record(ident: str, corpus: str, sha256: str, facts: ArticleFacts,
                  article_name: str) -> str:
    """The YAML text of a new source record, each detected value marked ``# CONFIRM``."""
    def confirm(found: Detected) -> str:
        return f"CONFIRM: from {found.how} (line {found.line})"

    def detected(found: Detected, basis: object = "stated") -> dict[str, object]:
        return {"value": Commented(found.value, confirm(found)), "basis": basis,
                "evidence": f"Read from {found.how}.", "quotes": [found.quote]}

    record: dict[str, object] = {"id": ident, "corpus": corpus, "sha256": sha256}
    if facts.title:
        record["title"] = Commented(facts.title.value, confirm(facts.title))
    if facts.outlet:
        basis = "stated" if facts.outlet_stated else "inferred"
        record["outlet"] = detected(facts.outlet, Commented(basis, "CONFIRM"))
    else:
        record["outlet"] = {
            "basis": Commented("unknown", "CONFIRM: no outlet was detected in the text"),
            "evidence": "The text names no outlet in a dateline, byline or source line."}
    if facts.published:
        record["published"] = detected(facts.published)
    else:
        record["published"] = {
            "basis": Commented("unknown", "CONFIRM: no publication date was detected; give "
                               "one (basis inferred) so relative dates can be resolved"),
            "evidence": "The text gives no publication date; see the dates it mentions below."}
    if facts.relays:
        record["relays"] = detected(facts.relays)
    record["language"] = Commented("en", "CONFIRM")
    article_name = " ".join(article_name.split())  # a file name cannot break the comment
    header = [MODELINE.format(kind="sources"),
              f"# Written by `factsheet add-source` from {article_name}. Each value marked",
              "# CONFIRM was detected from the text: check it against the article, then",
              "# delete the mark."]
    footer = []
    if facts.dates:
        footer.append("# Dates the article mentions (for 'published', and to resolve 'Sunday' "
                      "or 'last month'):")
        for mention, line in facts.dates:
            value = mention.value
            reading = f"= {value.text}" if value else f"({mention.kind}, relative)"
            footer.append(f"#   line {line}: {mention.phrase!r} {reading}")
    return "\n".join(header) + "\n" + emit_yaml(record) + "\n".join(footer) + (
        "\n" if footer else "")


