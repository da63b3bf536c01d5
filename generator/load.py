"""Load `facts/` into :class:`~generator.model.Records`, reporting every schema problem.

Each YAML file under ``facts/<kind>/`` holds one record: a mapping with an ``id``.
One record per file keeps pull requests small, gives every page an exact "edit this
file" link, and lets two editors change two incidents without a merge conflict.
"""

from __future__ import annotations

import difflib
import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import model
from .errors import Location, Problem
from .model import (ACTOR_FIELDS, INCIDENT_FIELDS, Actor, Citation, Claim, Established,
                    FieldSpec, FuzzyDate, Incident, Quantity, Quote, Records, Source,
                    Statement)
from .yamlfile import Node, parse_yaml

Record = Source | Actor | Incident | Statement

DATE_HINT = ("write YYYY-MM-DD, YYYY-MM, YYYY or a window YYYY-MM-DD/YYYY-MM-DD, "
             "with days that exist and the window's start first")
SOURCE_KEYS = ("id", "corpus", "sha256", "outlet", "title", "published", "url", "archive_url",
               "language", "relays", "copy_of", "notes")
ACTOR_KEYS = ("id", "name", "kind", "aliases", "claims")
INCIDENT_KEYS = ("id", "title", "kind", "date", "place", "related", "claims")
STATEMENT_KEYS = ("id", "speaker", "date", "medium", "text", "about", "citations",
                  "language_note")
CLAIM_KEYS = ("value", "detail", "note", "citations")
# A record's page is `<kind>/<id>.md`; these ids would overwrite a page of the site itself.
RESERVED_IDS = ("index",)
# On Windows `con.md` is the console, not a file: such pages could not be written or checked out.
DEVICE_NAMES = ("con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                *(f"lpt{i}" for i in range(1, 10)))
CITATION_KEYS = ("source", "quote", "according_to")
ESTABLISHED_KEYS = ("value", "basis", "evidence", "quotes")


class _Mapping:
    """Typed access to one mapping node; wrong types and unknown keys become problems."""

    def __init__(self, node: Node, what: str, allowed: tuple[str, ...], problems: list[Problem]):
        self.node, self.what, self.problems = node, what, problems
        self.values: dict[str, Node] = node.value if isinstance(node.value, dict) else {}
        for key in self.values:
            if key not in allowed:
                key_loc = node.key_loc(key)
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (f"did you mean {close[0]!r}?" if close
                        else "allowed keys: " + ", ".join(allowed))
                self.error(key_loc, "unknown-key", f"unknown key {key!r} in {what}", hint)

    def error(self, loc: Location, code: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(loc, "error", code, message, hint))

    def loc(self, key: str) -> Location:
        """Where a key's value is, or where the mapping starts if the key is missing."""
        return self.values[key].loc if key in self.values else self.node.loc

    def get(self, key: str, required: bool) -> Node | None:
        found = self.values.get(key)
        if found is None or found.value is None:
            if required:
                self.error(self.node.loc, "missing-key", f"{self.what} has no {key!r}",
                           f"add '{key}:'")
            return None
        return found

    def text(self, key: str, required: bool = True) -> str | None:
        found = self.get(key, required)
        if found is None:
            return None
        if isinstance(found.value, (dict, list, bool)):
            self.error(found.loc, "wrong-type",
                       f"{key!r} in {self.what} must be text, not a {found.kind}")
            return None
        text = str(found.value)
        if not text.strip():
            if required:
                self.error(found.loc, "empty-value", f"{key!r} in {self.what} is empty")
            return None
        return text

    def ident(self, key: str, required: bool = True) -> str | None:
        value = self.text(key, required)
        if value is not None and not model.ID_PATTERN.match(value):
            self.error(self.loc(key), "bad-id",
                       f"{key!r} {value!r} is not a valid id",
                       "ids are lower-case letters, digits and single hyphens, "
                       "1 to 80 characters, e.g. 'green-zone-rockets-2020-12-20'")
            return None
        if key == "id" and value in RESERVED_IDS:
            self.error(self.loc(key), "bad-id",
                       f"id {value!r} is reserved: its page would replace the page listing "
                       f"all {self.what}s",
                       "choose a descriptive id, e.g. 'green-zone-rockets-2020-12-20'")
            return None
        if key == "id" and value in DEVICE_NAMES:
            self.error(self.loc(key), "bad-id",
                       f"id {value!r} names a device on Windows, where its page could not "
                       "be written",
                       "choose a descriptive id, e.g. 'green-zone-rockets-2020-12-20'")
            return None
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(key)
        if value is not None and value not in choices:
            close = difflib.get_close_matches(value, choices, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "one of: " + ", ".join(choices)
            self.error(self.loc(key), "bad-value", f"{key!r} {value!r} is not allowed", hint)
            return None
        return value

    def items(self, key: str, required: bool = False) -> list[Node]:
        found = self.get(key, required)
        if found is None:
            return []
        if not isinstance(found.value, list):
            self.error(found.loc, "wrong-type",
                       f"{key!r} in {self.what} must be a list (lines starting with '- ')")
            return []
        return found.value

    def text_list(self, key: str) -> list[str]:
        texts = []
        for item in self.items(key):
            if isinstance(item.value, (str, int, float)) and not isinstance(item.value, bool):
                texts.append(str(item.value))
            else:
                self.error(item.loc, "wrong-type", f"each entry of {key!r} must be text")
        return texts

    def id_list(self, key: str) -> list[tuple[str, Location]]:
        ids = []
        for item in self.items(key):
            if isinstance(item.value, str) and model.ID_PATTERN.match(item.value):
                ids.append((item.value, item.loc))
            else:
                self.error(item.loc, "bad-id", f"each entry of {key!r} must be an id",
                           "ids are lower-case letters, digits and hyphens")
        return ids


def _shown(node: Node) -> str:
    """A value as a message quotes it: scalars as written, collections by their kind."""
    if isinstance(node.value, (dict, list)):
        return f"a {node.kind}"
    return repr(node.value)


def _require_mapping(node: Node, what: str, problems: list[Problem]) -> bool:
    if isinstance(node.value, dict):
        return True
    problems.append(Problem(node.loc, "error", "wrong-type",
                            f"{what} must be a mapping of 'key: value' lines, not a {node.kind}"))
    return False


def _quote(node: Node | None, what: str, problems: list[Problem]) -> Quote | None:
    if node is None:
        return None
    if not isinstance(node.value, str) or not node.value.strip():
        problems.append(Problem(node.loc, "error", "wrong-type", f"{what} must be non-empty text"))
        return None
    return Quote(node.value, node.loc)


def load_citations(parent: _Mapping, problems: list[Problem]) -> list[Citation]:
    """Read the ``citations:`` list of a claim or statement; an empty list is an error."""
    found = parent.values.get("citations")
    items = parent.items("citations")
    listed = found is None or isinstance(found.value, (list, type(None)))
    if not items:
        if listed:  # a value that is not a list is reported by items() instead
            where = found.loc if found is not None else parent.node.loc
            problems.append(Problem(where, "error", "no-citation",
                                    f"{parent.what} has no citation",
                                    "add 'citations:' with at least one "
                                    "'- source: ... quote: ...'"))
        return []
    citations = []
    for item in items:
        if not _require_mapping(item, "a citation", problems):
            continue
        m = _Mapping(item, "citation", CITATION_KEYS, problems)
        source = m.ident("source")
        quote = _quote(m.get("quote", True), "'quote'", problems)
        according_to = m.ident("according_to", required=False)
        if source and quote:
            citations.append(Citation(source, quote, according_to, item.loc, m.loc("source"),
                                      m.loc("according_to") if according_to else None))
    return citations


def _claim_value(spec: FieldSpec, node: Node, problems: list[Problem]):
    if spec.value == "quantity":
        value = Quantity.parse(node.value)
        if value is None:
            problems.append(Problem(node.loc, "error", "bad-quantity",
                                    f"{_shown(node)} is not a count for {spec.name!r}",
                                    "write 8, 'at least 1', 'about 2,500', '2 to 3' or 'several'"))
        return value
    if spec.value == "date":
        value = FuzzyDate.parse(node.value)
        if value is None:
            problems.append(Problem(node.loc, "error", "bad-date", f"{_shown(node)} is not a date",
                                    DATE_HINT))
        return value
    if isinstance(node.value, (dict, list, bool)) or node.value is None:
        problems.append(Problem(node.loc, "error", "wrong-type",
                                f"the value of {spec.name!r} must be text"))
        return None
    text = str(node.value)
    if spec.value == "actor" and not model.ID_PATTERN.match(text):
        problems.append(Problem(node.loc, "error", "bad-id",
                                f"the value of {spec.name!r} must be an actor id, not {text!r}"))
        return None
    return text


def load_claims(parent: _Mapping, fields: dict[str, FieldSpec],
                problems: list[Problem]) -> list[Claim]:
    """Read ``claims:``, a mapping from field name to a list of claims (versions)."""
    found = parent.get("claims", required=False)
    if found is None:
        return []
    if not _require_mapping(found, "'claims'", problems):
        return []
    claims = []
    for name, versions in found.value.items():
        spec = fields.get(name)
        if spec is None:
            key_loc = found.key_loc(name)
            close = difflib.get_close_matches(name, fields, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "fields: " + ", ".join(fields)
            problems.append(Problem(key_loc, "error", "unknown-field",
                                    f"unknown claim field {name!r}", hint))
            continue
        if not isinstance(versions.value, list):
            problems.append(Problem(versions.loc, "error", "wrong-type",
                                    f"claims.{name} must be a list of claims",
                                    "start each claim with '- value: ...'"))
            continue
        for index, item in enumerate(versions.value):
            if not _require_mapping(item, f"a claim in {name!r}", problems):
                continue
            m = _Mapping(item, f"claim {name!r}", CLAIM_KEYS, problems)
            value_node = m.get("value", True)
            value = _claim_value(spec, value_node, problems) if value_node else None
            citations = load_citations(m, problems)
            if value is not None:
                claims.append(Claim(spec, value, m.text("detail", False), citations, item.loc,
                                    value_node.loc, m.text("note", False), index))
    return claims


def load_established(m: _Mapping, key: str, problems: list[Problem], *,
                     as_date: bool = False, required: bool = True) -> Established | None:
    """Read a value recorded with how it was established (stated, inferred or unknown)."""
    found = m.get(key, required)
    if found is None:
        return None
    if not _require_mapping(found, f"{key!r}", problems):
        return None
    e = _Mapping(found, f"{key!r}", ESTABLISHED_KEYS, problems)
    basis = e.choice("basis", model.BASES)
    value_node = e.get("value", required=basis in ("stated", "inferred"))
    value: object = None
    if value_node is not None:
        if as_date:
            value = FuzzyDate.parse(value_node.value)
            if value is None:
                problems.append(Problem(value_node.loc, "error", "bad-date",
                                        f"{_shown(value_node)} is not a date",
                                        DATE_HINT))
        else:
            value = e.text("value")
    if basis == "unknown" and value is not None:
        problems.append(Problem(value_node.loc, "error", "bad-value",
                                f"{key!r} has a value but basis 'unknown'",
                                "use basis 'stated' or 'inferred', or remove the value"))
    evidence = e.text("evidence", required=True) or ""
    quotes = [q for node in e.items("quotes")
              if (q := _quote(node, "each quote of 'quotes'", problems))]
    if basis == "stated" and not quotes:
        problems.append(Problem(found.loc, "error", "no-citation",
                                f"{key!r} is 'stated' but gives no 'quotes' from the text",
                                "add 'quotes:' with the words of the article that state it"))
    return Established(value, basis or "unknown", evidence, quotes, found.loc)


def load_source(node: Node, problems: list[Problem]) -> Source | None:
    m = _Mapping(node, "source", SOURCE_KEYS, problems)
    ident, corpus = m.ident("id"), m.text("corpus")
    sha = m.text("sha256")
    if sha is not None and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
        m.error(m.loc("sha256"), "bad-value", "'sha256' must be 64 lower-case hex digits",
                "run: sha256sum " + (corpus or "corpus/FILE"))
        sha = None
    outlet = load_established(m, "outlet", problems)
    published = load_established(m, "published", problems, as_date=True)
    relays = load_established(m, "relays", problems, required=False)
    copy_of = load_established(m, "copy_of", problems, required=False)
    url, archive_url = m.text("url", required=False), m.text("archive_url", required=False)
    if url is not None and not url.startswith(("https://", "http://")):
        m.error(m.loc("url"), "bad-value", f"'url' {url!r} is not an http(s) URL",
                "leave 'url' out when the article's address is not known; never guess it")
        url = None
    if archive_url is not None and not archive_url.startswith(("https://", "http://")):
        m.error(m.loc("archive_url"), "bad-value",
                f"'archive_url' {archive_url!r} is not an http(s) URL",
                "give the address of an archived copy (Wayback Machine, archive.today)")
        archive_url = None
    title = m.text("title", required=False)
    language = m.text("language", required=False) or "en"
    if None in (ident, corpus, sha, outlet, published):
        return None
    return Source(ident, corpus, sha, outlet, title, published, url, language, relays,
                  copy_of, m.text("notes", False), node.loc, m.loc("corpus"), m.loc("sha256"),
                  m.loc("title") if title else None, archive_url)


def load_actor(node: Node, problems: list[Problem]) -> Actor | None:
    m = _Mapping(node, "actor", ACTOR_KEYS, problems)
    ident, name = m.ident("id"), m.text("name")
    kind = m.choice("kind", model.ACTOR_KINDS)
    aliases = m.text_list("aliases")
    claims = load_claims(m, ACTOR_FIELDS, problems)
    if None in (ident, name, kind):
        return None
    return Actor(ident, name, kind, aliases, claims, node.loc)


def load_incident(node: Node, problems: list[Problem]) -> Incident | None:
    m = _Mapping(node, "incident", INCIDENT_KEYS, problems)
    ident, title = m.ident("id"), m.text("title")
    kind = m.choice("kind", model.INCIDENT_KINDS)
    raw_date = m.get("date", True)
    when = FuzzyDate.parse(raw_date.value) if raw_date else None
    if raw_date and when is None:
        m.error(raw_date.loc, "bad-date", f"{_shown(raw_date)} is not a date",
                DATE_HINT)
    place = m.text("place")
    related = m.id_list("related")
    claims = load_claims(m, INCIDENT_FIELDS, problems)
    if None in (ident, title, kind, when, place):
        return None
    return Incident(ident, title, kind, when, place, claims, node.loc, m.loc("date"),
                    [i for i, _ in related], [loc for _, loc in related])


def load_statement(node: Node, problems: list[Problem]) -> Statement | None:
    m = _Mapping(node, "statement", STATEMENT_KEYS, problems)
    ident, speaker = m.ident("id"), m.ident("speaker")
    when = load_established(m, "date", problems, as_date=True)
    medium = m.choice("medium", model.STATEMENT_MEDIA)
    text = _quote(m.get("text", True), "'text'", problems)
    about = m.id_list("about")
    citations = load_citations(m, problems)
    if None in (ident, speaker, when, medium, text):
        return None
    return Statement(ident, speaker, when, medium, text, [i for i, _ in about], citations,
                     node.loc, m.loc("speaker"), [loc for _, loc in about],
                     m.text("language_note", False))


LOADERS = {"sources": load_source, "actors": load_actor, "incidents": load_incident,
           "statements": load_statement}


def fact_files(root: Path) -> list[tuple[str, Path]]:
    """Every ``facts/<kind>/*.yaml`` file, as (kind, path), in a stable order."""
    files = []
    for kind in model.KINDS:
        folder = root / "facts" / kind
        if folder.is_dir() and not folder.is_symlink():  # a linked folder is reported
            with os.scandir(folder) as entries:  # names and types in one system call
                names = sorted(entry.name for entry in entries
                               if os.path.splitext(entry.name)[1] in (".yaml", ".yml")
                               and entry.is_file())
            files += [(kind, folder / name) for name in names]
    return files


def stray_files(root: Path) -> list[Path]:
    """YAML files under `facts/` that no kind folder holds, so would silently be ignored.

    Linked folders are not followed.  ``os.walk`` lists each folder once; ``rglob`` made a
    path object of each of the thousands of files the kind folders hold (40 ms at 5,000
    incidents, after the workers of a check are done).
    """
    facts = root / "facts"
    kinds = {str(facts / kind) for kind in model.KINDS}
    found = []
    for folder, subfolders, names in os.walk(facts):
        if folder not in kinds:  # the files of kind folders are read (their folders not)
            found += [Path(folder, name) for name in (*names, *subfolders)
                      if os.path.splitext(name)[1] in (".yaml", ".yml")]
    return sorted(found)


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` for messages; bytes that are not UTF-8 show as \\xNN."""
    text, base = str(path), str(root).rstrip(os.sep) + os.sep
    if text.startswith(base):  # the usual case, without pathlib's parsing of both paths
        rel = text[len(base):].replace(os.sep, "/")
    else:
        rel = path.relative_to(root).as_posix()
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def read_unlinked(path: Path) -> bytes | None:
    """A file's bytes, or None when it is a symbolic link (OSError when unreadable).

    One ``open`` that refuses a link (``O_NOFOLLOW``) instead of looking at the path and
    then reading it: fewer system calls over thousands of files, and nothing can swap
    in a link between the look and the read.
    """
    if not _NO_FOLLOW and path.is_symlink():  # pragma: no cover - Windows
        return None
    try:
        fd = os.open(path, os.O_RDONLY | _NO_FOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP and path.is_symlink():
            return None
        raise
    try:
        chunks = [os.read(fd, os.fstat(fd).st_size + 1)]  # the whole file, then the end
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 20))
        return b"".join(chunks)
    finally:
        os.close(fd)


_CONFIRM = re.compile(rb"#\s*CONFIRM\b")


def _unconfirmed(raw: bytes, path: str, problems: list[Problem]) -> None:
    """Warn about values that add-source or suggest detected and nobody has confirmed."""
    for match in _CONFIRM.finditer(raw):
        line = raw.count(b"\n", 0, match.start()) + 1
        column = match.start() - (raw.rfind(b"\n", 0, match.start()) + 1) + 1
        problems.append(Problem(Location(path, line, column), "warning", "unconfirmed",
                                "a detected value is still marked '# CONFIRM'",
                                "check the value against the article, then delete the mark"))


@dataclass(slots=True)
class FactFile:
    """One fact file as read: its record, or None and the id its references may use."""

    kind: str
    record: Record | None  # None also once the file is summed up in another process
    ident: str | None  # the record's id
    id_loc: Location | None  # where it is written
    unloaded: str | None  # the id of a record that failed to load, most likely
    problems: list[Problem]
    raw: bytes | None = None  # the file's content, when it could be read


def read_fact_file(root: Path, kind: str, path: Path) -> FactFile:
    """Read and load one fact file; every problem it has is in the result."""
    problems: list[Problem] = []
    rel = display_path(path, root)
    try:
        raw = read_unlinked(path)
    except OSError as exc:
        problems.append(Problem(Location(rel), "error", "unreadable",
                                f"cannot read the file: {exc.strerror}",
                                "check that it is a plain file you may read"))
        return FactFile(kind, None, None, None, None, problems)
    if raw is None:
        problems.append(Problem(Location(rel), "error", "symlink",
                                "fact files may not be symbolic links",
                                "replace the link with the file itself"))
        return FactFile(kind, None, None, None, None, problems)
    _unconfirmed(raw, rel, problems)
    node = parse_yaml(raw, rel, problems)
    if node is None or not _require_mapping(node, "a fact file", problems):
        # its id is most likely its file name
        return FactFile(kind, None, None, None, path.stem, problems, raw)
    record = LOADERS[kind](node, problems)
    if record is None:
        ident = node.value.get("id")
        unloaded = ident.value if ident is not None and isinstance(ident.value, str) else None
        # references to it add no noise
        return FactFile(kind, None, None, None, unloaded, problems, raw)
    return FactFile(kind, record, record.id, node.key_loc("id"), None, problems, raw)


def accept(fact: FactFile, first_seen: dict[str, Location], unloaded: set[str],
           problems: list[Problem]) -> bool:
    """Whether ``fact``'s record is taken: its id must not be used by an earlier file.

    Files are taken in the order of :func:`fact_files`; a refused record's id joins
    ``unloaded``, so that references to it add no noise.
    """
    problems += fact.problems
    ident = fact.ident
    if ident is None:
        if fact.unloaded is not None:
            unloaded.add(fact.unloaded)
        return False
    if ident in first_seen:
        problems.append(Problem(fact.id_loc, "error", "duplicate-id",
                                f"id {ident!r} is already used at {first_seen[ident]}",
                                "every record needs its own id"))
        unloaded.add(ident)
        return False
    first_seen[ident] = fact.id_loc
    return True


def check_kind_folders(root: Path, problems: list[Problem]) -> None:
    for kind in model.KINDS:
        if (root / "facts" / kind).is_symlink():
            problems.append(Problem(Location(f"facts/{kind}"), "error", "symlink",
                                    "a kind folder may not be a symbolic link; its files "
                                    "are not read", "replace the link with the folder itself"))


def check_stray_files(root: Path, problems: list[Problem]) -> None:
    for path in stray_files(root):
        problems.append(Problem(Location(display_path(path, root)), "warning",
                                "stray-file", "file is not in a kind folder and is not read",
                                "move it to facts/sources, facts/actors, facts/incidents "
                                "or facts/statements"))


def load_records(root: Path, problems: list[Problem]) -> Records:
    """Read every fact file, appending problems; duplicate ids are reported here."""
    records = Records()
    first_seen: dict[str, Location] = {}
    check_kind_folders(root, problems)
    for kind, path in fact_files(root):
        fact = read_fact_file(root, kind, path)
        if accept(fact, first_seen, records.unloaded, problems):
            getattr(records, kind)[fact.record.id] = fact.record
    check_stray_files(root, problems)
    return records
