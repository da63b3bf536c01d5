"""`factsheet linkcheck`: check a built site's links and citations, and with ``--online``
the source URLs.

Exit codes: 0 clean, 1 problems (warnings too with ``--strict``), 2 usage errors (no
built site at ``--site-dir``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .check import check_project
from .cli import project_root
from .errors import UsageError
from .report import FORMATS, format_problems, summary


def _positive(raw: str) -> float:
    """A number above zero, as --timeout and --rate take it."""
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{raw} is not above zero")
    return value


def add_commands(commands) -> None:
    """Register the ``linkcheck`` sub-command on the CLI's subparsers."""
    linkcheck = commands.add_parser(
        "linkcheck", help="check the built site's links, anchors, footnotes and citations; "
                          "with --online, the source URLs too")
    linkcheck.add_argument("--site-dir", help="the built site (default: ROOT/site)")
    linkcheck.add_argument("--online", action="store_true",
                           help="also request each source's url and archive_url")
    linkcheck.add_argument("--timeout", type=_positive, default=10.0, metavar="SECONDS",
                           help="online: how long to wait for a server (default 10)")
    linkcheck.add_argument("--retries", type=int, default=2, choices=range(0, 6),
                           metavar="N", help="online: tries after the first (default 2)")
    linkcheck.add_argument("--rate", type=_positive, default=2.0, metavar="PER_SECOND",
                           help="online: at most this many requests a second (default 2)")
    linkcheck.add_argument("--strict", action="store_true", help="fail on warnings too")
    linkcheck.add_argument("--format", choices=FORMATS, default="text")
    linkcheck.set_defaults(run=cmd_linkcheck)


def cmd_linkcheck(args: argparse.Namespace) -> int:
    """Check the built site (and the source URLs with --online); print every problem."""
    from .linkcheck import check_site, scan_site, site_records  # lxml: only when used

    started = time.perf_counter()
    root = project_root(args.root)
    site_dir = Path(args.site_dir).resolve() if args.site_dir else root / "site"
    if not (site_dir / "index.html").is_file():
        raise UsageError(f"{site_dir} holds no built site (no index.html); run "
                         "'factsheet build' first or pass --site-dir")
    # the facts are read only to name the fact file of each page: while workers scan
    files, scans, result = scan_site(site_dir, meanwhile=lambda: check_project(root))
    problems = check_site(site_dir, lambda: site_records(result.records), scans, files)
    checked = f"{len(scans)} pages"
    if args.online:
        from .urlcheck import UrlChecker, check_source_urls

        checker = UrlChecker(timeout=args.timeout, retries=args.retries, rate=args.rate)
        url_problems, urls = check_source_urls(root, result.records, checker)
        problems += url_problems
        checked += f", {urls} URLs"
    report = format_problems(problems, args.format)
    if report:
        print(report, flush=True)
    print(f"factsheet linkcheck: {summary(problems)} ({checked}; "
          f"{time.perf_counter() - started:.2f} s)", file=sys.stderr)
    failed = any(p.severity == "error" for p in problems) or (args.strict and problems)
    return 1 if failed else 0
