"""The two reading steps: `read_sources` (the main process) finds inputs and reads raw bytes only,
`load` (a worker) decodes and parses; together they are `read_inputs`."""

from __future__ import annotations

import io
import json
import os
import pickle
import threading
import time
from pathlib import Path

import pytest

from analyzer.reading import FILE, HTML, JSONL_LINE, STDIN_KIND, Source, count_documents, load, read_inputs, read_sources
from analyzer.records import Document, ErrorRecord

CP1252 = "Crème brûlée at €4.50 — “superb”, she said.".encode("cp1252")
LINES = [
    json.dumps({"id": "ok", "text": "Fine."}).encode(),
    b'{"id": "broken", "text": "unterminated',
    b'{"id": 3, "text": "caf\xe9"}',  # a cp1252 line
    "[" * 100_000,  # nested too deeply
]


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def inputs(tmp_path: Path) -> list[str]:
    text = write(tmp_path / "legacy.txt", CP1252)
    page = write(tmp_path / "page.html", b"<p>" + CP1252 + b"</p>")
    jsonl = write(tmp_path / "docs.jsonl", b"\n".join(line if isinstance(line, bytes) else line.encode() for line in LINES)
                  + b"\n\n")
    return [str(text), str(page), str(jsonl), "-"]


def test_sources_hold_raw_bytes_and_load_gives_what_read_inputs_gives(tmp_path: Path) -> None:
    paths = inputs(tmp_path)
    text, page, jsonl, _ = paths
    stdin = CP1252 + b" From standard input."
    sources = list(read_sources(paths, stdin=io.BytesIO(stdin)))
    raw_lines = [line if isinstance(line, bytes) else line.encode() for line in LINES]
    assert sources == [
        Source(FILE, text),
        Source(HTML, page),
        *[Source(JSONL_LINE, jsonl, number, line + b"\n") for number, line in enumerate(raw_lines, 1)],
        Source(STDIN_KIND, "-", data=stdin),
    ]
    loaded = [load(source) for source in sources]
    assert loaded == list(read_inputs(paths, stdin=io.BytesIO(stdin)))
    assert loaded == [
        Document(text, CP1252.decode("cp1252"), "cp1252"),
        Document(page, CP1252.decode("cp1252"), "cp1252"),
        Document("ok", "Fine."),
        ErrorRecord(f"{jsonl}:2", "malformed JSON on line 2: Unterminated string starting at (column 26)"),
        Document("3", "café", "cp1252"),
        ErrorRecord(f"{jsonl}:4", "malformed JSON on line 4: nested too deeply"),
        Document("-", CP1252.decode("cp1252") + " From standard input.", "cp1252"),
    ]
    assert count_documents(paths[:-1]) == len(sources) - 1


def test_problems_found_without_decoding_are_error_records_from_read_sources(tmp_path: Path) -> None:
    jsonl = write(tmp_path / "docs.jsonl", b'{"text": "' + b"w" * 200 + b'"}\n{"text": "ok"}\n')
    blank = write(tmp_path / "blank.jsonl", b"\n  \n")
    sources = list(read_sources([str(jsonl), str(blank), "-"], stdin=io.BytesIO(b"s" * 101), max_bytes=100))
    assert sources == [
        ErrorRecord(f"{jsonl}:1", "too large: 212 bytes (the limit is 100 bytes) on line 1"),
        Source(JSONL_LINE, str(jsonl), 2, b'{"text": "ok"}\n', max_bytes=100),
        ErrorRecord(str(blank), "no documents in JSONL file"),
        ErrorRecord("-", "too large: more than 100 bytes (the limit is 100 bytes)"),
    ]
    assert [load(source) for source in sources] == [*sources[:1], Document(f"{jsonl}:2", "ok"), *sources[2:]]


def test_a_file_source_carries_its_limit_to_load(tmp_path: Path) -> None:
    big = write(tmp_path / "big.txt", "x" * 101)
    [source] = read_sources([str(big)], max_bytes=100)
    assert source == Source(FILE, str(big), max_bytes=100)
    assert load(source) == ErrorRecord(str(big), "too large: 101 bytes (the limit is 100 bytes)")


def test_text_streams_and_utf16_lines_arrive_as_strings(tmp_path: Path) -> None:
    jsonl = write(tmp_path / "docs.jsonl", (json.dumps({"id": "a", "text": "Première."}, ensure_ascii=False) + "\r\n")
                  .encode("utf-16"))
    sources = list(read_sources([str(jsonl), "-"], stdin=io.StringIO("\ufeffTyped text.")))
    assert sources == [Source(JSONL_LINE, str(jsonl), 1, '{"id": "a", "text": "Première."}\r\n', "utf-16"),
                       Source(STDIN_KIND, "-", data="\ufeffTyped text.")]
    assert [load(source) for source in sources] == [Document("a", "Première.", "utf-16"), Document("-", "Typed text.")]


def test_sources_pickle_and_load_the_same_in_another_process(tmp_path: Path) -> None:
    paths = inputs(tmp_path)
    sources = list(read_sources(paths, stdin=io.BytesIO(b"Typed.")))
    copies = pickle.loads(pickle.dumps(sources))
    assert copies == sources
    assert [load(copy) for copy in copies] == [load(source) for source in sources]
    one_line = next(source for source in sources if isinstance(source, Source) and source.kind == JSONL_LINE)
    assert len(pickle.dumps(one_line)) < len(one_line.data) + 200  # small: the line and a few fields


def test_valid_records_pass_through_load_unchanged() -> None:
    document, error = Document("a", "Text."), ErrorRecord("b", "empty document")
    assert load(document) is document and load(error) is error


@pytest.mark.skipif(os.name != "posix", reason="needs FIFOs")
def test_a_fifo_that_replaced_a_file_after_the_walk_is_refused_by_load_without_blocking(tmp_path: Path) -> None:
    root = tmp_path / "in"
    path = write(root / "a.txt", "A good article.")
    [source] = read_sources([str(root)])
    assert source == Source(FILE, str(path))
    path.unlink()
    os.mkfifo(path)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(load(source)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    try:
        assert not worker.is_alive(), "load blocked on a FIFO"
        assert result == [ErrorRecord(str(path), "not a regular file (FIFO)")]
    finally:
        try:  # release a reader that did block, so the test ends
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


def test_read_sources_costs_a_small_part_of_read_inputs(tmp_path: Path) -> None:
    """The main process's share of reading JSONL: measured about 1.6 against 30 µs a line."""
    jsonl = write(tmp_path / "docs.jsonl", "".join(json.dumps({"id": n, "text": "Words “about” trade. " * 100}) + "\n"
                                                  for n in range(2000)))

    def best(read) -> float:
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            assert sum(1 for _ in read([str(jsonl)])) == 2000
            timings.append(time.perf_counter() - started)
        return min(timings)

    sources, whole = best(read_sources), best(read_inputs)
    assert sources < whole / 4, (sources, whole)
