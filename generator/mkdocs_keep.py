"""A preview writes each page over its copy from the last rebuild, not into an emptied folder.

Before every build MkDocs empties the site folder, then writes each page into a folder
of its own.  At 5,000 incidents a preview rebuild so deleted 7,000 folders and files and
made them all again: several seconds on a disk that discards freed blocks, against half
a second to write the same files over their old selves.  A preview's build therefore
sets the last build's files aside in a hidden folder (MkDocs leaves hidden entries alone
when it empties the site folder), puts them back before anything is written, and at the
end removes every file the build did not write again.  The folder then holds exactly
what a clean build leaves in it.

A file put back is marked as not yet written by setting its modification time to zero;
writing it again gives it the current time.  While the build runs, MkDocs' ``write_file``
(pages, the theme's pages, the search index) leaves a file put back as it is when the new
bytes are the same, and only marks it as written: most pages of a rebuild are unchanged.
A page whose themed HTML the preview's cache holds from the last build, which wrote it
there, is only marked as written (:meth:`KeptFiles.confirm`), without being read at all.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from mkdocs import utils

STASH = ".factsheet-last-build"


class KeptFiles:
    """The last build's files in one site folder, from a build's start to its end."""

    def __init__(self) -> None:
        self.site: Path | None = None  # set from set_aside to remove_unwritten
        self._write_file = None  # MkDocs' own, while this build writes in its place
        self.unchanged = 0  # files the last build found unchanged (for the tests)

    def set_aside(self, site_dir: str) -> None:
        """Before MkDocs empties the site folder: move what it holds out of its way."""
        self.site = None
        site = Path(site_dir)
        if not site.is_dir():
            return
        stash = site / STASH
        entries = [name for name in os.listdir(site) if not name.startswith(".")]
        if entries:
            if stash.exists():  # left by a build that failed: older than these
                shutil.rmtree(stash)
            stash.mkdir()
            for name in entries:
                os.rename(site / name, stash / name)
        if stash.is_dir():
            self.site = site

    def put_back(self, written: Iterable[str]) -> int:
        """Once MkDocs has emptied the folder: put the files back, marked as not written.

        ``written`` are the paths (relative, with '/') of the files the build will write;
        a file put back where the build needs a folder, or a folder where it needs a
        file, is removed.  Returns how many files were put back.
        """
        site, self.site = self.site, None
        if site is None:
            return 0
        stash = site / STASH
        for name in os.listdir(stash):
            if not os.path.lexists(site / name):  # else written already this build
                os.rename(stash / name, site / name)
        shutil.rmtree(stash, ignore_errors=True)  # what was not put back
        files = set(written)
        folders = set()  # every folder a written file is in
        for path in files:
            slash = path.find("/")
            while slash != -1:
                folders.add(path[:slash])
                slash = path.find("/", slash + 1)
        kept = 0
        pending = [(str(site), "")]
        while pending:
            folder, prefix = pending.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not prefix and entry.name.startswith("."):
                        continue  # MkDocs' cleaning leaves these alone, and so does this
                    path = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if path in files:
                            shutil.rmtree(entry.path)
                        else:
                            pending.append((entry.path, path + "/"))
                    elif path in folders:
                        os.unlink(entry.path)
                    else:
                        os.utime(entry.path, ns=(0, 0), follow_symlinks=False)
                        kept += 1
        self.site = site
        return kept

    def write_unchanged_in_place(self) -> None:
        """From now to the end of the build, files MkDocs writes with the bytes they
        already have are not written again (see the module's docstring)."""
        if self.site is None or self._write_file is not None:
            return
        write_file = self._write_file = utils.write_file

        def write_if_changed(content: bytes, output_path: str) -> None:
            """MkDocs' ``write_file``, except that a file put back (modification time
            zero) that holds exactly ``content`` is only marked as written."""
            try:
                stat = os.stat(output_path)
                if stat.st_mtime_ns == 0 and stat.st_size == len(content):
                    with open(output_path, "rb") as file:
                        if file.read() == content:
                            os.utime(output_path)
                            self.unchanged += 1
                            return
            except OSError:
                pass
            write_file(content, output_path)

        self.unchanged = 0
        utils.write_file = write_if_changed

    def confirm(self, output_path: str, size: int) -> bool:
        """Mark a file put back as written without reading it, for a caller that knows
        the last build wrote there the bytes this one would write (of ``size`` bytes).
        False, and nothing done, unless the file was put back and has that size."""
        if self._write_file is None:  # not writing in place: nothing was put back
            return False
        try:
            stat = os.stat(output_path)
        except OSError:
            return False
        if stat.st_mtime_ns != 0 or stat.st_size != size:
            return False
        os.utime(output_path)
        self.unchanged += 1
        return True

    def remove_unwritten(self) -> int:
        """At the end of the build: remove each file put back and not written again, and
        the folders that leaves empty.  Returns how many files were removed."""
        self._restore_write_file()
        site, self.site = self.site, None
        if site is None:
            return 0
        return _remove_unwritten(str(site), top=True)

    def discard(self) -> None:
        """A build failed: nothing is put back; the next build starts from what is there."""
        self._restore_write_file()
        self.site = None

    def _restore_write_file(self) -> None:
        if self._write_file is not None:
            utils.write_file, self._write_file = self._write_file, None


def _remove_unwritten(folder: str, top: bool = False) -> int:
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if top and entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                inside = _remove_unwritten(entry.path)
                if inside and not os.listdir(entry.path):
                    os.rmdir(entry.path)  # it held only what the build did not write
                removed += inside
            elif entry.stat(follow_symlinks=False).st_mtime_ns == 0:
                os.unlink(entry.path)
                removed += 1
    return removed
