"""generator.markdown_prune: setting aside the inline patterns a page cannot use changes no
HTML, on the shipped site's pages and on Markdown made to hold every pattern's marks."""

from __future__ import annotations

from pathlib import Path

import markdown
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown.treeprocessors import Treeprocessor

from generator.check import check_project
from generator.markdown_prune import NEEDS, PruneExtension
from generator.site import render_checked

REPO = Path(__file__).resolve().parent.parent
# the shipped mkdocs.yml's extensions, as MkDocs passes them
EXTENSIONS = ["footnotes", "attr_list", "md_in_html", "tables", "admonition", "toc"]
CONFIGS = {"toc": {"permalink": True}}


def convert(text: str, prune: bool) -> str:
    extensions = [*EXTENSIONS, PruneExtension()] if prune else EXTENSIONS
    return markdown.Markdown(extensions=extensions, extension_configs=CONFIGS).convert(text)


def shipped_pages() -> dict[str, str]:
    tree = render_checked(check_project(REPO), REPO / "site_templates", "Fact sheet")
    pages = {path: output.content for path, output in tree.items() if path.endswith(".md")}
    for path in sorted((REPO / "site_templates").rglob("*.md")):
        pages[str(path.relative_to(REPO))] = path.read_text(encoding="utf-8")
    return pages


def test_the_shipped_pages_convert_to_the_same_html():
    pages = shipped_pages()
    assert len(pages) > 20
    for path, text in pages.items():
        assert convert(text, prune=True) == convert(text, prune=False), path


class _Seen(Treeprocessor):
    """Notes which inline patterns the inline treeprocessor tries while it runs."""

    def __init__(self, md, seen: list) -> None:
        super().__init__(md)
        self.seen = seen

    def run(self, root) -> None:
        tried = self.md.treeprocessors["inline"].inlinePatterns
        self.seen.append([name for name in NEEDS if self.md.inlinePatterns[name] in tried])


def test_patterns_are_set_aside_for_the_inline_step_only():
    seen: list = []
    md = markdown.Markdown(extensions=[*EXTENSIONS, PruneExtension()], extension_configs=CONFIGS)
    md.treeprocessors.register(_Seen(md, seen), "seen", 20.25)
    before = list(md.inlinePatterns), {i.name: i.priority for i in md.inlinePatterns._priority}
    text = shipped_pages()["incidents/green-zone-rockets-2020-12-20.md"]
    html = md.convert(text)
    assert "backtick" not in seen[0] and "image_link" not in seen[0]  # no code or images
    assert "footnote" in seen[0] and "link" in seen[0] and "html" in seen[0]
    after = list(md.inlinePatterns), {i.name: i.priority for i in md.inlinePatterns._priority}
    assert after == before  # the registry is left as it was
    assert md.treeprocessors["inline"].inlinePatterns is md.inlinePatterns  # and given back
    md.reset()
    assert md.convert(text) == html
    md.reset()
    assert md.convert("`code` ![alt](x.png)  \nnext") == convert("`code` ![alt](x.png)  \nnext",
                                                                  prune=False)


# Pieces of Markdown that each start, end or nearly make one inline pattern.
PIECES = ["`", "``", "`code`", "\\", "\\`", "\\*", "\\[", "[", "]", "[^1]", "[^1]: note\n",
          "[a]", "[a]: http://x.org\n", "[a](b.md)", "[a][b]", "![", "![a](b.png)", "![a][b]",
          "!", "<", ">", "<http://x.org>", "<a@b.org>", "<span>", "</span>", "<b>x</b>", "&",
          "&amp;", "&#35;", "&copy;", "*", "**", "_", "__", "  \n", " ", "  ", "\t", "\n", "\n\n",
          "- ", "> ", "    ", "# ", "| a | b |\n| --- | --- |\n| c | d |\n", "!!! note\n    ",
          '<div markdown="1">\n\n', "\n</div>\n", "{ #x }", "word", "é", "x"]


@settings(max_examples=400, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_any_markdown_converts_to_the_same_html(pieces):
    text = "".join(pieces)
    assert convert(text, prune=True) == convert(text, prune=False)


@pytest.mark.parametrize("text", ["a `b` c", "x  \ny", "![i](p.png)", "<http://x.org>",
                                  "&copy; 2020", "\\*not em\\*", "[^n]\n\n[^n]: a note"])
def test_each_pattern_still_works_where_its_marks_are(text):
    assert convert(text, prune=True) == convert(text, prune=False)
