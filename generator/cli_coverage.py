"""`factsheet coverage`: which sentences of each article no citation covers.

Exit codes: 0 when every source reaches ``--min-share`` (by default 0, report only),
1 when one falls below it; 2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys

from .check import check_project
from .cli import project_root
from .coverage import format_coverage, measure_coverage


def _percent(raw: str) -> float:
    """A share in percent from 0 to 100, as ``--min-share`` takes it."""
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{raw} is not a percentage from 0 to 100")
    return value


def add_commands(commands) -> None:
    """Register the ``coverage`` sub-command on the CLI's subparsers."""
    coverage = commands.add_parser(
        "coverage", help="report the sentences and quotations of each article that no "
                         "citation covers")
    coverage.add_argument("--min-share", type=_percent, default=0.0, metavar="PERCENT",
                          help="fail when a source's covered share is below PERCENT "
                               "(default 0: report only)")
    coverage.set_defaults(run=cmd_coverage)


def cmd_coverage(args: argparse.Namespace) -> int:
    """Print each source's covered share and uncovered passages; fail below --min-share."""
    result = check_project(project_root(args.root))
    coverage = measure_coverage(result)
    print(format_coverage(coverage), flush=True)
    if result.errors:
        print(f"factsheet coverage: the facts have {len(result.errors)} error"
              f"{'s' if len(result.errors) != 1 else ''}; a quote that does not verify "
              "covers nothing (run 'factsheet check')", file=sys.stderr)
    below = coverage.below(args.min_share / 100)
    for source in below:
        print(f"factsheet coverage: {source.source} is {source.share * 100:.1f}% covered, "
              f"below --min-share {args.min_share:g}%", file=sys.stderr)
    return 1 if below else 0
