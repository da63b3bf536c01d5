"""A Python-Markdown extension that skips the inline patterns a page cannot use.

Python-Markdown tries each of its inline patterns on every piece of text of a page, over
and over as the text is split by what matched; that is about half of converting a page.
Each built-in pattern needs some text to match: an image needs ``![``, code a backtick, a
line break two spaces before a newline.  Just before the inline patterns run, this
extension collects the text they will see and hands the inline treeprocessor a plain list
of the patterns, without every built-in one whose needed text is not in it; right after,
it gives the treeprocessor back the registry, which it never changes.  A pattern that
cannot match changes nothing, so the HTML is the same (``tests/test_markdown_prune.py``
converts the shipped site's pages and generated Markdown both ways).  On the fact sheet's
generated pages, which have no code, images or line breaks, Python-Markdown takes about
15% less time (6-10% of converting a page and making its search entries, in MkDocs);
looking the patterns up in a list rather than the registry, 6-14% less again.

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
    """Gives the inline treeprocessor of one Markdown instance the patterns a page can
    use, as a plain list, and gives it back the registry afterwards."""

    def __init__(self, md: Markdown) -> None:
        self.md = md

    def set_aside(self, text: str) -> None:
        if "inline" not in self.md.treeprocessors:
            return
        registry = self.md.inlinePatterns
        absent = set()
        for name, (kind, needs) in NEEDS.items():
            pattern = registry[name] if name in registry else None
            if type(pattern) is kind and not any(need in text for need in needs):
                absent.add(id(pattern))
        # the same patterns in the same order, minus those that cannot match; a list is
        # also faster to index than the registry, which sorts itself at each of the
        # thousand or so lookups a page makes
        self.md.treeprocessors["inline"].inlinePatterns = [
            pattern for pattern in registry if id(pattern) not in absent]

    def restore(self) -> None:
        if "inline" in self.md.treeprocessors:
            self.md.treeprocessors["inline"].inlinePatterns = self.md.inlinePatterns


class _SetAside(Treeprocessor):
    """Runs just before the inline patterns: leaves out those that cannot match."""

    def __init__(self, md: Markdown, aside: _Aside) -> None:
        super().__init__(md)
        self.aside = aside

    def run(self, root) -> None:
        # everything the inline patterns will see is the text or tail of an element
        self.aside.set_aside("\n".join(part for element in root.iter()
                                       for part in (element.text, element.tail) if part))


class _PutBack(Treeprocessor):
    """Runs just after the inline patterns: gives the registry back."""

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
