"""Read a YAML file into a tree of :class:`Node` values that remember where they came from.

PyYAML composes the node graph (in C when libyaml is present); this module walks it
once, turning scalars into Python values and keeping the line and column of every
key and value.  It refuses what a fact file never needs and what would make a
contributor's mistake silent: duplicate keys, non-string keys, anchors and aliases
(which also defuses "billion laughs" alias bombs), and files that are not UTF-8.
Files nested too deep or holding too many values are refused before they are composed,
so no input can crash libyaml or hold up a check for minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Location, Problem

try:  # libyaml's parser is about twelve times faster than the pure-Python one
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

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


@dataclass(slots=True)
class Node:
    """A YAML value with its location; mappings also keep each key's location."""

    value: Any
    loc: Location
    key_locs: dict[str, Location] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if isinstance(self.value, dict):
            return "mapping"
        if isinstance(self.value, list):
            return "list"
        if self.value is None:
            return "null"
        return type(self.value).__name__


class _Walk:
    """Turns one composed PyYAML node graph into :class:`Node` values."""

    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = problems
        self.seen: set[int] = set()

    def loc(self, mark) -> Location:
        return Location(self.path, mark.line + 1, mark.column + 1)

    def error(self, mark, code: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.loc(mark), "error", code, message, hint))

    def node(self, ynode) -> Node:
        loc = self.loc(ynode.start_mark)
        if id(ynode) in self.seen:
            return Node(None, loc)  # an alias, reported where it is written by _scan_events
        self.seen.add(id(ynode))
        if (isinstance(ynode, (yaml.MappingNode, yaml.SequenceNode))
                and ynode.tag not in (_TAG + "map", _TAG + "seq")):
            self.error(ynode.start_mark, "yaml-tag", f"unsupported tag {ynode.tag!r}",
                       "remove the '!' tag; fact files hold plain text, numbers and lists")
        if isinstance(ynode, yaml.MappingNode):
            return self.mapping(ynode, loc)
        if isinstance(ynode, yaml.SequenceNode):
            return Node([self.node(item) for item in ynode.value], loc)
        return Node(self.scalar(ynode), loc)

    def mapping(self, ynode, loc: Location) -> Node:
        values: dict[str, Node] = {}
        key_locs: dict[str, Location] = {}
        for key_node, value_node in ynode.value:
            key_loc = self.loc(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _TAG + "merge":
                self.error(key_node.start_mark, "yaml-key", "a key must be a plain word",
                           "merge keys (<<) and complex keys are not supported")
                continue
            key = key_node.value
            if key_node.tag != _TAG + "str":
                self.error(key_node.start_mark, "yaml-key",
                           f"key {key!r} is read as {key_node.tag.removeprefix(_TAG)}, not text",
                           "keys are field names such as 'id' or 'quote'")
                continue
            if key in values:
                first = key_locs[key]
                self.error(key_node.start_mark, "duplicate-key",
                           f"duplicate key {key!r} (first at line {first.line})",
                           "YAML keeps only the last value of a repeated key; merge the two")
                continue
            values[key] = self.node(value_node)
            key_locs[key] = key_loc
        return Node(values, loc, key_locs)

    def scalar(self, ynode) -> Any:
        tag, text = ynode.tag, ynode.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return text.lower() in ("true", "yes", "on", "y")
        if tag == _TAG + "int":
            digits = text.replace("_", "")
            for base in (10, 0):  # 0: YAML 1.1 hex and octal forms such as 0x1F
                try:
                    return int(digits, base)
                except ValueError:
                    pass
            return text
        if tag == _TAG + "float":
            try:
                return float(text.replace("_", ""))
            except ValueError:
                return text
        if tag in (_TAG + "str", _TAG + "timestamp"):
            return text  # dates are parsed by the model, which knows their precision
        self.error(ynode.start_mark, "yaml-tag", f"unsupported tag {tag!r}",
                   "remove the '!' tag; fact files hold plain text, numbers and lists")
        return text


# A plain scalar starting with a letter is text unless it is one of these words: of the
# implicit types only booleans and null start with a letter.  Others go to the resolver.
_NOT_TEXT_WORDS = frozenset("yes Yes YES no No NO true True TRUE false False FALSE on On ON "
                            "off Off OFF null Null NULL".split())
_NO_KEY, _SKIP = object(), object()


class _Frame:
    """A mapping or list being read: its node, and for a mapping the key awaiting a value."""

    __slots__ = ("node", "key", "key_loc", "quiet", "start")

    def __init__(self, node: Node, quiet: bool, start) -> None:
        self.node, self.key, self.key_loc = node, _NO_KEY, None
        self.quiet, self.start = quiet, start


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
        return Location(self.path, mark.line + 1, mark.column + 1)

    def error(self, mark, code: str, message: str, hint: str = "") -> None:
        self.content.append(Problem(self.loc(mark), "error", code, message, hint))

    def stop(self, event, code: str, message: str, hint: str) -> bool:
        """Report a problem of the stream itself at once (not kept with the content's)."""
        self.problems.append(Problem(self.loc(event.start_mark), "error", code, message, hint))
        return True

    def structural(self, event) -> bool:
        """Report an alias; count values and nesting.  True when the file is too deep or
        too big to go on."""
        kind = type(event)
        if kind is not yaml.MappingEndEvent and kind is not yaml.SequenceEndEvent:
            self.values += 1  # a scalar, an alias, or the start of a list or mapping
            if self.values > MAX_VALUES:
                return self.stop(event, "file-too-large",
                                 f"the file holds more than {MAX_VALUES:,} values",
                                 "split the records into several files")
        if self.first_document and self.composer_error is None:
            self.anchor_error(event, kind)
        if kind is yaml.AliasEvent:
            self.stop(event, "yaml-alias",
                      f"alias '*{event.anchor}' is not allowed: anchors and aliases "
                      "(&name / *name) are not used in fact files", "write the value out in full")
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                return self.stop(event, "yaml-too-deep",
                                 f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
                                 "a record nests a few levels at most; check the brackets and "
                                 "indentation")
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            self.depth -= 1
        return False

    def anchor_error(self, event, kind) -> None:
        """What composing the node graph would have refused: a duplicate or unknown anchor."""
        if kind is yaml.AliasEvent:
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
            return _SKIP  # too deep
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
        """Read the events of one document's root node; (node, its start mark)."""
        get = self.parser.get_event
        stack: list[_Frame] = []
        root_mark = None
        while True:
            event = get()
            if self.structural(event):
                return _SKIP, None
            kind = type(event)
            mark = event.start_mark
            if root_mark is None:
                root_mark = mark
            top = stack[-1] if stack else None
            quiet = top is not None and (top.quiet or top.key is _SKIP)
            if kind is yaml.ScalarEvent:
                if top is not None and top.key is _NO_KEY and isinstance(top.node.value, dict):
                    self.key(top, event, self.tag(event))
                    continue
                node = self.scalar(event, quiet)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                tag = event.tag
                if tag not in (None, "!", _TAG + "map", _TAG + "seq") and not quiet:
                    self.error(mark, "yaml-tag", f"unsupported tag {tag!r}",
                               "remove the '!' tag; fact files hold plain text, numbers and lists")
                is_key = top is not None and top.key is _NO_KEY and isinstance(top.node.value, dict)
                value = {} if kind is yaml.MappingStartEvent else []
                stack.append(_Frame(Node(value, self.loc(mark)), quiet or is_key, mark))
                continue
            elif kind is yaml.AliasEvent:
                node = Node(None, self.loc(mark))
                if top is not None and top.key is _NO_KEY and isinstance(top.node.value, dict):
                    self.error(mark, "yaml-key", "a key must be a plain word",
                               "merge keys (<<) and complex keys are not supported")
                    top.key = _SKIP
                    continue
            else:  # the end of a mapping or list
                frame = stack.pop()
                node = frame.node
                top = stack[-1] if stack else None
                if top is not None and top.key is _NO_KEY and isinstance(top.node.value, dict):
                    if not (top.quiet or top.key is _SKIP):
                        self.error(frame.start, "yaml-key", "a key must be a plain word",
                                   "merge keys (<<) and complex keys are not supported")
                    top.key = _SKIP
                    continue
            if top is None:
                return node, root_mark
            if isinstance(top.node.value, list):
                top.node.value.append(node)
            else:
                if top.key is not _SKIP:
                    top.node.value[top.key] = node
                    top.node.key_locs[top.key] = top.key_loc
                top.key = _NO_KEY

    def key(self, frame: _Frame, event, tag: str) -> None:
        """Take a scalar as the next key of ``frame``, or report why it cannot be one."""
        mark = event.start_mark
        quiet = frame.quiet
        if tag == _TAG + "merge":
            if not quiet:
                self.error(mark, "yaml-key", "a key must be a plain word",
                           "merge keys (<<) and complex keys are not supported")
            frame.key = _SKIP
            return
        key = event.value
        if tag != _TAG + "str":
            if not quiet:
                self.error(mark, "yaml-key",
                           f"key {key!r} is read as {tag.removeprefix(_TAG)}, not text",
                           "keys are field names such as 'id' or 'quote'")
            frame.key = _SKIP
            return
        if key in frame.node.value:
            if not quiet:
                first = frame.node.key_locs[key]
                self.error(mark, "duplicate-key",
                           f"duplicate key {key!r} (first at line {first.line})",
                           "YAML keeps only the last value of a repeated key; merge the two")
            frame.key = _SKIP
            return
        frame.key, frame.key_loc = key, self.loc(mark)

    def tag(self, event) -> str:
        """A scalar's tag, resolved as PyYAML's SafeLoader would type it."""
        text, tag = event.value, event.tag
        if tag is None or tag == "!":
            if event.implicit[0] and not (text[:1].isalpha() and text not in _NOT_TEXT_WORDS):
                return self.parser.resolve(yaml.ScalarNode, text, event.implicit)
            return _TAG + "str"
        return tag

    def scalar(self, event, quiet: bool) -> Node:
        """A scalar value's node; an unsupported tag is reported unless ``quiet``."""
        tag, loc = self.tag(event), self.loc(event.start_mark)
        if tag == _TAG + "str":
            return Node(event.value, loc)
        walk = _Walk(self.path, self.content if not quiet else [])
        return Node(walk.scalar(_Scalar(tag, event.value, event.start_mark)), loc)


@dataclass(slots=True)
class _Scalar:
    """The parts of a scalar node that :meth:`_Walk.scalar` reads."""

    tag: str
    value: str
    start_mark: object


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
    try:
        root = _read_events(text, path, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # an unclosed quote: point at where it opened
        loc = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)
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
