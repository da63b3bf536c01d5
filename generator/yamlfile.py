"""Read a YAML file into a tree of :class:`Node` values that remember where they came from.

PyYAML's parser (libyaml, in C, when present) hands over the file's events; this module
reads them once, turning scalars into Python values and keeping the line and column of
every key and value.  It refuses what a fact file never needs and what would make a
contributor's mistake silent: duplicate keys, non-string keys, anchors and aliases
(which also defuses "billion laughs" alias bombs), and files that are not UTF-8.
Files nested too deep or holding too many values are refused as they are read, so no
input can crash libyaml or hold up a check for minutes.

A plain fact file (no tag, anchor or alias, small) is composed by libyaml instead, in C,
and its tree converted: 15% less time over thousands of files.  Anything that
conversion meets which the event reader would say something about sends the file to the
event reader, which says it; so both give the same tree and the same problems.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

from .errors import Location, Problem

try:  # libyaml's parser is about twelve times faster than the pure-Python one
    from yaml import CSafeLoader as _Loader
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader
    _CParser = None

MAX_FILE_BYTES = 4 * 1024 * 1024
# A record nests about six levels deep; libyaml's composer recurses in C and crashes the
# interpreter on a few hundred thousand nested brackets, so depth is measured first.
MAX_DEPTH = 50
# The longest shipped record holds about two thousand values; composing and walking a
# file of millions of tiny values would take minutes, so the count is bounded too.
MAX_VALUES = 100_000
# What YAML refuses to read (control characters other than tab and line breaks).
_NOT_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                            "\U00010000-\U0010FFFF]")
_TAG = "tag:yaml.org,2002:"


def mark_location(path: str, mark) -> Location:
    """Where libyaml's ``mark`` (0-based line and column) is, as problems name places."""
    return Location(path, mark.line + 1, mark.column + 1)


class Node:
    """A YAML value with its line and column; mappings also keep where each key is.

    Locations are made when asked for: a check reads a few hundred thousand values and
    needs the place of most of them only to report a problem.
    """

    __slots__ = ("value", "path", "mark", "key_marks")

    def __init__(self, value: Any, path: str, mark,
                 key_marks: dict[str, Any] | None = None) -> None:
        self.value, self.path, self.mark = value, path, mark  # libyaml's mark: 0-based
        self.key_marks = key_marks  # key -> its mark, for mappings

    @property
    def loc(self) -> Location:
        return mark_location(self.path, self.mark)

    def key_loc(self, key: str) -> Location:
        """Where ``key`` is written in this mapping (where the mapping starts if absent)."""
        mark = self.key_marks.get(key) if self.key_marks else None
        return mark_location(self.path, mark) if mark else self.loc

    @property
    def kind(self) -> str:
        if isinstance(self.value, dict):
            return "mapping"
        if isinstance(self.value, list):
            return "list"
        if self.value is None:
            return "null"
        return type(self.value).__name__


_UNSUPPORTED_TAG_HINT = "remove the '!' tag; fact files hold plain text, numbers and lists"


def _typed(tag: str, text: str) -> tuple[Any, bool]:
    """A scalar's value as PyYAML's SafeLoader types it; False when the tag is unknown."""
    if tag == _TAG + "null":
        return None, True
    if tag == _TAG + "bool":
        return text.lower() in ("true", "yes", "on", "y"), True
    if tag == _TAG + "int":
        digits = text.replace("_", "")
        for base in (10, 0):  # 0: YAML 1.1 hex and octal forms such as 0x1F
            try:
                return int(digits, base), True
            except ValueError:
                pass
        return text, True
    if tag == _TAG + "float":
        try:
            return float(text.replace("_", "")), True
        except ValueError:
            return text, True
    # dates are parsed by the model, which knows their precision
    return text, tag in (_TAG + "str", _TAG + "timestamp")


# A plain scalar starting with a letter is text unless it is one of these words: of the
# implicit types only booleans and null start with a letter.  Others go to the resolver.
_NOT_TEXT_WORDS = frozenset("yes Yes YES no No NO true True TRUE false False FALSE on On ON "
                            "off Off OFF null Null NULL".split())
_NO_KEY, _SKIP = object(), object()
_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_MAPPING_START, _LIST_START = yaml.MappingStartEvent, yaml.SequenceStartEvent
_MAPPING_END, _LIST_END = yaml.MappingEndEvent, yaml.SequenceEndEvent


def _read_events(text: str, path: str, problems: list[Problem]):
    """Read one document straight from libyaml's events into :class:`Node` values.

    One pass does what composing the node graph and walking it did in two: aliases are
    reported where they are written and read as null, nesting deeper than
    :data:`MAX_DEPTH` stops the reading, and keys must be plain unique text.  Problems of
    the content are kept until the whole stream has parsed, so a syntax error is reported
    alone, as before.
    """
    parser = _Loader(text)
    try:
        return _EventReader(parser, path, problems).document()
    finally:
        parser.dispose()


class _EventReader:
    """The state of one :func:`_read_events` pass."""

    def __init__(self, parser, path: str, problems: list[Problem]):
        self.parser, self.path, self.problems = parser, path, problems
        self.content: list[Problem] = []  # kept until the stream has parsed
        self.depth = self.values = 0
        self.anchors: dict[str, object] = {}  # anchor -> mark, in the first document
        self.first_document = True
        self.composer_error: yaml.composer.ComposerError | None = None  # raised at the end

    def loc(self, mark) -> Location:
        return mark_location(self.path, mark)

    def error(self, mark, code: str, message: str, hint: str = "") -> None:
        self.content.append(Problem(self.loc(mark), "error", code, message, hint))

    def stop(self, event, code: str, message: str, hint: str) -> bool:
        """Report a problem of the stream itself at once (not kept with the content's)."""
        self.problems.append(Problem(self.loc(event.start_mark), "error", code, message, hint))
        return True

    def too_many(self, event) -> bool:
        return self.stop(event, "file-too-large", f"the file holds more than {MAX_VALUES:,} values",
                         "split the records into several files")

    def too_deep(self, event) -> bool:
        self.problems.append(_too_deep(self.loc(event.start_mark)))
        return True

    def alias(self, event) -> None:
        self.stop(event, "yaml-alias",
                  f"alias '*{event.anchor}' is not allowed: anchors and aliases "
                  "(&name / *name) are not used in fact files", "write the value out in full")

    def structural(self, event) -> bool:
        """Report an alias; count values and nesting.  True when the file is too deep or
        too big to go on.  (:meth:`root` does the same inline for the first document.)"""
        kind = type(event)
        if kind is not _MAPPING_END and kind is not _LIST_END:
            self.values += 1  # a scalar, an alias, or the start of a list or mapping
            if self.values > MAX_VALUES:
                return self.too_many(event)
        if self.first_document and self.composer_error is None:
            self.anchor_error(event, kind)
        if kind is _ALIAS:
            self.alias(event)
        elif kind is _MAPPING_START or kind is _LIST_START:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                return self.too_deep(event)
        elif kind is _MAPPING_END or kind is _LIST_END:
            self.depth -= 1
        return False

    def anchor_error(self, event, kind) -> None:
        """What composing the node graph would have refused: a duplicate or unknown anchor."""
        if kind is _ALIAS:
            if event.anchor not in self.anchors:
                self.composer_error = yaml.composer.ComposerError(
                    None, None, "found undefined alias", event.start_mark)
        elif getattr(event, "anchor", None) is not None:
            first = self.anchors.get(event.anchor)
            if first is not None:
                self.composer_error = yaml.composer.ComposerError(
                    "found duplicate anchor; first occurrence", first, "second occurrence",
                    event.start_mark)
            else:
                self.anchors[event.anchor] = event.start_mark

    def document(self) -> Node | None:
        get = self.parser.get_event
        get()  # stream start
        event = get()
        if type(event) is yaml.StreamEndEvent:
            return None
        root, root_mark = self.root()
        if root is _SKIP:
            return _SKIP  # too deep or too big
        get()  # document end
        self.first_document = False
        event = get()
        if type(event) is not yaml.StreamEndEvent:
            second = event
            while type(event) is not yaml.StreamEndEvent:  # report what the rest holds
                if self.structural(event):
                    return _SKIP
                event = get()
            if self.composer_error is not None:
                raise self.composer_error
            raise yaml.composer.ComposerError("expected a single document in the stream",
                                              root_mark, "but found another document",
                                              second.start_mark)
        if self.composer_error is not None:
            raise self.composer_error
        self.problems.extend(self.content)
        return root

    def root(self):
        """Read the events of one document's root node; (node, its start mark).

        The loop handles about a million events at 5,000 incidents, so it is written
        flat: no call per event except libyaml's, a Node per value, no Location, and the
        open mapping or list held in local variables (the enclosing ones on a stack).
        """
        get, path = self.parser.get_event, self.path
        text_tag, words, no_key, skip = _TAG + "str", _NOT_TEXT_WORDS, _NO_KEY, _SKIP
        stack: list[tuple] = []
        # The open mapping or list: its node (None at the root), its values, for a mapping
        # where each key is, the key awaiting its value and where that key is; whether its
        # problems are noise (it is inside something refused), and where it starts.
        node_ = items = keys = mark_ = start = None
        mapping = quiet_ = False
        key = no_key
        root_mark = None
        values = depth = 0
        while True:
            event = get()
            kind = type(event)
            if kind is _MAPPING_END or kind is _LIST_END:
                depth -= 1
                node, closed = node_, start
                node_, items, keys, mapping, key, mark_, quiet_, start = stack.pop()
                if mapping and key is no_key:  # a mapping or list written as a key
                    if not quiet_:
                        self.error(closed, "yaml-key", "a key must be a plain word",
                                   "merge keys (<<) and complex keys are not supported")
                    key = skip
                    continue
            else:
                values += 1
                if values > MAX_VALUES:
                    return skip, self.too_many(event)
                if event.anchor is not None and self.composer_error is None:
                    self.anchor_error(event, kind)
                mark = event.start_mark
                if kind is _SCALAR:
                    text, tag = event.value, event.tag
                    if tag is None or tag == "!":
                        if not event.implicit[0] or (text[:1].isalpha() and text not in words):
                            tag = text_tag  # quoted, or plain text: the usual case
                        else:
                            tag = self.parser.resolve(yaml.ScalarNode, text, event.implicit)
                    if mapping and key is no_key:
                        if tag is text_tag and text not in items:  # the usual key
                            key = text
                        else:
                            key = self.key(quiet_, items, keys, mark, text, tag)
                        mark_ = mark
                        continue
                    if tag is text_tag or tag == text_tag:
                        node = Node(text, path, mark)
                    else:
                        value, known = _typed(tag, text)
                        if not known and not (quiet_ or key is skip):
                            self.error(mark, "yaml-tag", f"unsupported tag {tag!r}",
                                       _UNSUPPORTED_TAG_HINT)
                        node = Node(value, path, mark)
                else:
                    if root_mark is None:
                        root_mark = mark
                    quiet = quiet_ or key is skip
                    as_key = mapping and key is no_key
                    if kind is _ALIAS:
                        self.alias(event)
                        if as_key:
                            self.error(mark, "yaml-key", "a key must be a plain word",
                                       "merge keys (<<) and complex keys are not supported")
                            key = skip
                            continue
                        node = Node(None, path, mark)
                    else:  # the start of a mapping or list
                        depth += 1
                        if depth > MAX_DEPTH:
                            return skip, self.too_deep(event)
                        tag = event.tag
                        if tag not in (None, "!", _TAG + "map", _TAG + "seq") and not quiet:
                            self.error(mark, "yaml-tag", f"unsupported tag {tag!r}",
                                       _UNSUPPORTED_TAG_HINT)
                        stack.append((node_, items, keys, mapping, key, mark_, quiet_, start))
                        mapping = kind is _MAPPING_START
                        keys = {} if mapping else None
                        items = {} if mapping else []
                        node_ = Node(items, path, mark, keys)
                        key, mark_, quiet_, start = no_key, None, quiet or as_key, mark
                        continue
            if node_ is None:
                self.values = values  # the rest of the stream counts on
                return node, root_mark or mark
            if mapping:
                if key is not skip:
                    items[key] = node
                    keys[key] = mark_
                key = no_key
            else:
                items.append(node)

    def key(self, quiet: bool, items: dict, keys: dict, mark, key: str, tag: str):
        """A scalar as the next key of a mapping, or _SKIP, having said why it cannot be."""
        if tag == _TAG + "merge":
            if not quiet:
                self.error(mark, "yaml-key", "a key must be a plain word",
                           "merge keys (<<) and complex keys are not supported")
            return _SKIP
        if tag != _TAG + "str":
            if not quiet:
                self.error(mark, "yaml-key",
                           f"key {key!r} is read as {tag.removeprefix(_TAG)}, not text",
                           "keys are field names such as 'id' or 'quote'")
            return _SKIP
        if key in items:
            if not quiet:
                self.error(mark, "duplicate-key",
                           f"duplicate key {key!r} (first at line {keys[key].line + 1})",
                           "YAML keeps only the last value of a repeated key; merge the two")
            return _SKIP
        return key


def read_text(raw: bytes, path: str, problems: list[Problem]) -> str | None:
    """Decode a file's bytes as UTF-8, reporting the line of the first bad byte."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start:exc.start].decode("utf-8", "replace")) + 1
        problems.append(Problem(
            Location(path, line, column), "error", "encoding",
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
            "save the file as UTF-8"))
        return None
    return text.removeprefix("\ufeff")


def _too_deep(loc: Location) -> Problem:
    return Problem(loc, "error", "yaml-too-deep",
                   f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
                   "a record nests a few levels at most; check the brackets and indentation")


def _unreadable_character(text: str, path: str) -> Problem:
    """Where the first character YAML refuses is (libyaml reports a byte offset)."""
    found = _NOT_PRINTABLE.search(text)
    if found is None:  # pragma: no cover - the reader refused something we do not know
        return Problem(Location(path, 1, 1), "error", "yaml-syntax",
                       "invalid YAML: the file holds a character YAML does not allow")
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return Problem(Location(path, line, column), "error", "yaml-syntax",
                   f"invalid YAML: character U+{ord(found.group()):04X} is not allowed",
                   "remove it; of the control characters only tabs and line breaks may appear")


def parse_yaml(raw: bytes, path: str, problems: list[Problem]) -> Node | None:
    """Parse one YAML document; on any problem, append it and return None or a partial tree."""
    if len(raw) > MAX_FILE_BYTES:
        problems.append(Problem(Location(path, 1, 1), "error", "file-too-large",
                                f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}",
                                "split the records into several files"))
        return None
    text = read_text(raw, path, problems)
    if text is None:
        return None
    root = _composed(text, path)
    if root is not None:
        return root
    try:
        root = _read_events(text, path, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "maximum nesting depth" in (exc.problem or ""):
            # libyaml's own limit (PyYAML 6.0.4 and later), met while its scanner looks
            # ahead of the events that would have reached MAX_DEPTH
            problems.append(_too_deep(mark_location(path, mark)))
            return None
        if exc.context_mark and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # an unclosed quote: point at where it opened
        loc = mark_location(path, mark) if mark else Location(path, 1, 1)
        context = exc.context or ""
        if exc.context_mark and context:
            context += f" (line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
        message = " ".join(part for part in (context, exc.problem) if part)
        hint = "check indentation (spaces, not tabs) and that every quote is closed"
        problems.append(Problem(loc, "error", "yaml-syntax", f"invalid YAML: {message}", hint))
        return None
    except yaml.reader.ReaderError:
        problems.append(_unreadable_character(text, path))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(Location(path, 1, 1), "error", "yaml-syntax",
                                f"invalid YAML: {exc}", ""))
        return None
    if root is _SKIP:  # nested too deep, reported
        return None
    if root is None:
        problems.append(Problem(Location(path, 1, 1), "error", "empty-file",
                                "file is empty", "a fact file holds one record, a mapping with an 'id'"))
        return None
    return root


# Composing needs libyaml's own bound on nesting (PyYAML 6.0.4 and later bundle it): its
# composer recurses in C.  Above this size a file goes to the event reader, which counts
# values as it reads: a file this small cannot hold MAX_VALUES of them.
COMPOSE_MAX_CHARS = 32 * 1024
_TEXT, _INT, _MAP, _SEQ = _TAG + "str", _TAG + "int", _TAG + "map", _TAG + "seq"


class _Refused(Exception):
    """Something in a composed file the event reader would report, or might."""


if _CParser is not None:
    class _Composer(_CParser):
        """libyaml's composer, typing scalars as :meth:`_EventReader.root` does."""

        _resolver = yaml.resolver.Resolver()

        def resolve(self, kind, value, implicit):
            if kind is yaml.ScalarNode:
                if not implicit[0] or (value[:1].isalpha() and value not in _NOT_TEXT_WORDS):
                    return _TEXT  # quoted, or plain text
                if value.isdigit() and value.isascii() and (value[0] != "0" or value == "0"):
                    return _INT  # a count: what the resolver's patterns would find, sooner
                tag = self._resolver.resolve(kind, value, implicit)
                return _TEXT if tag == _TEXT else tag
            return _MAP if kind is yaml.MappingNode else _SEQ

        def descend_resolver(self, parent, index) -> None:
            pass  # no path resolvers

        def ascend_resolver(self) -> None:
            pass


@lru_cache(maxsize=None)
def _libyaml_bounds_nesting() -> bool:
    """Whether this libyaml refuses deep nesting itself, so that composing cannot recurse
    until the interpreter crashes."""
    if _CParser is None:
        return False
    parser = _Composer("[" * 1100 + "]" * 1100)
    try:
        parser.get_single_node()
    except yaml.YAMLError as exc:
        return "maximum nesting depth" in str(exc)
    finally:
        parser.dispose()
    return False


def _composed(text: str, path: str) -> Node | None:
    """The file's tree composed by libyaml, or None: the event reader must read it."""
    if (len(text) > COMPOSE_MAX_CHARS or "!" in text or "&" in text or "*" in text
            or not _libyaml_bounds_nesting()):
        return None  # tags, anchors and aliases are the event reader's to report
    parser = _Composer(text)
    try:
        root = parser.get_single_node()
        return None if root is None else _converted(root, path, 1)
    except (yaml.YAMLError, _Refused):
        return None
    finally:
        parser.dispose()


def _converted(node, path: str, depth: int) -> Node:
    """A composed node as a :class:`Node`; :class:`_Refused` where the event reader would
    have something to say (keys that are not plain text, repeated keys, values of other
    types than :func:`_typed` knows, nesting deeper than :data:`MAX_DEPTH`)."""
    if depth > MAX_DEPTH:
        raise _Refused
    tag = node.tag
    if tag is _MAP:
        items: dict[str, Node] = {}
        keys: dict[str, Any] = {}
        for key_node, value in node.value:
            key = key_node.value
            if key_node.tag is not _TEXT or key in items:
                raise _Refused
            if value.tag is _TEXT:
                items[key] = Node(value.value, path, value.start_mark)
            else:
                items[key] = _converted(value, path, depth + 1)
            keys[key] = key_node.start_mark
        return Node(items, path, node.start_mark, keys)
    if tag is _SEQ:
        return Node([_converted(item, path, depth + 1) for item in node.value], path,
                    node.start_mark)
    if tag is _TEXT:
        return Node(node.value, path, node.start_mark)
    value, known = _typed(tag, node.value)
    if not known:
        raise _Refused
    return Node(value, path, node.start_mark)
