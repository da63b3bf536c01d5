"""A Python-Markdown extension that skips the inline patterns a page cannot use.

Python-Markdown tries each of its inline patterns on every piece of text of a page, over
and over as the text is split by what matched; that is about half of converting a page.
Each built-in pattern needs some text to match: an image needs ``![``, code a backtick, a
line break two spaces before a newline.  Just before the inline patterns run, this
extension collects the text they will see and sets aside every built-in pattern whose
needed text is not in it; right after, it puts them back.  A pattern that cannot match
changes nothing, so the HTML is the same (``tests/test_markdown_prune.py`` converts the
shipped site's pages and generated Markdown both ways).  On the fact sheet's generated
pages, which have no code, images or line breaks, Python-Markdown takes about 15% less
time (6-10% of converting a page and making its search entries, in MkDocs).

Only Python-Markdown's own patterns, of their own classes, are ever set aside: a pattern
that another extension adds or replaces is always tried.
"""

from __future__ import annotations

from markdown import Markdown
from markdown import inlinepatterns as ip
from markdown.extensions import Extension
from markdown.extensions.footnotes import FootnoteInlineProcessor
from markdown.treeprocessors import Treeprocessor

# Python-Markdown's inline patterns: name -> (class, texts one of which a match holds).
# Emphasis is left out: Markdown.reset() drops its delimiter state when it is unregistered.
NEEDS: dict[str, tuple[type, tuple[str, ...]]] = {
    "backtick": (ip.BacktickInlineProcessor, ("`",)),
    "escape": (ip.EscapeInlineProcessor, ("\\",)),
    "footnote": (FootnoteInlineProcessor, ("[^",)),
    "reference": (ip.ReferenceInlineProcessor, ("[",)),
    "link": (ip.LinkInlineProcessor, ("[",)),
    "image_link": (ip.ImageInlineProcessor, ("![",)),
    "image_reference": (ip.ImageReferenceInlineProcessor, ("![",)),
    "short_reference": (ip.ShortReferenceInlineProcessor, ("[",)),
    "short_image_ref": (ip.ShortImageReferenceInlineProcessor, ("![",)),
    "autolink": (ip.AutolinkInlineProcessor, ("<",)),
    "automail": (ip.AutomailInlineProcessor, ("<",)),
    "linebreak": (ip.SubstituteTagInlineProcessor, ("  \n",)),
    "html": (ip.HtmlInlineProcessor, ("<",)),
    "entity": (ip.HtmlInlineProcessor, ("&",)),
}
INLINE = 20  # the priority of Python-Markdown's inline treeprocessor


class _Aside:
    """The patterns set aside in one Markdown instance, and how to put them back."""

    def __init__(self, md: Markdown) -> None:
        self.md = md
        self.patterns: list[tuple[str, object, float]] = []  # (name, pattern, priority)

    def set_aside(self, text: str) -> None:
        self.restore()  # after a conversion that stopped half-way
        registry = self.md.inlinePatterns
        # the registry keeps each name's priority only here; without it nothing is set aside
        priorities = {item.name: item.priority for item in getattr(registry, "_priority", ())}
        for name, (kind, needs) in NEEDS.items():
            pattern = registry[name] if name in priorities else None
            if type(pattern) is kind and not any(need in text for need in needs):
                self.patterns.append((name, pattern, priorities[name]))
        for name, _, _ in self.patterns:
            registry.deregister(name)

    def restore(self) -> None:
        for name, pattern, priority in self.patterns:
            self.md.inlinePatterns.register(pattern, name, priority)
        self.patterns = []


class _SetAside(Treeprocessor):
    """Runs just before the inline patterns: unregisters those that cannot match."""

    def __init__(self, md: Markdown, aside: _Aside) -> None:
        super().__init__(md)
        self.aside = aside

    def run(self, root) -> None:
        # everything the inline patterns will see is the text or tail of an element
        self.aside.set_aside("\n".join(part for element in root.iter()
                                       for part in (element.text, element.tail) if part))


class _PutBack(Treeprocessor):
    """Runs just after the inline patterns: registers again what was set aside."""

    def __init__(self, md: Markdown, aside: _Aside) -> None:
        super().__init__(md)
        self.aside = aside

    def run(self, root) -> None:
        self.aside.restore()


class PruneExtension(Extension):
    """Set aside, for one conversion, the inline patterns that cannot match."""

    def extendMarkdown(self, md: Markdown) -> None:
        aside = _Aside(md)
        md.treeprocessors.register(_SetAside(md, aside), "prune_inline", INLINE + 0.5)
        md.treeprocessors.register(_PutBack(md, aside), "unprune_inline", INLINE - 0.5)


def makeExtension(**kwargs) -> PruneExtension:  # noqa: N802 - Python-Markdown's name
    return PruneExtension(**kwargs)
