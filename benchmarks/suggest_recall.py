"""How many curated statements does `factsheet suggest` find again?

Runs `suggest` on every source in facts/sources and compares its proposals with
facts/statements: a curated statement is recovered when `suggest`, run on a source the
statement cites, proposes a statement by the same speaker whose text contains the
curated text (or at least 60% of it).  Every quote of every draft is read back from the
rendered YAML and verified against the corpus again.

    python benchmarks/suggest_recall.py [--root PATH] [--verbose]

Exits 1 when recall is below 90% or any proposed quote fails to verify.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.recall import measure_recall

TARGET = 0.90


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--verbose", action="store_true", help="list missed statements")
    args = parser.parse_args(argv)
    report = measure_recall(Path(args.root))
    curated = len(report.curated)
    print(f"curated statements: {curated}")
    print(f"recovered (same text and speaker): {len(report.recovered)}/{curated} = "
          f"{report.share:.1%}")
    print(f"recovered (same text, any speaker): {len(report.recovered_any_speaker)}/{curated}")
    print(f"proposed quotes verified: {report.proposed_quotes - len(report.unverified)}/"
          f"{report.proposed_quotes}; proposals dropped before the draft: {report.dropped}")
    for ident in report.missed if args.verbose else []:
        print(f"  missed: {ident}")
    for quote in report.unverified:
        print(f"  does not verify: {quote}")
    return 0 if report.share >= TARGET and not report.unverified else 1


if __name__ == "__main__":
    sys.exit(main())
