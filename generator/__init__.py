"""factsheet: a citation-first fact-sheet site generator.

The stages, one module each: :mod:`~generator.yamlfile` and :mod:`~generator.load`
read `facts/` into :mod:`~generator.model` records; :mod:`~generator.check` verifies
them against `corpus/`; :mod:`~generator.render` turns checked records into a tree of
Markdown pages; :mod:`~generator.build` hands that tree to MkDocs.
"""

__version__ = "0.1.0"
