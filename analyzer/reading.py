"""Input reading: paths and standard input -> a stream of Documents and ErrorRecords (GUIDE §3).

Accepted inputs: `.txt`/`.md` files (one document each), `.html`/`.htm` files (their article
text), `.jsonl` files (`{"id": ..., "text": ...}` per line, each line one document), folders
(walked recursively in sorted order, taking those suffixes) and `-` for standard input. A file
named explicitly is read as text whatever its suffix; only folder walking filters by suffix.

A bad input never stops the batch: it becomes an ErrorRecord with a one-line reason, so that
records out = documents in. Only a path that does not exist is a usage error, raised before
anything is read.
"""

from __future__ import annotations

import codecs
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

import click
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

from analyzer.records import Document, ErrorRecord

STDIN = "-"
TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl",)
FOLDER_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES

# HTML that is never article text, and page furniture that is dropped unless it belongs to an
# <article> (an article's own <header> holds its headline).
_HTML_DROPPED = {"head", "script", "style", "noscript", "template", "svg", "iframe", "nav", "aside", "form", "button"}
_HTML_FURNITURE = {"header", "footer"}
# Elements whose content is a paragraph of its own (or a container of paragraphs).
_HTML_BLOCKS = {
    "html", "body", "main", "article", "section", "header", "footer", "div", "p", "blockquote", "pre",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "td", "th",
    "figure", "figcaption", "address", "br", "hr",
}

Record = Document | ErrorRecord
_BINARY = "binary data (contains NUL bytes)"


class InputPathError(click.UsageError):
    """An input path does not exist: a usage error (exit status 2), raised before any reading."""


class _BadInput(ValueError):
    """Why one input cannot become a document; the message goes into its ErrorRecord."""


def read_inputs(paths: Sequence[str], stdin: TextIO | BinaryIO | None = None) -> Iterator[Record]:
    """Documents and error records for the inputs, in order, one record per document.

    The paths are all checked here, eagerly, so that a mistyped path fails before any output;
    the returned iterator reads one document at a time, so that a batch of any size streams
    through the model without being held in memory.
    """
    missing = [path for path in paths if path != STDIN and not os.path.exists(path)]
    if missing:
        raise InputPathError(f"no such file or directory: {', '.join(missing)}")
    return _records(paths, sys.stdin if stdin is None else stdin)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML page: one block element per paragraph, blank-line separated."""
    blocks: list[str] = []
    _collect_blocks(BeautifulSoup(markup, "html.parser"), blocks, [])
    return "\n\n".join(blocks)


def _records(paths: Sequence[str], stdin: TextIO | BinaryIO) -> Iterator[Record]:
    for path in paths:
        if path == STDIN:
            yield _read_stdin(stdin)
        elif os.path.isdir(path):
            yield from _read_folder(path)
        else:
            yield from _read_file(path)


def _read_stdin(stream: TextIO | BinaryIO) -> Record:
    """Standard input as one document, read as bytes where the stream allows."""
    try:
        return _document(STDIN, _text_of(getattr(stream, "buffer", stream).read()))
    except _BadInput as error:
        return ErrorRecord(STDIN, str(error))


def _read_folder(folder: str) -> Iterator[Record]:
    """The folder's files with a known suffix, recursively in sorted order; hidden ones skipped.

    A subfolder that cannot be listed gets an error record rather than vanishing from the batch.
    """
    unreadable: list[OSError] = []
    found: list[str] = []
    for root, folders, files in os.walk(folder, onerror=unreadable.append):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [os.path.join(root, name) for name in files if _walked(name)]
    for path in sorted(found, key=lambda path: Path(os.path.relpath(path, folder)).parts):
        yield from _read_file(path)
    for error in unreadable:
        yield _cannot_read(str(error.filename), error, "folder")


def _walked(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(FOLDER_SUFFIXES)


def _read_file(path: str) -> Iterator[Record]:
    if path.lower().endswith(JSONL_SUFFIXES):
        yield from _read_jsonl(path)
    else:
        yield _read_document_file(path)


def _read_document_file(path: str) -> Record:
    """A text file (or an HTML page's text) as one document."""
    try:
        text = _text_of(Path(path).read_bytes())
        return _document(path, html_to_text(text) if path.lower().endswith(HTML_SUFFIXES) else text)
    except OSError as error:
        return _cannot_read(path, error)
    except _BadInput as error:
        return ErrorRecord(path, str(error))


def _cannot_read(path: str, error: OSError, what: str = "file") -> ErrorRecord:
    return ErrorRecord(path, f"cannot read {what}: {error.strerror or error}")


def _read_jsonl(path: str) -> Iterator[Record]:
    """One document per non-blank line, read line by line so that a file of any size streams."""
    try:
        handle = open(path, "rb")
    except OSError as error:
        yield _cannot_read(path, error)
        return
    with handle:
        count = 0
        for lineno, line in enumerate(handle, start=1):
            if line.strip():
                count += 1
                yield _jsonl_record(path, lineno, line)
    if count == 0:
        yield ErrorRecord(path, "no documents in JSONL file")


def _jsonl_record(path: str, lineno: int, line: bytes) -> Record:
    """One JSONL line as a document; the error record is named by the id when it can be read."""
    doc_id = f"{path}:{lineno}"
    try:
        record = json.loads(_text_of(line.strip()))
    except _BadInput as error:
        return ErrorRecord(doc_id, f"{error} on line {lineno}")
    except json.JSONDecodeError as error:
        return ErrorRecord(doc_id, f"malformed JSON on line {lineno}: {error.msg} (column {error.colno})")
    if not isinstance(record, dict):
        return ErrorRecord(doc_id, f"line {lineno} is not a JSON object")
    if record.get("id") is not None:
        doc_id = str(record["id"])
    if "text" not in record:
        return ErrorRecord(doc_id, f"missing 'text' field on line {lineno}")
    if not isinstance(record["text"], str):
        return ErrorRecord(doc_id, f"'text' is not a string on line {lineno}")
    try:
        return _document(doc_id, record["text"])
    except _BadInput as error:
        return ErrorRecord(doc_id, f"{error} on line {lineno}")


def _text_of(data: bytes | str) -> str:
    """Decode UTF-8 (a BOM allowed), refusing binary data with a reason a person can act on."""
    if isinstance(data, bytes):
        data = _decode_utf8(data)
    elif "\x00" in data:
        raise _BadInput(_BINARY)
    return data.removeprefix("\ufeff")


def _decode_utf8(data: bytes) -> str:
    """NUL bytes are checked first: a binary file is reported as binary, not as a bad byte."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _BadInput("not UTF-8 text (UTF-16 byte order mark)")
    if b"\x00" in data:
        raise _BadInput(_BINARY)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise _BadInput(f"not UTF-8 text (invalid byte 0x{byte:02x} at position {error.start})") from None


def _document(doc_id: str, text: str) -> Document:
    if not text.strip():
        raise _BadInput("empty document")
    return Document(doc_id, text)


def _collect_blocks(node: Tag, blocks: list[str], inline: list[str]) -> None:
    """Walk the tree; text gathers in `inline` until a block element starts or ends."""
    for child in node.children:
        if isinstance(child, Tag):
            if _dropped(child):
                continue
            if child.name in _HTML_BLOCKS:
                _flush(inline, blocks)
                _collect_blocks(child, blocks, inline)
                _flush(inline, blocks)
            else:
                _collect_blocks(child, blocks, inline)
        elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
            inline.append(str(child))


def _dropped(tag: Tag) -> bool:
    if tag.name in _HTML_DROPPED:
        return True
    return tag.name in _HTML_FURNITURE and tag.find_parent("article") is None


def _flush(inline: list[str], blocks: list[str]) -> None:
    text = " ".join("".join(inline).split())
    if text:
        blocks.append(text)
    inline.clear()
