"""Input reading: paths and standard input -> a stream of Documents and ErrorRecords (GUIDE §3).

Accepted inputs: `.txt`/`.md` files (one document each), `.html`/`.htm` files (their article
text), `.jsonl` files (`{"id": ..., "text": ...}` per line, each line one document), folders
(walked recursively in sorted order, taking those suffixes) and `-` for standard input. A file
named explicitly is read as text whatever its suffix; only folder walking filters by suffix.
Bytes become text in `analyzer.decoding` (UTF-8, a BOM's encoding or a detected legacy one;
an HTML page's article text).

A bad input never stops the batch: it becomes an ErrorRecord with a one-line reason, so that
records out = documents in. Only a path that does not exist is a usage error, raised before
anything is read. What is never read: anything but a regular file (a FIFO, a device, a socket,
or a link to one: named directly it gets an error record, found in a folder it is skipped with a
note, and it is never opened, since opening a FIFO waits for a writer), a file that is an
excluded path (the output being written), and more than `MAX_DOCUMENT_BYTES` (20 MiB) for one
document: a larger file, JSONL line or standard input is an error record, read in bounded pieces.

Reading is two steps, so that the costly one runs in worker processes: `read_sources` (the main
process) checks the paths, walks folders, splits JSONL files into lines and reads standard
input, all as raw bytes, yielding one `Source` (or an ErrorRecord) per future record; `load`
(a worker) turns one Source into its Document or ErrorRecord: it reads a file, decodes bytes,
parses a JSONL line's JSON and an HTML page. `read_inputs` is the two together.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Self, TextIO

from analyzer.decoding import NotText, bom_encoding, check_text, decode, html_to_text
from analyzer.records import Document, ErrorRecord

STDIN = "-"
TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl",)
FOLDER_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
_BLOCK = 1024 * 1024  # the bytes read at a time to count lines
_SKIP = 64 * 1024  # the bytes read at a time to skip the rest of an over-long line
_BUFFER = 64 * 1024  # a file's read buffer: with the default 8 KiB a JSONL line's readline cost 2.5 times as much

_FILE_KINDS = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
               (stat.S_ISSOCK, "socket"))

Record = Document | ErrorRecord
Notes = Callable[[str], None]

# Source kinds
FILE = "file"  # a text file, read as one document
HTML = "html"  # an HTML page: its article text is the document
JSONL_LINE = "jsonl-line"  # one non-blank line of a JSONL file
STDIN_KIND = "stdin"  # standard input, read as one document


class InputPathError(ValueError):
    """An input path does not exist: the CLI reports it as a usage error (exit status 2); raised
    before any reading. Not a click class: this module serves the library and the Ray engine too."""


class _BadInput(ValueError):
    """Why one input cannot become a document; the message goes into its ErrorRecord."""


@dataclass
class _Overlong:
    """A JSONL line longer than the limit, skipped: only its size is kept."""

    size: int


@dataclass(frozen=True, slots=True)
class Source:
    """One future record, found but not yet decoded: what the main process hands a worker to `load`.

    `kind` is FILE, HTML, JSONL_LINE or STDIN_KIND; `name` is the path (a JSONL line's file) or "-";
    `lineno` is a JSONL line's number, from 1. `data` holds the raw bytes of a JSONL line or of
    standard input, at most `max_bytes` of them (a longer one is an ErrorRecord instead of a
    Source); it is None for a file, which `load` reads itself, with `max_bytes` as its limit (or the file's bytes, read elsewhere: `sources_in`). It is
    a str where the text came as a string: standard input given as a text stream, or a line of a
    UTF-16 or UTF-32 JSONL file (whose lines cannot be found without decoding it as a stream);
    `encoding` names the codec such a string was decoded with.
    """

    kind: str
    name: str
    lineno: int | None = None
    data: bytes | str | None = None
    encoding: str = "utf-8"
    max_bytes: int = MAX_DOCUMENT_BYTES


def read_sources(paths: Sequence[str], stdin: TextIO | BinaryIO | None = None, *, max_bytes: int = MAX_DOCUMENT_BYTES,
                 exclude: Sequence[str | os.PathLike[str]] = (), notes: Notes | None = None) -> Iterator[Source | ErrorRecord]:
    """A Source for each future record of the inputs, in order, or the ErrorRecord of one that
    cannot be a document whatever its bytes (a folder that cannot be listed, a JSONL file that
    cannot be opened, a JSONL line or standard input over the limit, ...).

    This is the main process's part: it reads raw bytes and never decodes, parses JSON or HTML
    (`load` does). The paths are all checked here, eagerly, so that a mistyped path fails before
    any output; the returned iterator reads one line at a time, so that a batch of any size
    streams. Files in folders that are the same file as an `exclude` path are skipped; `notes`
    gets one line for each thing a folder walk skips.
    """
    missing = [path for path in paths if path != STDIN and not os.path.exists(path)]
    if missing:
        raise InputPathError(f"no such file or directory: {', '.join(missing)}")
    walk = _Walk(max_bytes, list(exclude), notes or (lambda note: None))
    return walk.sources(paths, sys.stdin if stdin is None else stdin)


def load(item: Source | Record) -> Record:
    """The Document or ErrorRecord a Source becomes (the worker processes' part): a file is read
    here (refused unopened if it is no longer a regular file, and within its size limit), bytes
    are decoded, a JSONL line's JSON and an HTML page parsed. A Document built by a caller (the
    Python API) is held to the rules a read one meets; error records pass through unchanged."""
    if isinstance(item, Document):
        return _checked(item)
    if not isinstance(item, Source):
        return item
    if item.kind == JSONL_LINE:
        return _jsonl_record(item)
    try:
        if item.kind == STDIN_KIND:
            if isinstance(item.data, str):
                return _document(item.name, item.data.removeprefix("\ufeff"), item.encoding)
            return _document(item.name, *decode(item.data or b""))
        return _file_record(item)
    except OSError as error:
        return _cannot_read(item.name, error)
    except (_BadInput, NotText) as error:
        return ErrorRecord(item.name, str(error))


def read_inputs(paths: Sequence[str], stdin: TextIO | BinaryIO | None = None, *, max_bytes: int = MAX_DOCUMENT_BYTES,
                exclude: Sequence[str | os.PathLike[str]] = (), notes: Notes | None = None) -> Iterator[Record]:
    """Documents and error records for the inputs, in order, one record per document: `load`
    over `read_sources` in this process (raises InputPathError at the call, as it does)."""
    return map(load, read_sources(paths, stdin, max_bytes=max_bytes, exclude=exclude, notes=notes))


def count_documents(paths: Sequence[str], exclude: Sequence[str | os.PathLike[str]] = ()) -> int | None:
    """How many items `read_sources` (and so `read_inputs`) will yield, for a progress bar; None
    with standard input.

    Nothing is decoded: a JSONL file's non-blank lines are counted in 1 MB blocks of bytes.
    The count is exact unless a file changes meanwhile or a JSONL file breaks off in the middle
    (a read error, or invalid UTF-16 in a UTF-16 file: the rest of it is one error record).
    """
    if STDIN in paths:
        return None
    walk = _Walk(MAX_DOCUMENT_BYTES, list(exclude), lambda note: None)
    total = 0
    for path in paths:
        if os.path.isdir(path):
            total += sum(1 if isinstance(item, ErrorRecord) else walk.count_file(item) for item in walk.folder(path))
        else:
            total += walk.count_file(path)
    return total


def sources_in(name: str, data: bytes, max_bytes: int = MAX_DOCUMENT_BYTES) -> Iterator[Source | ErrorRecord]:
    """The Sources of one file whose bytes were read elsewhere (Ray's readers, object storage):
    the same items `read_sources` gives for a file at `name` with these bytes."""
    walk = _Walk(max_bytes, [], lambda note: None)
    if name.lower().endswith(JSONL_SUFFIXES):
        yield from walk.jsonl(name, io.BytesIO(data))
    else:
        yield Source(HTML if name.lower().endswith(HTML_SUFFIXES) else FILE, name, data=data, max_bytes=max_bytes)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Are `a` and `b` one file (the same device and inode)? Where one does not exist yet, the same path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


# --- read_sources: the main process ------------------------------------------------------------

@dataclass
class _Walk:
    """One `read_sources` (or `count_documents`) call: its size limit, what it never reads, its notes."""

    max_bytes: int
    exclude: list[str | os.PathLike[str]]
    notes: Notes

    def sources(self, paths: Sequence[str], stdin: TextIO | BinaryIO | None) -> Iterator[Source | ErrorRecord]:
        for path in paths:
            if path == STDIN:
                yield self.stdin(stdin)
            elif os.path.isdir(path):
                for item in self.folder(path):
                    if isinstance(item, ErrorRecord):
                        yield item
                    else:
                        yield from self.file(item)
            else:
                yield from self.file(path)

    def stdin(self, stream: TextIO | BinaryIO | None) -> Source | ErrorRecord:
        """Standard input, read as bytes where the stream allows (at most the limit and one more)."""
        try:
            if stream is None:  # Python's stdin when file descriptor 0 was closed
                raise ValueError
            data = getattr(stream, "buffer", stream).read(self.max_bytes + 1)
        except ValueError:  # reading a closed stream
            return ErrorRecord(STDIN, "cannot read standard input: it is closed")
        except OSError as error:
            return ErrorRecord(STDIN, f"cannot read standard input: {error.strerror or error}")
        if len(data) > self.max_bytes:
            return ErrorRecord(STDIN, _too_large(f"more than {self.max_bytes:,}", self.max_bytes))
        return Source(STDIN_KIND, STDIN, data=data, max_bytes=self.max_bytes)

    def folder(self, folder: str) -> Iterator[str | ErrorRecord]:
        """The folder's regular files with a known suffix, recursively in sorted order, hidden ones
        left out, others skipped with a note. A subfolder that cannot be listed gets an error
        record rather than vanishing from the batch."""
        unreadable: list[OSError] = []
        found: list[str] = []
        for root, folders, files in os.walk(folder, onerror=unreadable.append):
            folders[:] = [name for name in folders if not name.startswith(".")]
            found += [os.path.join(root, name) for name in files if _walked(name)]
        for path in sorted(found, key=lambda path: Path(os.path.relpath(path, folder)).parts):
            skipped = self.skipped(path)
            if skipped:
                self.notes(f"skipped {path}: {skipped}")
            else:
                yield path
        for error in unreadable:
            yield _cannot_read(str(error.filename), error, "folder")

    def skipped(self, path: str) -> str | None:
        """Why a file found in a folder is not read (one that cannot be stat'ed is read, to fail)."""
        try:
            kind = _special_kind(os.stat(path))
        except OSError:
            return None
        if kind:
            return f"not a regular file ({kind})"
        if any(same_file(path, excluded) for excluded in self.exclude):
            return "it is the output file"
        return None

    def file(self, path: str) -> Iterator[Source | ErrorRecord]:
        """A JSONL file's lines, or one file that `load` reads (and refuses if it is not a regular file)."""
        lowered = path.lower()
        if lowered.endswith(JSONL_SUFFIXES):
            yield from self.jsonl(path)
        else:
            yield Source(HTML if lowered.endswith(HTML_SUFFIXES) else FILE, path, max_bytes=self.max_bytes)

    def jsonl(self, path: str, handle: BinaryIO | None = None) -> Iterator[Source | ErrorRecord]:
        """One Source per non-blank line, read line by line so that a file of any size streams."""
        count = lineno = 0
        try:
            with _JsonlLines(path, self.max_bytes, handle) as lines:
                encoding = lines.encoding
                for lineno, line in lines:
                    if isinstance(line, _Overlong):
                        count += 1
                        yield ErrorRecord(f"{path}:{lineno}", f"{_too_large(f'{line.size:,}', self.max_bytes)} on line {lineno}")
                    elif not line.isspace():  # a line is never empty: `not strip()` without the copy
                        count += 1
                        yield Source(JSONL_LINE, path, lineno, line, encoding, self.max_bytes)
        except _BadInput as error:
            count += 1
            yield ErrorRecord(path, str(error))
        except OSError as error:
            count += 1
            yield _cannot_read(path, error) if lineno == 0 else ErrorRecord(
                path, f"cannot read past line {lineno}: {error.strerror or error}")
        except UnicodeDecodeError as error:  # UTF-16 lines are decoded as they are read
            count += 1
            yield ErrorRecord(path, f"cannot decode past line {lineno} ({error.reason}); the rest of the file is unread")
        if count == 0:
            yield ErrorRecord(path, "no documents in JSONL file")

    def count_file(self, path: str) -> int:
        """The items `file(path)` yields: 1, or a JSONL file's non-blank lines (at least 1)."""
        if not path.lower().endswith(JSONL_SUFFIXES):
            return 1
        try:
            with _JsonlLines(path, self.max_bytes) as lines:
                if lines.encoding == "utf-8":
                    return max(_count_lines(lines.handle), 1)
                return max(sum(1 for _, line in lines if isinstance(line, _Overlong) or not line.isspace()), 1)
        except (_BadInput, OSError, UnicodeDecodeError):
            return 1


class _JsonlLines:
    """A JSONL file's lines: bytes for UTF-8, strings for UTF-16 or UTF-32 (a BOM decides).

    Lines are read with `readline(limit + 1)`, so that an over-long line is never held whole:
    the rest of it is skipped in bounded pieces and only its size is kept.
    """

    def __init__(self, path: str, max_bytes: int, handle: BinaryIO | None = None) -> None:
        """`handle`: the file's bytes already open (e.g. read from object storage); else `path` is opened."""
        self.path = path
        self.max_bytes = max_bytes
        self._given = handle

    def __enter__(self) -> Self:
        self.handle: BinaryIO | TextIO = self._given or _open_regular(self.path)
        try:
            self.encoding = bom_encoding(self.handle.read(4)) or "utf-8"
            self.handle.seek(0)
        except BaseException:
            self.handle.close()
            raise
        self.end: bytes | str = b"\n"
        self.char_bytes = 1
        if self.encoding != "utf-8":  # decoded as a stream: the limit counts 2 (or 4) bytes a character
            self.handle = io.TextIOWrapper(self.handle, encoding=self.encoding, errors="surrogatepass", newline="\n")
            self.end, self.char_bytes = "\n", 4 if self.encoding == "utf-32" else 2
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def __iter__(self) -> Iterator[tuple[int, bytes | str | _Overlong]]:
        limit = self.max_bytes // self.char_bytes
        lineno = 0
        while line := self.handle.readline(limit + 1):
            lineno += 1
            if len(line) > limit and not line.endswith(self.end):
                yield lineno, _Overlong(self.char_bytes * (len(line) + self._skip_rest()))
            else:
                yield lineno, line

    def _skip_rest(self) -> int:
        """Reads past the rest of an over-long line in bounded pieces: how long that rest was."""
        skipped = 0
        while piece := self.handle.readline(_SKIP):
            if piece.endswith(self.end):
                return skipped + len(piece) - 1
            skipped += len(piece)
        return skipped


def _count_lines(handle: BinaryIO) -> int:
    """Non-blank lines (as `bytes.strip` sees them), counted in 1 MB blocks."""
    count, pending = 0, False  # pending: the line the last block ended in has a non-blank byte
    while block := handle.read(_BLOCK):
        *complete, last = block.split(b"\n")
        for piece in complete:
            count += pending or bool(piece.strip())
            pending = False
        pending = pending or bool(last.strip())
    return count + pending


def _walked(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(FOLDER_SUFFIXES)


def _special_kind(status: os.stat_result) -> str | None:
    """What a file that is not a regular file or a folder is ("FIFO", "socket", ...); None otherwise."""
    if stat.S_ISREG(status.st_mode) or stat.S_ISDIR(status.st_mode):
        return None
    return next((kind for test, kind in _FILE_KINDS if test(status.st_mode)), "special file")


def _open_regular(path: str) -> BinaryIO:
    """`path` opened for reading if it is a regular file; anything else is refused unopened.

    The open does not block, and what it opened is checked again, in case a FIFO took its place.
    """
    kind = _special_kind(os.stat(path))
    if kind:
        raise _BadInput(f"not a regular file ({kind})")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        kind = _special_kind(os.fstat(fd))
        if kind:
            raise _BadInput(f"not a regular file ({kind})")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return open(fd, "rb", buffering=_BUFFER)


def _too_large(size: str, limit: int) -> str:
    return f"too large: {size} bytes (the limit is {limit:,} bytes)"


def _cannot_read(path: str, error: OSError, what: str = "file") -> ErrorRecord:
    return ErrorRecord(path, f"cannot read {what}: {error.strerror or error}")


# --- load: the worker processes ---------------------------------------------------------------

def _file_record(source: Source) -> Record:
    """A text file (or an HTML page's text) as one document, read within its size limit."""
    limit = source.max_bytes
    if isinstance(source.data, bytes):  # read elsewhere (see sources_in)
        data = source.data
    else:
        with _open_regular(source.name) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise _BadInput(_too_large(f"{size:,}", limit))
            data = handle.read(limit + 1)  # the size a file reports can be wrong
    if len(data) > limit:
        raise _BadInput(_too_large(f"more than {limit:,}", limit))
    text, encoding = decode(data)
    return _document(source.name, html_to_text(text) if source.kind == HTML else text, encoding)


def _jsonl_record(source: Source) -> Record:
    """One JSONL line as a document; the error record is named by the id when it can be read."""
    path, lineno, line = source.name, source.lineno, source.data or b""
    doc_id = f"{path}:{lineno}"
    try:
        text, encoding = decode(line.strip()) if isinstance(line, bytes) else (line.strip(), source.encoding)
        record = json.loads(text)
    except NotText as error:
        return ErrorRecord(doc_id, f"{error} on line {lineno}")
    except json.JSONDecodeError as error:
        return ErrorRecord(doc_id, f"malformed JSON on line {lineno}: {error.msg} (column {error.colno})")
    except RecursionError:
        return ErrorRecord(doc_id, f"malformed JSON on line {lineno}: nested too deeply")
    if not isinstance(record, dict):
        return ErrorRecord(doc_id, f"line {lineno} is not a JSON object")
    try:
        if record.get("id") is not None:
            doc_id = check_text(_id_text(record["id"]))
    except NotText as error:
        return ErrorRecord(doc_id, f"'id' is {error} on line {lineno}")
    except RecursionError:
        return ErrorRecord(doc_id, f"'id' is nested too deeply on line {lineno}")
    # named by its own id from here on, the record says which file the line is in
    where = f"line {lineno}" if doc_id == f"{path}:{lineno}" else f"line {lineno} of {path}"
    if "text" not in record:
        return ErrorRecord(doc_id, f"missing 'text' field on {where}")
    if not isinstance(record["text"], str):
        return ErrorRecord(doc_id, f"'text' is not a string on {where}")
    try:
        return _document(doc_id, record["text"], encoding)
    except (_BadInput, NotText) as error:
        return ErrorRecord(doc_id, f"{error} on {where}")


def _id_text(value: object) -> str:
    """A JSONL id as text: a string as it is, anything else as JSON writes it (true, {"a": 1}),
    not as Python would (True, {'a': 1})."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _checked(document: Document) -> Record:
    """The document, or why it cannot be scored (a lone surrogate would stop the tokenizer, and
    with it the whole batch)."""
    doc_id = str(document.doc_id)
    try:
        check_text(doc_id)
    except NotText as error:
        return ErrorRecord(doc_id.encode("utf-8", "backslashreplace").decode("utf-8"), f"the id is {error}")
    if not isinstance(document.text, str):
        return ErrorRecord(doc_id, f"the text is a {type(document.text).__name__}, not a str")
    try:
        _document(doc_id, document.text, document.encoding)
    except (_BadInput, NotText) as error:
        return ErrorRecord(doc_id, str(error))
    return document


def _document(doc_id: str, text: str, encoding: str = "utf-8") -> Document:
    if not text.strip():
        raise _BadInput("empty document")
    return Document(doc_id, check_text(text), encoding)
