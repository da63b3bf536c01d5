"""`factsheet check`: load the facts, then verify every citation against the corpus.

The result holds the records, every problem found (never just the first), and the
normalised corpus text with each quote's position, which rendering and the coverage
report reuse so that nothing is read or matched twice.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import pickle
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import citations as cit
from .errors import Location, Problem
from .lint import lint_record
from .load import (FactFile, Record, accept, check_kind_folders, check_stray_files,
                   display_path, fact_files, read_fact_file, read_unlinked)
from .model import (KINDS, Actor, Citation, Claim, Established, Incident, Records, Source,
                    Statement, pickled_records)
from .parallel import cores, fork_then
from .validate import check_incident_rules, check_references, references
from .yamlfile import read_text


@dataclass(slots=True)
class Corpus:
    """The normalised text of each source's article, with where each quote was found."""

    text: dict[str, str] = field(default_factory=dict)  # source id -> normalised text
    raw: dict[str, str] = field(default_factory=dict)  # source id -> text as in the file
    matches: dict[tuple[str, str], cit.Match] = field(default_factory=dict)


@dataclass(slots=True)
class CheckResult:
    """What `factsheet check` found: records, problems and the matched corpus."""

    records: Records
    problems: list[Problem]
    corpus: Corpus
    counts: dict[str, int] = field(default_factory=dict)  # records of each kind, citations

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))


@contextmanager
def fewer_collections(first_generation: int = 50_000):
    """Run a stage with Python's cycle collector woken less often.

    Loading and rendering make millions of small objects that live until the end, and by
    default every 700 allocations start a collection that walks them again: about a
    third of a large check.  The stages make few reference cycles, so collecting every
    50,000 allocations costs little memory.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(first_generation, old[0]), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def check_project(root: Path, cache: CheckCache | None = None,
                  workers: int | None = None) -> CheckResult:
    """Run every check on the project at ``root``; problems come back sorted by place.

    The records and the matched corpus come back too, for rendering.  In a large
    project, the fact files other than sources are read and checked in forked workers
    (``workers``: by default one per core from :data:`FORK_FROM_FILES` files on), which
    send their records back.  With a ``cache`` (a preview's, kept between its rebuilds),
    everything runs in this process, and files unchanged since the last check are not
    read or checked again.
    """
    with fewer_collections():
        return _check_project(root, workers=workers, keep=True, cache=cache)


# Below this many fact files, workers save nothing: the shipped project is checked in
# 0.04-0.05 s with or without them (a file takes about 0.3 ms to read and check).
FORK_FROM_FILES = 200


def check_facts(root: Path, workers: int | None = None) -> CheckResult:
    """The problems :func:`check_project` finds, found on every core.

    The fact files other than sources are read and checked in shares by forked workers,
    which send back each file's problems and the ids it defines and names, not its
    record: the result's records hold the sources only, and ``counts`` the rest.
    """
    with fewer_collections():
        return _check_project(root, workers=cores() if workers is None else workers,
                              keep=False)


class CheckCache:
    """What checking each fact file found, for the next check of a preview.

    A file's result is reused while its bytes are the same and so are every source file
    and every cited article: a record is checked against nothing else.  The records are
    reused as they are; nothing downstream changes them.
    """

    def __init__(self) -> None:
        self.context: tuple | None = None  # the sources' and articles' content
        self.files: dict[Path, tuple[bytes, _Checked]] = {}
        self.sources: dict[Path, FactFile] = {}  # source files as read, with their bytes
        self.matches: dict[tuple[str, str], cit.Match] = {}  # where quotes were found
        self.reused = 0  # files not read again in the last check (for the tests)

    def start(self, context: tuple, corpus: Corpus) -> None:
        """Begin a check: forget everything if the sources or articles changed."""
        if context != self.context:
            self.context, self.files, self.matches = context, {}, {}
        corpus.matches.update(self.matches)
        self.matches = corpus.matches  # shared: verification adds to both
        self.reused = 0


@dataclass(slots=True)
class _Context:
    """What checking a record needs of the whole project: the sources and their text."""

    root: Path
    sources: dict[str, Source]
    corpus: Corpus
    cache: CheckCache | None = None


@dataclass(slots=True)
class _Checked:
    """What checking one fact file found, as the checks across files need it."""

    fact: FactFile
    later: list[Problem] = field(default_factory=list)  # of its record, if the id is taken
    refs: list[tuple[str, str, str, Location]] = field(default_factory=list)  # to resolve
    cited: set[str] = field(default_factory=set)  # source ids
    missing: dict[str, list[Location]] = field(default_factory=dict)  # quotes not found
    citations: int = 0

    def packed(self) -> tuple:
        """This result as tuples of strings and numbers, which pickle about ten times
        faster than dataclasses: a worker sends back one per fact file.  No record."""
        fact = self.fact
        return (fact.kind, fact.ident, _pack_loc(fact.id_loc), fact.unloaded,
                [_pack_problem(p) for p in fact.problems], [_pack_problem(p) for p in self.later],
                [(kind, ident, what, *_pack_loc(loc)) for kind, ident, what, loc in self.refs],
                self.cited, {source: [_pack_loc(loc) for loc in locs]
                             for source, locs in self.missing.items()}, self.citations)

    @classmethod
    def unpacked(cls, packed: tuple, record: Record | None = None) -> _Checked:
        kind, ident, id_loc, unloaded, problems, later, refs, cited, missing, citations = packed
        fact = FactFile(kind, record, ident, _unpack_loc(id_loc), unloaded,
                        [_unpack_problem(p) for p in problems])
        return cls(fact, [_unpack_problem(p) for p in later],
                   [(kind, ident, what, Location(*loc)) for kind, ident, what, *loc in refs],
                   cited, {source: [Location(*loc) for loc in locs]
                           for source, locs in missing.items()}, citations)


def _pack_loc(loc: Location | None) -> tuple | None:
    return None if loc is None else (loc.path, loc.line, loc.column)


def _unpack_loc(packed: tuple | None) -> Location | None:
    return None if packed is None else Location(*packed)


def _pack_problem(problem: Problem) -> tuple:
    return (*_pack_loc(problem.location), problem.severity, problem.code, problem.message,
            problem.hint)


def _unpack_problem(packed: tuple) -> Problem:
    path, line, column, *rest = packed
    return Problem(Location(path, line, column), *rest)


def _check_project(root: Path, workers: int | None, keep: bool,
                   cache: CheckCache | None = None) -> CheckResult:
    problems: list[Problem] = []
    records = Records()
    first_seen: dict[str, Location] = {}
    check_kind_folders(root, problems)
    files = fact_files(root)
    corpus = Corpus()
    missing: dict[str, list[Location]] = {}  # source id -> quotes not found in it
    changed: dict[str, Problem] = {}

    def settle_sources() -> _Context:
        """Read the sources and their articles: every other record is checked against them."""
        source_bytes = []
        for kind, path in files:
            if kind == "sources":
                fact = _read_source(root, path, cache)
                if accept(fact, first_seen, records.unloaded, problems):
                    records.sources[fact.ident] = fact.record
                source_bytes.append((path, fact.raw))
                if cache is None:
                    fact.raw = None
        if cache is not None:  # forget the files that are gone
            cache.sources = {path: cache.sources[path] for path, _ in source_bytes}
        changed.update(_read_corpus(root, records, corpus, problems, missing))
        for source in records.sources.values():
            for established in (source.outlet, source.published, source.relays,
                                source.copy_of):
                _check_established(established, [source.id], records.sources, corpus,
                                   problems, missing)
        if cache is not None:
            cache.start((tuple(source_bytes), tuple(corpus.raw.items())), corpus)
        return _Context(root, records.sources, corpus, cache)

    others = [file for file in files if file[0] != "sources"]
    if workers is None:
        workers = cores() if len(others) >= FORK_FROM_FILES else 1
    if cache is not None or workers < 2:
        context = settle_sources()
        shares = [_check_share(others, context)]
    else:  # the workers read their files while the sources are read here
        def read(share: list[tuple[str, Path]]) -> list[FactFile]:
            return [read_fact_file(root, kind, path) for kind, path in share]

        def settle_for_workers() -> _Context:  # the sources and their normalised text
            return _Context(root, settle_sources().sources, Corpus(text=corpus.text))

        if keep:
            received, _ = fork_then(read, _check_read_keeping, _split(others, workers),
                                    workers, settle_for_workers, _unpacked_keeping)
            shares = [checked for checked, _ in received]
            for _, found in received:  # in the order of the files, as without workers
                corpus.matches.update((key, cit.Match(start, end)) for key, start, end in found)
        else:
            shares, _ = fork_then(read, _check_read, _split(others, workers), workers,
                                  settle_for_workers, _unpacked)
    refs: list[tuple[str, str, str, Location]] = []
    cited: set[str] = set()
    ids: dict[str, dict[str, object]] = {kind: getattr(records, kind) for kind in KINDS}
    citations = 0
    for checked in (checked for share in shares for checked in share):
        fact = checked.fact
        if not accept(fact, first_seen, records.unloaded, problems):
            continue
        ids[fact.kind][fact.ident] = fact.record
        problems += checked.later
        refs += checked.refs
        cited |= checked.cited
        for source_id, locations in checked.missing.items():
            missing.setdefault(source_id, []).extend(locations)
        citations += checked.citations
    check_references(refs, ids, records.unloaded, problems)
    check_stray_files(root, problems)
    for source in records.sources.values():
        if source.id not in cited:
            problems.append(Problem(source.loc, "warning", "uncited-source",
                                    f"nothing cites source {source.id!r}",
                                    "cite it from a claim or statement, or remove it"))
    for source_id, problem in changed.items():
        suffix = _stale_quotes(sorted(missing.get(source_id, [])), source_id in corpus.text)
        problems.append(Problem(problem.location, problem.severity, problem.code,
                                problem.message + suffix, problem.hint))
    problems.sort(key=Problem.sort_key)
    counts = {kind: len(ids[kind]) for kind in ids} | {"citations": citations}
    if not keep:  # only the sources are records; the other kinds' ids mapped to None
        records = Records(sources=records.sources, unloaded=records.unloaded)
    return CheckResult(records, problems, corpus, counts)


def _split(files: list, workers: int) -> list[list]:
    """Consecutive shares of ``files``, many per worker so that each gets a fair mix
    (the workers share the cores with the main process while it reads the sources)."""
    size = max(1, -(-len(files) // (workers * 32)))
    return [files[i:i + size] for i in range(0, len(files), size)]


def _read_source(root: Path, path: Path, cache: CheckCache | None) -> FactFile:
    """A source file as read, or, in a preview, as the last check read it while its bytes
    are the same (the record is not changed by what follows)."""
    if cache is None:
        return read_fact_file(root, "sources", path)
    kept = cache.sources.get(path)
    if kept is not None and kept.raw is not None and kept.raw == _bytes(path):
        return kept
    fact = cache.sources[path] = read_fact_file(root, "sources", path)
    return fact


def _check_share(files: list[tuple[str, Path]], context: _Context) -> list[_Checked]:
    """Read and check each file, here, skipping those the cache has unchanged."""
    cache = context.cache
    results = []
    for kind, path in files:
        if cache is not None and path in cache.files and cache.files[path][0] == _bytes(path):
            results.append(cache.files[path][1])
            cache.reused += 1
            continue
        checked = _check_fact(read_fact_file(context.root, kind, path), context)
        if cache is not None and checked.fact.raw is not None:
            cache.files[path] = (checked.fact.raw, checked)
        checked.fact.raw = None  # the cache holds it; nothing else needs it
        results.append(checked)
    return results


def _check_read(facts: list[FactFile], context: _Context) -> list[tuple]:
    """Check files a worker has read; only what the checks across files need goes back."""
    return [_check_fact(fact, context).packed() for fact in facts]


def _check_read_keeping(facts: list[FactFile], context: _Context) -> bytes:
    """:func:`_check_read`, with each file's record and where its quotes were found, which
    the build renders."""
    matches = context.corpus.matches
    known = len(matches)  # the quotes matched before (dicts keep their order)
    checked = [(_check_fact(fact, context).packed(), fact.record) for fact in facts]
    found = [(key, match.start, match.end)
             for key, match in itertools.islice(matches.items(), known, None)]
    return pickled_records((checked, found))


def _unpacked(packed: list[tuple]) -> list[_Checked]:
    """What a worker's :func:`_check_read` sent, as this process uses it."""
    return [_Checked.unpacked(one) for one in packed]


def _unpacked_keeping(sent: bytes) -> tuple[list[_Checked], list[tuple]]:
    """What a worker's :func:`_check_read_keeping` sent: the results with their records,
    and the quotes matched, for the caller to add in the order of the files."""
    checked, found = pickle.loads(sent)
    return [_Checked.unpacked(one, record) for one, record in checked], found


def _check_fact(fact: FactFile, context: _Context) -> _Checked:
    checked = _Checked(fact)
    if fact.record is not None:
        _check_record(fact.record, context, checked)
    return checked


def _bytes(path: Path) -> bytes | None:
    """A plain file's bytes, or None (a link, or unreadable: read_fact_file says why)."""
    try:
        return read_unlinked(path)
    except OSError:
        return None


def _check_record(record: Actor | Incident | Statement, context: _Context,
                  checked: _Checked) -> None:
    """The checks of one record that need no other record but the sources."""
    sources, corpus, problems = context.sources, context.corpus, checked.later
    checked.refs = [ref for ref in references(record)
                    if ref[0] != "sources" or ref[1] not in sources]
    if isinstance(record, Statement):
        citations = record.citations
        _check_statement(record, sources, corpus, problems, checked.missing)
        _check_established(record.date, [c.source for c in record.citations], sources,
                           corpus, problems, checked.missing)
    else:
        citations = [c for claim in record.claims for c in claim.citations]
        for claim in record.claims:
            _check_numbers(claim, problems)
        if isinstance(record, Incident):
            check_incident_rules(record, problems)
        lint_record(record, problems)
    for citation in citations:
        checked.cited.add(citation.source)
        _verify(citation, sources, corpus, problems, checked.missing)
    checked.citations = len(citations)


def _stale_quotes(stale: list[Location], readable: bool) -> str:
    """What a changed article means for its quotes, for the end of the SHA-256 message."""
    if not readable:
        return "; its quotes cannot be checked until it is valid UTF-8"
    if not stale:
        return "; every quote from it still verifies"
    verb = "quote no longer verifies" if len(stale) == 1 else "quotes no longer verify"
    return f"; {len(stale)} {verb}: {', '.join(map(str, stale))}"


def _corpus_path(root: Path, source: Source, problems: list[Problem]) -> Path | None:
    """Resolve a source's corpus file, refusing anything outside `corpus/`."""
    rel = PurePosixPath(source.corpus)
    if (rel.is_absolute() or ".." in rel.parts or "\\" in source.corpus
            or len(rel.parts) != 2 or rel.parts[0] != "corpus"
            or not source.corpus.isprintable()):
        problems.append(Problem(source.corpus_loc, "error", "bad-corpus-path",
                                f"corpus path {source.corpus!r} is not a file in corpus/",
                                "write it as corpus/FILE.txt"))
        return None
    path = root / rel
    if (root / "corpus").is_symlink():
        problems.append(Problem(source.corpus_loc, "error", "bad-corpus-path",
                                f"corpus/ is a symbolic link, so {source.corpus} lies outside "
                                "the project", "make corpus/ a folder of plain files"))
        return None
    if path.is_symlink():
        problems.append(Problem(source.corpus_loc, "error", "bad-corpus-path",
                                f"{source.corpus} is a symbolic link",
                                "copy the article into corpus/ as a plain file"))
        return None
    if not path.is_file():
        problems.append(Problem(source.corpus_loc, "error", "missing-corpus",
                                f"{source.corpus} does not exist",
                                "add the article with 'factsheet add-source FILE'"))
        return None
    return path


def _read_corpus(root: Path, records: Records, corpus: Corpus, problems: list[Problem],
                 missing: dict[str, list[Location]]) -> dict[str, Problem]:
    """Read and normalise each source's article; report changed and unreferenced files."""
    changed: dict[str, Problem] = {}
    referenced: set[str] = set()
    for source in records.sources.values():
        path = _corpus_path(root, source, problems)
        if path is None:
            continue
        referenced.add(path.name)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(source.corpus_loc, "error", "unreadable",
                                    f"cannot read {source.corpus}: {exc.strerror}",
                                    "check that it is a plain file you may read"))
            continue
        digest = hashlib.sha256(raw).hexdigest()
        if digest != source.sha256:
            changed[source.id] = Problem(
                source.sha256_loc, "error", "corpus-changed",
                f"{source.corpus} has changed since it was cited: its SHA-256 is "
                f"{digest}, the source records {source.sha256}",
                "if the change is intended, re-check every quote from this source and "
                "update 'sha256'")
        text = read_text(raw, display_path(path, root), problems)
        if text is None:
            continue
        corpus.raw[source.id] = text
        corpus.text[source.id] = cit.normalize(text)
        if source.title and cit.find_quote(source.title, corpus.text[source.id], False) is None:
            problems.append(_not_found(source.title_loc, "title", source.title,
                                       source, corpus.text[source.id]))
            missing.setdefault(source.id, []).append(source.title_loc)
    folder = root / "corpus"
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.name not in referenced and not path.name.startswith("."):
                problems.append(Problem(Location(display_path(path, root)), "warning",
                                        "unreferenced-corpus",
                                        "no source record points to this article",
                                        "add one with 'factsheet add-source', or delete the file"))
    return changed


def _not_found(loc: Location, what: str, quote: str, source: Source, text: str) -> Problem:
    passage, score = cit.closest_passage(quote, text)
    message = f"{what} not found in {source.corpus} (source {source.id!r})"
    if passage:
        message += f"; closest passage ({score:.0f}%): \"{passage}\""
    return Problem(loc, "error", "quote-not-found", message,
                   "copy the words exactly from the article; '...' may stand for left-out "
                   "words, and quotes, dashes and spaces may differ in typography only")


def _verify(citation: Citation, sources: dict[str, Source], corpus: Corpus,
            problems: list[Problem], missing: dict[str, list[Location]]) -> None:
    """Check one citation's quote; remember where it matched for rendering."""
    text = corpus.text.get(citation.source)
    if text is None:
        return  # unknown source or unreadable corpus: already reported
    key = (citation.source, citation.quote.text)
    if key in corpus.matches:
        return
    match = cit.find_quote(citation.quote.text, text)
    if match is None:
        problems.append(_not_found(citation.quote.loc, "quote", citation.quote.text,
                                   sources[citation.source], text))
        missing.setdefault(citation.source, []).append(citation.quote.loc)
        return
    corpus.matches[key] = match


def _check_statement(statement: Statement, sources: dict[str, Source], corpus: Corpus,
                     problems: list[Problem], missing: dict[str, list[Location]]) -> None:
    """A statement's own text must stand verbatim in every source that cites it."""
    for citation in statement.citations:
        text = corpus.text.get(citation.source)
        if text is None:
            continue
        if cit.find_quote(statement.text.text, text, allow_gaps=False) is None:
            problems.append(_not_found(
                statement.text.loc, "statement text", statement.text.text,
                sources[citation.source], text))
            missing.setdefault(citation.source, []).append(statement.text.loc)


def _check_established(established: Established | None, source_ids: list[str],
                       sources: dict[str, Source], corpus: Corpus, problems: list[Problem],
                       missing: dict[str, list[Location]]) -> None:
    """Quotes given as evidence for an outlet, a date or a relay must be in the text."""
    if established is None:
        return
    texts = [(sources[s], corpus.text[s]) for s in source_ids if s in corpus.text]
    for quote in established.quotes:
        if texts and not any(cit.find_quote(quote.text, t) for _, t in texts):
            problems.append(_not_found(quote.loc, "evidence quote", quote.text, *texts[0]))
            missing.setdefault(texts[0][0].id, []).append(quote.loc)


def _check_numbers(claim: Claim, problems: list[Problem]) -> None:
    """Warn when a figure of a claim appears in none of its quotes."""
    if not claim.citations:
        return
    quotes = " ".join(c.quote.text for c in claim.citations)
    if claim.field.value == "date":
        missing = [n for n in claim.value.numbers() if not cit.number_in(n, quotes)]
        if missing and not claim.note:
            problems.append(Problem(
                claim.value_loc, "warning", "date-not-in-quote",
                f"day {missing[0]} of {claim.value} is not stated in any quote of this claim",
                "if the date is inferred (from 'Sunday', say), add a 'note' giving the evidence"))
        return
    numbers = set(claim.value.numbers()) if claim.field.value == "quantity" else set()
    numbers |= cit.digits_in(str(claim.value)) if claim.field.value == "text" else set()
    numbers |= cit.digits_in(claim.detail) if claim.detail else set()
    if not numbers:
        return
    digits = cit.digits_in(quotes)
    for n in sorted(numbers):
        if not cit.number_in(n, quotes, digits):
            problems.append(Problem(
                claim.value_loc, "warning", "number-not-in-quote",
                f"the figure {n} in claims.{claim.field.name} appears in none of its quotes, "
                "in digits or words",
                "check the figure against the article, or quote the words that give it"))
