"""The `factsheet` command line: thin wrappers that call the library and set exit codes.

Exit codes: 0 clean, 1 problems found (errors, or warnings under ``--strict``),
2 usage errors (a bad option, a folder that is not a fact-sheet project).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from pathlib import Path

from . import __version__
from .check import check_facts
from .errors import BuildError, FactsheetError, ProjectError, UsageError
from .report import FORMATS, format_problems, summary


# Modules that add their own sub-commands: each has ``add_commands(subparsers)`` and
# command functions ``cmd_NAME(args) -> int`` that call the library.
COMMAND_MODULES: tuple[str, ...] = ("cli_coverage", "cli_authoring", "cli_linkcheck")


def project_root(path: str) -> Path:
    """The fact-sheet project at ``path``; a folder without `facts/` is a usage error."""
    root = Path(path).resolve()
    if not (root / "facts").is_dir():
        raise ProjectError(f"{root} has no facts/ folder; run factsheet from a fact-sheet "
                           "project or pass --root")
    return root


def cmd_check(args: argparse.Namespace) -> int:
    """Check the facts and their citations; print every problem."""
    started = time.perf_counter()
    result = check_facts(project_root(args.root))
    report = format_problems(result.problems, args.format)
    if report:
        print(report, flush=True)
    if args.format == "text":
        counted = ", ".join(f"{n} {kind}" for kind, n in result.counts.items())
        print(f"factsheet check: {summary(result.problems)} ({counted}; "
              f"{time.perf_counter() - started:.2f} s)", file=sys.stderr)
    return 1 if result.failed(args.strict) else 0


def cmd_build(args: argparse.Namespace) -> int:
    """Check, render, build with MkDocs (strict), run the post-build checks, publish."""
    # imported here: MkDocs and the HTML checks cost 0.3 s that `check` need not pay
    from .build import build_site
    from .linkcheck import check_built_site

    started = time.perf_counter()
    root = project_root(args.root)
    config = Path(args.config).resolve() if args.config else None
    site_dir = Path(args.site_dir).resolve() if args.site_dir else None
    try:
        report = build_site(root, config, site_dir, strict=args.strict,
                            post_checks=(check_built_site,))
    except BuildError as exc:
        if exc.problems:  # MkDocs' warnings or the post-build checks, at their fact files
            print(format_problems(exc.problems, args.format), flush=True)
        raise
    if report.site_dir is None:
        print(format_problems(report.result.problems, args.format), flush=True)
        print(f"factsheet build: not built; the check found {summary(report.result.problems)}",
              file=sys.stderr)
        return 1
    if report.result.problems or report.problems:
        print(format_problems(report.result.problems + report.problems, args.format), flush=True)
    print(f"factsheet build: {report.pages} pages written to {report.site_dir} "
          f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Preview the site locally; rebuilds when facts, corpus or templates change."""
    from mkdocs.commands.serve import serve

    # MkDocs reports "Serving on ...", each rebuild and any failed check through logging
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    mkdocs_log = logging.getLogger("mkdocs")
    mkdocs_log.addHandler(handler)
    mkdocs_log.setLevel(logging.INFO)
    root = project_root(args.root)
    config = Path(args.config).resolve() if args.config else root / "mkdocs.yml"
    serve(config_file=str(config), dev_addr=args.dev_addr, livereload=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per task."""
    parser = argparse.ArgumentParser(prog="factsheet", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"factsheet {__version__}")
    parser.add_argument("--root", default=".", help="the project folder (default: .)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="check facts and verify every citation")
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.set_defaults(run=cmd_check)

    build = commands.add_parser("build", help="check, render and build the site into site/")
    build.add_argument("--config", help="the MkDocs configuration (default: ROOT/mkdocs.yml)")
    build.add_argument("--site-dir", help="where to write the site (default: from mkdocs.yml)")
    build.add_argument("--strict", action="store_true", help="fail on check warnings too")
    build.add_argument("--format", choices=FORMATS, default="text")
    build.set_defaults(run=cmd_build)

    serve = commands.add_parser("serve", help="preview the site, rebuilding on every change")
    serve.add_argument("--config", help="the MkDocs configuration (default: ROOT/mkdocs.yml)")
    serve.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on")
    serve.set_defaults(run=cmd_serve)
    for module in COMMAND_MODULES:
        importlib.import_module(f"generator.{module}").add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code instead of exiting."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return args.run(args)
    except (ProjectError, UsageError) as exc:
        print(f"factsheet: error: {exc}", file=sys.stderr)
        return 2
    except FactsheetError as exc:
        print(f"factsheet: error: {exc}", file=sys.stderr)
        return 1


def run() -> None:
    """The ``factsheet`` command: :func:`main`, then exit at once.

    A large build leaves millions of objects that the interpreter would free one by one
    on the way out (1.5 s at 5,000 incidents); the work is done and written, so the
    process ends without that, as mypy's does.
    """
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
