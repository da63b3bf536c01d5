"""The fact model: typed records read from `facts/`, and the vocabulary they use.

Four kinds of record live in four folders: sources (one per corpus article), actors,
incidents (events, including context events such as a truce), and statements (quoted
words).  Every claim names its citations; a citation is a source, a verbatim quote
from it and, optionally, the actor the article attributes the claim to.
"""

from __future__ import annotations

import calendar
import copyreg
import io
import operator
import pickle
import re
from dataclasses import dataclass, field, fields
from datetime import date

from .errors import Location

ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")

KINDS = ("sources", "actors", "incidents", "statements")

ACTOR_KINDS = (
    "person", "government", "government-office", "military", "militia",
    "diplomatic-mission", "party", "agency", "news-outlet", "news-agency",
    "international-body", "group",
)

INCIDENT_KINDS = ("attack", "strike", "bombing", "truce", "drawdown", "troop-withdrawal",
                  "resolution", "warning", "deployment", "election", "other")

STATEMENT_MEDIA = ("written statement", "tweet", "facebook post", "online statement",
                   "remarks", "press briefing", "interview", "statement")

BASES = ("stated", "inferred", "unknown")


# English month names; calendar.month_name would follow the process's locale, and formats
# a date for each lookup (95,000 of them in a 5,000-incident render).
MONTH_NAMES = ("", "January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What a claim field holds and whether several claims in it disagree.

    A field that admits one true value (``multi=False``) is *disputed* when it carries
    more than one claim; a list-like field (who condemned it, where rockets landed)
    simply gathers its claims.
    """

    name: str
    label: str
    value: str  # "quantity", "date", "text" or "actor"
    multi: bool


def _fields(*specs: tuple[str, str, str, bool]) -> dict[str, FieldSpec]:
    return {name: FieldSpec(name, label, value, multi) for name, label, value, multi in specs}


INCIDENT_FIELDS = _fields(
    ("date", "Date", "date", False),
    ("place", "Place", "text", False),
    ("description", "What happened", "text", True),
    ("target", "Target", "text", True),
    ("rockets", "Rockets fired", "quantity", False),
    ("weapon", "Weapon", "text", False),
    ("launch_site", "Launch site", "text", False),
    ("landed", "Where they landed", "text", True),
    ("damage", "Damage", "text", True),
    ("killed", "Killed", "quantity", False),
    ("injured", "Injured", "quantity", False),
    ("defences", "Defences engaged", "text", True),
    ("troops", "Troop numbers", "quantity", False),
    ("perpetrator", "Carried out by", "actor", False),
    ("blamed_on", "Blamed on", "actor", True),
    ("claimed_by", "Claimed by", "actor", True),
    ("condemned_by", "Condemned by", "actor", True),
    ("denied_by", "Denied by", "actor", True),
    ("response", "Response", "text", True),
    ("context", "Context", "text", True),
)

ACTOR_FIELDS = _fields(
    ("role", "Role", "text", True),
    ("affiliation", "Affiliated with", "actor", True),
    ("description", "Description", "text", True),
)

_VAGUE = {"several": (2, None), "a few": (2, None), "some": (1, None), "many": (2, None),
          "dozens": (24, None), "hundreds": (200, None), "thousands": (2000, None),
          "a volley": (2, None), "unknown": (None, None)}
_QUANTITY = re.compile(
    r"^(?:(?P<exact>\d[\d,]*)|at least (?P<least>\d[\d,]*)|at most (?P<most>\d[\d,]*)"
    r"|up to (?P<upto>\d[\d,]*)|(?:about|approximately|roughly|around) (?P<about>\d[\d,]*)"
    r"|(?P<low>\d[\d,]*)\s*(?:-|–|to|or)\s*(?P<high>\d[\d,]*))$")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A count as the sources give it: exact, a bound, a range, approximate or vague."""

    text: str
    low: int | None
    high: int | None
    approximate: bool = False

    @classmethod
    def parse(cls, raw: object) -> "Quantity | None":
        """Read ``8``, ``"at least 1"``, ``"17 to 18"``, ``"about 2,500"``, ``"several"``."""
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int):
            return cls(str(raw), raw, raw) if raw >= 0 else None
        if not isinstance(raw, str):
            return None
        text = " ".join(raw.split()).lower()
        if len(text) > 100:  # no count is that long, and int() refuses 4,300 digits
            return None
        if text in _VAGUE:
            low, high = _VAGUE[text]
            return cls(text, low, high, approximate=True)
        match = _QUANTITY.match(text)
        if not match:
            return None
        num = {k: int(v.replace(",", "")) for k, v in match.groupdict().items() if v}
        if "exact" in num:
            return cls(text, num["exact"], num["exact"])
        if "least" in num:
            return cls(text, num["least"], None)
        if "most" in num or "upto" in num:
            return cls(text, 0, num.get("most", num.get("upto")))
        if "about" in num:
            return cls(text, num["about"], num["about"], approximate=True)
        if num["low"] > num["high"]:
            return None
        return cls(text, num["low"], num["high"])

    def numbers(self) -> list[int]:
        """The figures a citation's quote must support."""
        return sorted({n for n in (self.low, self.high) if n is not None
                       and not (self.approximate and self.text in _VAGUE)
                       and not (n == 0 and self.text.startswith(("at most", "up to")))})

    def __str__(self) -> str:
        return self.text


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, slots=True)
class FuzzyDate:
    """A day, a month, a year, or a window ``start/end`` when sources differ."""

    text: str
    start: date
    end: date
    precision: str  # "day", "month", "year" or "window"

    @classmethod
    def parse(cls, raw: object) -> "FuzzyDate | None":
        """Read ``2020-12-20``, ``2020-12``, ``2020`` or ``2020-11-17/2020-11-18``."""
        if isinstance(raw, int):
            raw = str(raw)
        if not isinstance(raw, str):
            return None
        text = raw.strip()
        if "/" in text:
            first, _, last = text.partition("/")
            a, b = cls.parse(first), cls.parse(last)
            if a is None or b is None or b.end < a.start:
                return None
            return cls(text, a.start, b.end, "window")
        match = _DATE.match(text)
        if not match:
            return None
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            if day is not None:
                return cls(text, date(year, month, day), date(year, month, day), "day")
            if month is not None:
                last_day = calendar.monthrange(year, month)[1]
                return cls(text, date(year, month, 1), date(year, month, last_day), "month")
            return cls(text, date(year, 1, 1), date(year, 12, 31), "year")
        except ValueError:
            return None

    def contains(self, other: "FuzzyDate") -> bool:
        return self.start <= other.start and other.end <= self.end

    def human(self) -> str:
        """How a reader sees it: '20 December 2020', 'December 2020', '17 or 18 November 2020'."""
        if self.precision == "day":
            return f"{self.start.day} {MONTH_NAMES[self.start.month]} {self.start.year}"
        if self.precision == "month":
            return f"{MONTH_NAMES[self.start.month]} {self.start.year}"
        if self.precision == "year":
            return str(self.start.year)
        a, b = self.start, self.end
        if (b - a).days == 1:
            if a.month == b.month:
                return f"{a.day} or {b.day} {MONTH_NAMES[a.month]} {a.year}"
        if a.year == b.year and a.month == b.month:
            return f"between {a.day} and {b.day} {MONTH_NAMES[a.month]} {a.year}"
        return f"between {_day(a)} and {_day(b)}"

    def numbers(self) -> list[int]:
        """Day numbers a quote should mention (months and years are often implied)."""
        if self.precision != "day":
            return []
        return [self.start.day]

    def __str__(self) -> str:
        return self.text


def _day(d: date) -> str:
    return f"{d.day} {MONTH_NAMES[d.month]} {d.year}"


@dataclass(slots=True)
class Established:
    """A value with how it was established: stated in the text, inferred, or unknown."""

    value: object
    basis: str
    evidence: str
    quotes: list["Quote"]
    loc: Location


@dataclass(slots=True)
class Quote:
    """Verbatim text that must be found in a source's corpus file."""

    text: str
    loc: Location


@dataclass(slots=True)
class Citation:
    """A source, a verbatim quote from it, and who the article attributes the claim to."""

    source: str
    quote: Quote
    according_to: str | None
    loc: Location
    source_loc: Location
    according_to_loc: Location | None = None


@dataclass(slots=True)
class Claim:
    """One version of one field: a value, an optional detail, and its citations."""

    field: FieldSpec
    value: object  # Quantity, FuzzyDate, str (text) or actor id
    detail: str | None
    citations: list[Citation]
    loc: Location
    value_loc: Location
    note: str | None = None
    index: int = 0  # position within its field, for stable anchors


@dataclass(slots=True)
class Source:
    """One article of the corpus, with what is known of where and when it appeared."""

    id: str
    corpus: str
    sha256: str
    outlet: Established
    title: str | None
    published: Established
    url: str | None
    language: str
    relays: Established | None
    copy_of: Established | None
    notes: str | None
    loc: Location
    corpus_loc: Location
    sha256_loc: Location
    title_loc: Location | None = None
    archive_url: str | None = None  # a copy of the article in a web archive


@dataclass(slots=True)
class Actor:
    """A person, government, military, militia, mission, party, agency or outlet."""

    id: str
    name: str
    kind: str
    aliases: list[str]
    claims: list[Claim]
    loc: Location


@dataclass(slots=True)
class Incident:
    """An event: an attack, or a context event such as a truce or a drawdown."""

    id: str
    title: str
    kind: str
    date: FuzzyDate
    place: str
    claims: list[Claim]
    loc: Location
    date_loc: Location
    related: list[str] = field(default_factory=list)
    related_locs: list[Location] = field(default_factory=list)


@dataclass(slots=True)
class Statement:
    """Words an actor said or wrote, quoted verbatim by at least one source."""

    id: str
    speaker: str
    date: Established
    medium: str
    text: Quote
    about: list[str]
    citations: list[Citation]
    loc: Location
    speaker_loc: Location
    about_locs: list[Location] = field(default_factory=list)
    language_note: str | None = None


@dataclass(slots=True)
class Records:
    """Everything read from `facts/`, by kind, in a stable order."""

    sources: dict[str, Source] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    statements: dict[str, Statement] = field(default_factory=dict)
    unloaded: set[str] = field(default_factory=set)  # ids of records that failed to load

    def all_citations(self):
        """Yield (record, claim or None, citation) for every citation in the records."""
        for kind in (self.actors, self.incidents):
            for record in kind.values():
                for claim in record.claims:
                    for citation in claim.citations:
                        yield record, claim, citation
        for statement in self.statements.values():
            for citation in statement.citations:
                yield statement, None, citation


def shared_field(name: str, label: str, value: str, multi: bool) -> FieldSpec:
    """The field of :data:`INCIDENT_FIELDS` or :data:`ACTOR_FIELDS` equal to this one."""
    spec = FieldSpec(name, label, value, multi)
    return _SHARED_FIELDS.get(spec, spec)


_SHARED_FIELDS = {spec: spec for spec in (*INCIDENT_FIELDS.values(), *ACTOR_FIELDS.values())}


def _by_fields(cls, target=None):
    """A pickle reducer: ``target(*the fields of the dataclass)``, read in C at once."""
    names = [f.name for f in fields(cls)]
    get, target = operator.attrgetter(*names), target or cls
    if len(names) == 1:
        return lambda record: (target, (get(record),))
    return lambda record: (target, get(record))


# Each model dataclass pickled as its fields (see pickled_records); fields as the shared ones
_REDUCERS = copyreg.dispatch_table.copy()
_REDUCERS.update({cls: _by_fields(cls) for cls in (
    Location, FuzzyDate, Quantity, Established, Quote, Citation, Claim, Source, Actor, Incident,
    Statement, Records)})
_REDUCERS[FieldSpec] = _by_fields(FieldSpec, shared_field)


def pickled_records(obj) -> bytes:
    """``obj`` (records, and anything holding them) pickled field by field.

    Pickle's own way with slotted dataclasses calls Python code to gather each object's
    state: 5,000 incidents took 1.9-2.0 s to pickle, against 0.66-0.68 s with these
    reducers, and 0.47-0.50 against 0.21-0.28 s to read back.  Claims' fields come back
    as the shared :class:`FieldSpec` objects, not copies.
    """
    out = io.BytesIO()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(obj)
    return out.getvalue()
