"""Draft cited facts from one article for an editor to review: `factsheet suggest`.

Reads a source's article paragraph by paragraph and proposes what a curator would
pick out: quoted statements with their speakers (matched to known actors by name and
alias, or proposed as new actors), figures with what they count (rockets, killed,
injured, troops) and the date of the event, with relative dates ('Sunday', 'last
month') resolved against the source's publication date and marked as resolved.
Every proposal carries a quote in the article's own wording, and a proposal whose
quote does not verify against the corpus is dropped, never offered.  The draft is a
YAML file under `drafts/`, never under `facts/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from . import citations as cit
from .authoring import (DATELINE, Commented, NormalizedText, SourceText, find_dates,
                        read_source_text, slug)
from .errors import Problem
from .load import load_records
from .figures import find_figures
from .model import FuzzyDate, Records

# --- speakers ----------------------------------------------------------------------

_SPEECH_VERBS = (
    "said", "says", "say", "added", "adds", "continued", "tweeted", "wrote", "writes",
    "writing", "stated", "told", "tells", "warned", "noted", "stressed", "insisted",
    "declared", "announced", "explained", "argued", "urged", "urging", "saying", "adding",
    "calling", "called", "describing", "described", "condemned", "criticized", "criticised",
    "accused", "demanded", "replied", "posted", "issued", "blamed", "vowed", "claimed",
    "suggested", "warning")
_VERB = r"\b(?:" + "|".join(_SPEECH_VERBS) + r")\b"
_AFTER_WHO_VERB = re.compile(r"^[\s,:;-]*(?P<who>[^.,;\"\x00]{1,90}?)\s+(?P<verb>" + "|".join(
    _SPEECH_VERBS) + r")\b")
_AFTER_VERB_WHO = re.compile(r"^[\s,:;-]*(?:said|says|added|wrote|tweeted|continued)\s+"
                             r"(?P<who>[^.,;\"\x00]{1,90})")
_AFTER_ACCORDING = re.compile(r"^[\s,:;-]*according to (?P<who>[^.,;\"\x00]{1,90})")
_LEADING_CLAUSE = re.compile(
    r"^(?:In|On|At|After|Following|Echoing|Earlier|Later|Separately|Meanwhile|Speaking|"
    r"Responding|Asked|Writing)\b[^,\x00]*,\s*")
_APPOSITIVE = re.compile(r",\s+(?:a|an|the|one|which|who|whose|whom|its|his|her|their|"
                         r"also|himself|itself)\b[^,\x00]*,")
_SENTENCE_ADVERBS = {"even", "but", "and", "still", "also", "meanwhile", "however", "so"}
_PERSON_PRONOUNS = {"he", "she", "him", "her"}
_THING_PRONOUNS = {"it", "they", "the statement", "the group", "the statement also",
                   "a statement", "the spokesman", "the spokeswoman", "the official"}
_TITLE_WORDS = {
    "us", "u.s.", "iraqi", "iranian", "american", "kurdish", "iran's", "iraq's", "president",
    "prime", "minister", "secretary", "foreign", "defense", "defence", "press", "spokesman",
    "spokeswoman", "spokesperson", "general", "gen.", "maj.", "col.", "lt.", "pentagon",
    "supreme", "leader", "ayatollah", "sheikh", "police", "army", "military", "of", "state",
    "cleric", "senior", "former", "deputy", "chief", "ministry", "shia", "sunni", "captain",
    "capt.", "colonel", "major", "commander", "interior", "affairs", "the", "a"}
_NAME_RUN = re.compile(r"(?:(?:al-|el-|bin |ibn |abu |Abu |Al-)?[A-Z][\w'’.-]*"
                       r"(?:\s+(?:of|the|al-|el-|bin|ibn|for)?\s*(?:al-|el-)?[A-Z][\w'’.-]*)*)")
_ACTOR_KIND_WORDS = (
    ("diplomatic-mission", r"embassy|consulate|mission"),
    ("militia", r"hezbollah|kataib|brigades?|militias?|asaib|hashd|mobilization"),
    ("government-office", r"ministry|department|presidency|office|council|cabinet"),
    ("military", r"army|forces|military|command|pentagon|coalition"),
    ("news-agency", r"agency|wire|reuters|afp|associated press"),
    ("party", r"party|movement"),
    ("government", r"government|administration"),
)


@dataclass(slots=True)
class ProposedActor:
    """An actor the article quotes whom `facts/actors` does not know yet."""

    id: str
    name: str
    kind: str
    aliases: list[str]
    line: int
    role: str | None = None
    role_quote: str | None = None


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who a quote is attributed to: an actor id and how it was recognised."""

    actor: str
    person: bool
    how: str


class ActorIndex:
    """Find known (and newly proposed) actors in text by name and alias."""

    def __init__(self, records: Records):
        self.names: list[tuple[str, str, bool]] = []  # (lower-case alias, actor id, person)
        self.display: dict[str, str] = {}
        for actor in records.actors.values():
            self._add(actor.id, actor.name, actor.aliases, actor.kind == "person")
        self.new: dict[str, ProposedActor] = {}

    def _add(self, ident: str, name: str, aliases: list[str], person: bool) -> None:
        forms = {cit.normalize(a) for a in (name, *aliases) if a.strip()}
        if person and len(name.split()) > 1 and len(name.split()[-1]) >= 4:
            forms.add(cit.normalize(name.split()[-1]))  # 'Kirby' for 'John Kirby'
        for form in forms:
            self.names.append((form.lower(), ident, person))
        self.names.sort(key=lambda entry: -len(entry[0]))
        self.display[ident] = name

    def propose(self, name: str, line: int) -> Speaker:
        """Add an actor for a name the article quotes; the same name gives the same actor."""
        ident = slug(name) or "actor"
        if ident in self.new or ident in self.display:
            return Speaker(ident, self.new[ident].kind == "person" if ident in self.new
                           else False, f"named {name!r} in the article")
        kind = _guess_kind(name)
        aliases = [name]
        last = name.split()[-1]
        if kind == "person" and len(name.split()) > 1 and len(last) >= 4:
            aliases.append(last)
        self.new[ident] = ProposedActor(ident, name, kind, aliases, line)
        self._add(ident, name, aliases, kind == "person")
        return Speaker(ident, kind == "person", f"new actor, named {name!r} in the article")

    def mentions(self, text: str) -> list[tuple[int, int, str, bool, str]]:
        """Every actor named in ``text``: (start, end, actor id, person, the words)."""
        lowered, found, taken = text.lower(), [], []
        for form, ident, person in self.names:
            for m in re.finditer(r"(?<![\w-])" + re.escape(form) + r"(?![\w-])", lowered):
                if any(m.start() < end and start < m.end() for start, end in taken):
                    continue
                taken.append((m.start(), m.end()))
                found.append((m.start(), m.end(), ident, person, text[m.start():m.end()]))
        return sorted(found)

    def closest(self, name: str) -> tuple[str, bool, str] | None:
        """A known actor whose name or alias is spelled almost like ``name`` (rapidfuzz)."""
        if len(name) < 5 or not self.names:
            return None
        choices = [form for form, _, _ in self.names]
        best = process.extractOne(name.lower(), choices, scorer=fuzz.token_sort_ratio,
                                  score_cutoff=88)
        if best is None:
            return None
        _, ident, person = self.names[best[2]]
        return ident, person, best[0]


def _guess_kind(name: str) -> str:
    lowered = name.lower()
    for kind, words in _ACTOR_KIND_WORDS:
        if re.search(rf"\b(?:{words})\b", lowered):
            return kind
    return "person" if 2 <= len(name.split()) <= 4 else "group"


def _clean_subject(phrase: str) -> str:
    phrase = _LEADING_CLAUSE.sub("", phrase.strip())
    previous = None
    while previous != phrase:
        previous, phrase = phrase, _APPOSITIVE.sub("", phrase)
    words = phrase.replace("\x00", " ").split()
    while words and words[0].lower().strip(",") in _SENTENCE_ADVERBS:
        words = words[1:]
    return " ".join(words).strip(" ,:;-")


def _name_in(phrase: str) -> str | None:
    """The proper name a subject phrase gives, without titles: 'John Kirby'."""
    runs = [m.group(0).strip(" ,.") for m in _NAME_RUN.finditer(phrase)]
    runs = [r for r in runs if r]
    if not runs:
        return None
    words = runs[-1].split()
    while len(words) > 2 and words[0].lower() in _TITLE_WORDS:
        words = words[1:]
    if len(words) == 1 and words[0].lower() in _TITLE_WORDS | _SENTENCE_ADVERBS:
        return None
    name = " ".join(words).removesuffix("’s").removesuffix("'s")
    return name if len(name) >= 3 else None


# --- paragraphs, sentences and quotes ----------------------------------------------

_ABBREVIATIONS = {"u.s", "u.n", "u.k", "e.u", "gen", "maj", "col", "lt", "sgt", "mr", "mrs",
                  "ms", "dr", "st", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
                  "sept", "oct", "nov", "dec", "no", "jr", "sr", "capt", "rep", "sen", "gov",
                  "prof", "vs", "inc", "co", "corp", "mt"}


@dataclass(slots=True)
class Paragraph:
    """One line of the article, normalised, with its quotations and sentences."""

    body: NormalizedText
    line: int
    quotes: list[tuple[int, int]]  # spans of "..." including the marks
    masked: str  # the text with every quotation blanked out, for reading attributions
    sentences: list[tuple[int, int]]

    @property
    def text(self) -> str:
        return self.body.text

    def sentence_at(self, position: int) -> tuple[int, int]:
        for start, end in self.sentences:
            if start <= position < end:
                return start, end
        return self.sentences[-1] if self.sentences else (0, len(self.text))


def read_paragraphs(raw: str) -> list[Paragraph]:
    """Split an article into paragraphs (its lines), finding quotations and sentences."""
    paragraphs = []
    for number, line in enumerate(raw.split("\n"), 1):
        if not line.strip():
            continue
        body = NormalizedText.of(line)
        quotes = _quotations(body)
        masked = list(body.text)
        for start, end in quotes:
            masked[start:end] = "\x00" * (end - start)
        masked_text = "".join(masked)
        paragraphs.append(Paragraph(body, number, quotes, masked_text,
                                    _sentences(body.text, masked_text, quotes)))
    return paragraphs


def _quotations(body: NormalizedText) -> list[tuple[int, int]]:
    """Spans of double-quoted words; a quotation left open runs to the paragraph's end."""
    spans, open_at = [], None
    for i, char in enumerate(body.text):
        if char != '"':
            continue
        raw_char = body.raw[body.to_raw[i]] if body.raw is not body.text else char
        if open_at is None:
            open_at = i
        elif raw_char in "“„«" and i - open_at > 1:
            spans.append((open_at, i))  # a new opening mark: the last quotation never closed
            open_at = i
        else:
            spans.append((open_at, i + 1))
            open_at = None
    if open_at is not None:
        spans.append((open_at, len(body.text)))
    return spans


def _sentences(text: str, masked: str, quotes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    ends = set()
    for m in re.finditer(r"[.!?](?=\s|$)", masked):
        word = re.search(r"([\w.]+)$", masked[:m.start()])
        if word and (word.group(1).lower() in _ABBREVIATIONS or re.fullmatch(r"[A-Z]", word.group(1))):
            continue
        ends.add(m.end())
    for _, end in quotes:
        if end >= 2 and text[end - 1] == '"' and text[end - 2] in ".!?":
            following = text[end:end + 2]
            if not following.strip() or re.match(r"\s[A-Z\"]", following):
                ends.add(end)
    spans, start = [], 0
    for end in sorted(ends | {len(text)}):
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    return spans


# --- the draft ----------------------------------------------------------------------

@dataclass(slots=True)
class ProposedStatement:
    """A quotation the article attributes to someone, as a statement record to review."""

    id: str
    speaker: Speaker
    medium: str
    medium_found: bool
    text: str
    quote: str
    date: dict
    about: list[str]
    line: int
    curated: str | None = None
    short: bool = False


@dataclass(slots=True)
class ProposedClaim:
    """A figure or a date of an incident, with the quote that gives it."""

    incident: str | None
    incident_note: str
    field: str
    value: object
    detail: str | None
    note: str | None
    quote: str
    according_to: str | None
    line: int


@dataclass(slots=True)
class Draft:
    """Everything `suggest` proposes from one source, before anything is written."""

    source: str
    corpus: str
    published: FuzzyDate | None
    incident: str | None
    actors: list[ProposedActor] = field(default_factory=list)
    statements: list[ProposedStatement] = field(default_factory=list)
    claims: list[ProposedClaim] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # proposals whose quote did not verify


def suggest(root: Path, reference: str) -> Draft:
    """Read one source's article and propose statements, actors, figures and dates."""
    problems: list[Problem] = []
    records = load_records(root, problems)
    source_text = read_source_text(root, reference)
    return suggest_from(source_text, records)


def suggest_from(source_text: SourceText, records: Records) -> Draft:
    """The proposals for one article, given the records already in `facts/`."""
    source = source_text.source
    published = source.published.value if isinstance(source.published.value, FuzzyDate) else None
    paragraphs = read_paragraphs(source_text.body.raw)
    incident = _main_incident(paragraphs, records, published)
    draft = Draft(source.id, source.corpus, published, incident)
    reader = _Reader(source_text, records, published, incident, draft)
    for index, paragraph in enumerate(paragraphs):
        reader.read(index, paragraph, paragraphs)
    draft.actors = [a for a in reader.actors.new.values()
                    if any(s.speaker.actor == a.id for s in draft.statements)
                    or any(c.according_to == a.id for c in draft.claims)]
    for actor in draft.actors:
        _find_role(actor, source_text)
    return draft


_ROLE_TITLES = (r"spokes(?:man|woman|person)|minister|secretary|president|official|commander"
                r"|cleric|leader|chief|general|ambassador|envoy|director|head|governor|mayor")


def _find_role(actor: ProposedActor, source_text: SourceText) -> None:
    """The title the article gives a new person ('Police spokesman'), with its words."""
    if actor.kind != "person":
        return
    m = re.search(rf"(?P<role>(?:[\w'-]+ ){{0,3}}?(?:{_ROLE_TITLES})) "
                  rf"{re.escape(actor.name)}\b", source_text.text, re.IGNORECASE)
    if m is None:
        return
    start = m.start("role")
    for word in m["role"].split()[:-1]:  # 'said police spokesman' -> 'police spokesman'
        if word.lower() not in _ROLE_LEADING_WORDS:
            break
        start += len(word) + 1
    quote = source_text.body.wording(start, m.end())
    if cit.find_quote(quote, source_text.text) is not None:
        actor.role = source_text.body.wording(start, m.end("role"))
        actor.role_quote = quote


_ROLE_LEADING_WORDS = {"said", "says", "told", "the", "a", "an", "and", "by", "to", "of",
                       "according", "added", "wrote", "tweeted", "that", "as", "with"}


def _main_incident(paragraphs: list[Paragraph], records: Records,
                   published: FuzzyDate | None) -> str | None:
    """The known incident the article's weekdays ('Sunday') and 'today' point to most."""
    if published is None or not records.incidents:
        return None
    votes: dict[str, int] = {}
    for paragraph in paragraphs:
        for mention in find_dates(_without_dateline(paragraph.text)):
            if mention.kind not in ("weekday", "relative", "absolute", "month-day"):
                continue
            resolved = mention.resolve(published)
            if resolved is None or resolved.value.precision not in ("day", "window"):
                continue
            containing = [i for i in records.incidents.values() if i.date.contains(resolved.value)]
            if containing:  # the narrowest: an attack that day, not the year's drawdown
                narrowest = min(containing, key=lambda i: ((i.date.end - i.date.start).days, i.id))
                votes[narrowest.id] = votes.get(narrowest.id, 0) + 1
    return max(votes, key=lambda ident: (votes[ident], ident)) if votes else None


class _Reader:
    """Walks the paragraphs once, remembering the last speaker for 'he said'."""

    def __init__(self, source_text: SourceText, records: Records,
                 published: FuzzyDate | None, incident: str | None, draft: Draft):
        self.source_text, self.records, self.draft = source_text, records, draft
        self.published, self.incident = published, incident
        self.actors = ActorIndex(records)
        self.last: Speaker | None = None
        self.last_person: Speaker | None = None
        self.last_medium: str | None = None
        self.taken_ids = set(records.statements)
        self.seen_claims: set[tuple] = set()
        self.dated: set[str] = set()

    # statements

    def read(self, index: int, paragraph: Paragraph, paragraphs: list[Paragraph]) -> None:
        for start, end in paragraph.quotes:
            self._quotation(index, paragraph, paragraphs, start, end)
        title = self.source_text.source.title
        if title and paragraph.text == cit.normalize(title):
            return  # the headline repeats the article's figures without their source
        for start, end in paragraph.sentences:
            self._figures(paragraph, start, end)
            self._dates(paragraph, start, end)

    def _quotation(self, index: int, paragraph: Paragraph, paragraphs: list[Paragraph],
                   start: int, end: int) -> None:
        text = paragraph.text
        inner_start = start + 1
        inner_end = end - 1 if end <= len(text) and text[end - 1] == '"' and end - start > 1 \
            else end
        while inner_end > inner_start and text[inner_end - 1] in " ,;:":
            inner_end -= 1
        while inner_start < inner_end and text[inner_start] == " ":
            inner_start += 1
        if inner_end - inner_start < 2:
            return
        s_start, _ = paragraph.sentence_at(start)
        _, s_end = paragraph.sentence_at(max(end - 1, start))
        before = paragraph.masked[s_start:start]
        after = paragraph.masked[end:s_end]
        speaker = self._speaker(index, paragraph, paragraphs, before, after, s_start)
        if speaker is None:
            return
        words = paragraph.body.wording(inner_start, inner_end)
        quote = paragraph.body.wording(s_start, s_end)
        context = (paragraph.masked[s_start:s_end] + " "
                   + self._previous_sentence(paragraph, s_start)).lower()
        medium, found = _medium(context)
        if not found and self.last_medium and self.last and self.last.actor == speaker.actor:
            medium, found = self.last_medium, True
        self.last, self.last_medium = speaker, medium
        if speaker.person:
            self.last_person = speaker
        date = self._statement_date(paragraph.text[s_start:s_end], quote)
        ident = self._statement_id(speaker.actor, medium, date.get("value"))
        statement = ProposedStatement(
            ident, speaker, medium, found, words, quote, date,
            [self.incident] if self.incident else [], paragraph.line,
            short=len(words.split()) <= 3)
        statement.curated = self._curated(statement)
        if self._verifies(statement):
            self.draft.statements.append(statement)
            self.taken_ids.add(ident)

    def _previous_sentence(self, paragraph: Paragraph, s_start: int) -> str:
        earlier = [s for s in paragraph.sentences if s[1] <= s_start]
        return paragraph.masked[earlier[-1][0]:earlier[-1][1]] if earlier else ""

    def _speaker(self, index: int, paragraph: Paragraph, paragraphs: list[Paragraph],
                 before: str, after: str, s_start: int) -> Speaker | None:
        for pattern in (_AFTER_ACCORDING, _AFTER_VERB_WHO, _AFTER_WHO_VERB):
            m = pattern.match(after)
            if m:
                found = self._who(m["who"], index, paragraph, paragraphs, s_start)
                if found:
                    return found
        verb = re.search(_VERB, before)
        if verb:
            return self._who(before[:verb.start()], index, paragraph, paragraphs, s_start)
        if before.strip(" \x00,:;-"):
            return None  # words before the quotation but no one saying it: a scare quote
        return self.last  # a quotation standing alone continues the last speaker

    def _who(self, phrase: str, index: int, paragraph: Paragraph,
             paragraphs: list[Paragraph], s_start: int) -> Speaker | None:
        """The actor a subject phrase names, by alias, by pronoun, or as a new actor."""
        subject = _clean_subject(phrase)
        if not subject:
            return None
        mentions = self.actors.mentions(subject)
        if mentions:
            _, _, ident, person, words = mentions[-1]
            return Speaker(ident, person, f"matched {words!r}")
        lowered = subject.lower()
        if lowered in _PERSON_PRONOUNS:
            return self.last_person or self.last
        if lowered in _THING_PRONOUNS or lowered.startswith(("the ", "a ", "an ", "it ")):
            return self._recent_thing(index, paragraph, paragraphs, s_start) or self.last
        name = _name_in(subject)
        if name is None:
            return None
        if len(name.split()) == 1:
            name = self._full_name(name)
        close = self.actors.closest(name)
        if close:
            return Speaker(close[0], close[1], f"spelled like {close[2]!r}")
        return self.actors.propose(name, paragraph.line)

    def _full_name(self, name: str) -> str:
        """'Sami al-Fixture' for 'al-Fixture', when the article gives the name in full."""
        longer = re.findall(r"((?:[A-Z][\w'’.-]+ ){1,3})" + re.escape(name) + r"\b",
                            self.source_text.text)
        if not longer:
            return name
        words = max(longer, key=len).split()
        while words and words[0].lower() in _TITLE_WORDS:
            words = words[1:]
        return " ".join([*words, name])

    def _recent_thing(self, index: int, paragraph: Paragraph, paragraphs: list[Paragraph],
                      s_start: int) -> Speaker | None:
        """What 'it' refers to: the last organisation named in the preceding sentences."""
        earlier = [paragraph.masked[:s_start]]
        if index > 0:
            earlier.insert(0, paragraphs[index - 1].masked)
        for text in reversed(earlier):
            things = [m for m in self.actors.mentions(text) if not m[3]]
            if things:
                return Speaker(things[-1][2], False, f"'it': {things[-1][4]!r} just before")
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.replace("\x00", " ")) if s]
            if sentences:
                name = _name_in(_clean_subject(re.split(_VERB, sentences[-1])[0]))
                if name and _guess_kind(name) != "person":
                    return self.actors.propose(name, paragraph.line)
        return None

    def _statement_date(self, sentence: str, quote: str) -> dict:
        for mention in find_dates(sentence):
            if mention.kind in ("year", "month"):
                continue
            resolved = mention.resolve(self.published)
            if resolved is None:
                continue
            if resolved.note is None:
                return {"value": resolved.value.text, "basis": "stated",
                        "evidence": f"The article dates it: {mention.phrase!r}.",
                        "quotes": [quote]}
            return {"value": resolved.value.text,
                    "basis": Commented("inferred", "CONFIRM: resolved"),
                    "evidence": resolved.note, "quotes": [quote]}
        if self.published is not None:
            return {"value": self.published.text,
                    "basis": Commented("inferred", "CONFIRM: the publication date"),
                    "evidence": f"The article does not date it; it was published "
                                f"{self.published.text}."}
        return {"basis": Commented("unknown", "CONFIRM"),
                "evidence": "Neither the article nor its source record dates it."}

    def _statement_id(self, speaker: str, medium: str, when: str | None) -> str:
        stem = f"{speaker}-{medium.split()[0]}"[:60].rstrip("-")
        base = f"{stem}-{when.split('/')[0]}" if when else stem
        ident, n = base, 2
        while ident in self.taken_ids:
            ident, n = f"{base}-{n}", n + 1
        return ident

    def _curated(self, statement: ProposedStatement) -> str | None:
        for existing in self.records.statements.values():
            if existing.speaker == statement.speaker.actor and texts_agree(
                    existing.text.text, statement.text):
                return existing.id
        return None

    def _verifies(self, statement: ProposedStatement) -> bool:
        text = self.source_text.text
        checks = [cit.find_quote(statement.text, text, allow_gaps=False),
                  cit.find_quote(statement.quote, text)]
        checks += [cit.find_quote(q, text) for q in statement.date.get("quotes", [])]
        if all(checks):
            return True
        self.draft.dropped.append(f"statement at line {statement.line}: {statement.text!r}")
        return False

    # figures and dates

    def _figures(self, paragraph: Paragraph, start: int, end: int) -> None:
        sentence = paragraph.text[start:end]
        figures = find_figures(sentence)
        if not figures:
            return
        quote = paragraph.body.wording(start, end)
        according_to = self._according_to(paragraph, start, end)
        incident, incident_note = self._incident_for(sentence, paragraph.text[:start])
        for figure in figures:
            key = (figure.field, str(figure.value), incident)
            detail = (figure.detail or "").lower()
            if any(seen[:3] == key and (seen[3].endswith(detail) or detail.endswith(seen[3]))
                   for seen in self.seen_claims):
                continue  # 'two guards' again after 'two Iraqi guards'
            self.seen_claims.add((*key, detail))
            claim = ProposedClaim(incident, incident_note, figure.field, figure.value,
                                  figure.detail, figure.note, quote, according_to,
                                  paragraph.line)
            self._add_claim(claim)

    def _according_to(self, paragraph: Paragraph, start: int, end: int) -> str | None:
        masked = paragraph.masked[start:end]
        inside = [q for q in paragraph.quotes if start <= q[0] < end]
        m = re.search(r"according to (?P<who>[^.,;\x00]{1,90})", masked)
        who = m["who"] if m else None
        if who is None:
            m = re.search(r"(?:,|^)\s*(?P<who>[^.,;\x00]{1,60}?)\s+(?:said|says|added)\b"
                          r"[^\x00]*$", masked)
            who = m["who"] if m else None
        if who:
            mentions = self.actors.mentions(_clean_subject(who))
            if mentions:
                return mentions[-1][2]
        if inside and self.last is not None:
            return self.last.actor  # a figure inside a quotation: the speaker's figure
        return None

    def _incident_for(self, sentence: str, earlier: str) -> tuple[str | None, str]:
        """The incident a figure is about: another event when its sentence (or the
        paragraph before it) dates it outside the article's incident."""
        sentence = _without_dateline(sentence)
        mentions = find_dates(sentence) or find_dates(_without_dateline(earlier))
        for mention in mentions:
            resolved = mention.resolve(self.published)
            if resolved is None or mention.kind == "year":
                continue
            if self.published and resolved.value.start > self.published.end:
                continue  # 'next month's anniversary' dates something ahead, not the event
            incident = self.records.incidents.get(self.incident) if self.incident else None
            # a date before the incident is another event; one after it, up to the
            # publication, is usually when it was reported ('told reporters on Monday')
            if incident is None or resolved.value.end < incident.date.start:
                return None, (f"CONFIRM: about another event ({mention.phrase!r} is "
                              f"{resolved.value.text}); find or create its incident")
        if self.incident:
            return self.incident, "CONFIRM: the incident the article's dates point to"
        return None, "CONFIRM: no known incident matches; create one in facts/incidents"

    def _dates(self, paragraph: Paragraph, start: int, end: int) -> None:
        sentence = paragraph.text[start:end]
        if not re.search(r"\b(?:attack|rockets?|strike|fired|hit|struck|explo\w+|barrage|"
                         r"volley|fusillade|bomb\w*)\b", sentence, re.IGNORECASE):
            return
        incident = self.records.incidents.get(self.incident) if self.incident else None
        for mention in find_dates(_without_dateline(paragraph.masked[start:end])):
            if mention.kind not in ("weekday", "relative", "absolute", "month-day"):
                continue
            resolved = mention.resolve(self.published)
            if resolved is None or resolved.value.precision not in ("day", "window"):
                continue
            if incident is not None and not incident.date.contains(resolved.value):
                continue
            if resolved.value.text in self.dated:
                continue
            self.dated.add(resolved.value.text)
            claim = ProposedClaim(
                self.incident, "CONFIRM: the incident the article's dates point to"
                if self.incident else "CONFIRM: no known incident on this date",
                "date", resolved.value.text, None, resolved.note,
                paragraph.body.wording(start, end), None, paragraph.line)
            self._add_claim(claim)
            return

    def _add_claim(self, claim: ProposedClaim) -> None:
        if cit.find_quote(claim.quote, self.source_text.text) is None:
            self.draft.dropped.append(f"{claim.field} at line {claim.line}: {claim.quote!r}")
            return
        self.draft.claims.append(claim)


def _without_dateline(text: str) -> str:
    """The text with its dateline ('BAGHDAD, Dec. 21, 2020 (Wire) —') blanked out: the
    dateline dates the article, not the events it reports."""
    m = DATELINE.match(text)
    return " " * m.end() + text[m.end():] if m else text


def _medium(context: str) -> tuple[str, bool]:
    for words, medium in ((r"tweet\w*|twitter", "tweet"), (r"facebook", "facebook post"),
                          (r"online statement", "online statement"),
                          (r"written statement", "written statement"),
                          (r"press briefing|briefing", "press briefing"),
                          (r"interview", "interview"),
                          (r"told reporters|reporters|remarks|speech", "remarks"),
                          (r"statement", "statement")):
        if re.search(rf"\b(?:{words})\b", context):
            return medium, True
    return "statement", False


def texts_agree(curated: str, suggested: str) -> bool:
    """Whether a suggested statement text gives the curated one: contains it, or most of it."""
    def fold(text: str) -> str:
        return " ".join(re.sub(r"[^\w' ]+", " ", cit.normalize(text).lower()).split())

    a, b = fold(curated), fold(suggested)
    if not a or not b:
        return False
    if a in b:
        return True
    if b in a and len(b) >= 0.6 * len(a):
        return True
    return cit.find_quote(curated.lower(), cit.normalize(suggested).lower()) is not None
