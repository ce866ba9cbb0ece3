"""Where `analyzer score` writes: a temporary file renamed into place, or an append for --resume.

A run never destroys data: it writes to a hidden temporary file beside the target and renames
it over the target only when it ends (so a failed run leaves the old file as it was, and two
runs on one target leave one complete file: the last to finish). A stopped run (Ctrl-C,
SIGTERM) renames what it has, whole documents only, so that `--resume` can continue it: the
resumed run appends under an exclusive lock. A target that exists and is not a regular file
(/dev/null, a terminal, a pipe) is written directly.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


class OutputError(ValueError):
    """The output target cannot be used; the message is one line and says what to do."""


def check_target(path: Path, option: str = "--output") -> None:
    """Refuse, before any work, a target that is a folder or lies in a folder that does not exist
    (the message names the `option` that gave it)."""
    if path.is_dir():
        raise OutputError(f"{option} {path} is a folder; give a file name")
    if path.parent.exists() and not path.parent.is_dir():
        raise OutputError(f"{option} {path}: {path.parent} is a file, not a folder")
    if not path.parent.is_dir():
        raise OutputError(f"{option} {path}: the folder {path.parent} does not exist")


@dataclass
class Completed:
    """What an earlier, stopped run left in the target: its documents' ids in order, where each
    document's lines start, and the last document's lines (at paragraph and sentence level a run
    killed mid-document leaves them short, and a run with other options leaves other records:
    `analyzer.cli` checks both)."""

    doc_ids: list[str]
    size: int  # bytes of whole lines
    starts: list[int] = field(default_factory=list)  # byte offset of each document's first line
    last: list[str] = field(default_factory=list)  # the last document's lines (resume checks them against these options)


def completed_documents(path: Path, level: str) -> Completed:
    """The documents a JSONL output already holds: one per line at document level; one per run of lines
    with the same doc_id at paragraph and sentence level. A last line without its newline is not counted."""
    if not path.exists():
        return Completed([], 0)
    data = path.read_bytes()
    size = data.rfind(b"\n") + 1
    completed = Completed([], size)
    offset = 0
    for number, line in enumerate(data[:size].splitlines(keepends=True), start=1):
        try:
            doc_id = str(json.loads(line)["doc_id"])
        except (ValueError, KeyError, TypeError):
            raise OutputError(f"--resume: line {number} of {path} is not an analyzer JSONL record; not resuming") from None
        if level == "document" or not completed.doc_ids or completed.doc_ids[-1] != doc_id:
            completed.doc_ids.append(doc_id)
            completed.starts.append(offset)
        offset += len(line)
    if completed.starts:
        completed.last = data[completed.starts[-1]:size].decode("utf-8", "replace").splitlines()
    return completed


class Output:
    """The stream to write to; `commit()` puts it in place, `abandon()` drops a failed run's file."""

    def __init__(self, path: Path | None, resume_from: int | None = None):
        """`resume_from`: append after this many bytes of the existing file (--resume). A link is
        followed: its target is written (and renamed into place beside it), the link stays."""
        if path is not None and path.is_symlink():
            path = Path(os.path.realpath(path))
        self.path = path
        self._temporary: str | None = None
        if path is None:
            self.stream: TextIO = _stdout()
        elif path.exists() and not path.is_file():
            self.stream = open(path, "w", encoding="utf-8")
        elif resume_from is not None:
            self.stream = open(path, "a+", encoding="utf-8")
            try:
                fcntl.flock(self.stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.stream.close()
                raise OutputError(f"--output {path} is being written by another run; wait for it to end") from None
            self.stream.truncate(resume_from)  # a last line cut off mid-way is written again
            self.stream.seek(resume_from)
        else:
            try:
                handle, self._temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
            except OSError as error:
                raise OutputError(f"cannot write --output {path}: {error.strerror or error}") from None
            os.chmod(self._temporary, _mode_for(path))  # mkstemp makes it 0600: give the mode the target would get
            self.stream = os.fdopen(handle, "w", encoding="utf-8")

    def cut(self, size: int) -> None:
        """--resume: drop what the file holds past `size` bytes (a document found incomplete)."""
        self.stream.truncate(size)
        self.stream.seek(size)

    def commit(self) -> None:
        """Close and put the file in place (also after a stop: what it holds are whole documents)."""
        if self.path is None:
            self.stream.flush()
            return
        self.stream.close()
        if self._temporary:
            os.replace(self._temporary, self.path)
            self._temporary = None

    def abandon(self) -> None:
        """A run that failed leaves the target as it was."""
        if self.path is None:
            return
        try:
            self.stream.close()
        except OSError:
            pass
        if self._temporary:
            os.unlink(self._temporary)
            self._temporary = None


def _mode_for(path: Path) -> int:
    """The permission bits of the file a plain `open(path, "w")` would leave: the existing file's, else 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _stdout() -> TextIO:
    import sys

    if sys.stdout is None:
        raise OutputError("standard output is closed; give --output FILE")
    return sys.stdout
