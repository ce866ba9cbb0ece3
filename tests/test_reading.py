"""Input reading: every input form, every bad input as an error record, streaming JSONL."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from analyzer.decoding import html_to_text
from analyzer.reading import InputPathError, read_inputs
from analyzer.records import Document, ErrorRecord
from analyzer.segment import segment

ARTICLE = "Carney Goes to Beijing\n\nMark Carney met Xi Jinping in Beijing.He said the “warm welcome” mattered.\n"

HTML = """<!DOCTYPE html>
<html><head><title>Site title</title><style>p { color: red }</style></head>
<body>
<header><a href="/">The Ledger</a><nav><a>World</a> | <a>Business</a></nav></header>
<article>
  <header><h1>Carney goes to Beijing</h1><p>By Jane Doe</p></header>
  <p>Mark Carney met Xi Jinping in <b>Beijing</b> this week.</p>
  <!-- tracking comment -->
  <h2>Beyond the Border</h2>
  <div>Canada wants <em>other</em> partners. <p>Nested paragraph.</p></div>
  <ul><li>First point.</li><li>Second point.</li></ul>
  <blockquote>“A new era,” he said.</blockquote>
  <script>var tracking = "do not read";</script>
</article>
<aside>Most popular stories</aside>
<footer>© 2025 The Ledger</footer>
</body></html>
"""


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def ids(records: list) -> list[str]:
    return [record.doc_id for record in records]


def test_txt_with_bom_crlf_and_curly_quotes(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", ("\ufeff" + ARTICLE.replace("\n", "\r\n")).encode("utf-8"))
    [record] = list(read_inputs([str(path)]))
    assert record == Document(str(path), ARTICLE.replace("\n", "\r\n"))
    assert [(paragraph.kind, paragraph.text[:11]) for paragraph in segment(record.text)] == [
        ("headline", "Carney Goes"),
        ("body", "Mark Carney"),
    ]


def test_md_file_and_unknown_suffix_given_explicitly_are_text(tmp_path: Path) -> None:
    markdown = write(tmp_path / "a.md", "# Title\n\nBody text.\n")
    other = write(tmp_path / "notes.data", "Plain text with an odd suffix.")
    records = list(read_inputs([str(markdown), str(other)]))
    assert records == [
        Document(str(markdown), "# Title\n\nBody text.\n"),
        Document(str(other), "Plain text with an odd suffix."),
    ]


def test_html_keeps_blocks_and_drops_page_furniture(tmp_path: Path) -> None:
    path = write(tmp_path / "page.html", HTML)
    [record] = list(read_inputs([str(path)]))
    assert isinstance(record, Document)
    assert record.text.split("\n\n") == [
        "Carney goes to Beijing",
        "By Jane Doe",
        "Mark Carney met Xi Jinping in Beijing this week.",
        "Beyond the Border",
        "Canada wants other partners.",
        "Nested paragraph.",
        "First point.",
        "Second point.",
        "“A new era,” he said.",
    ]
    assert [paragraph.kind for paragraph in segment(record.text)][:4] == ["headline", "boilerplate", "body", "heading"]


def test_html_to_text_of_a_page_without_article_text_is_empty() -> None:
    page = "<html><head><title>T</title></head><body><nav>Home</nav><script>x()</script></body></html>"
    assert html_to_text(page) == ""


def test_folder_is_walked_recursively_sorted_by_suffix(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write(root / "b.txt", "Second file.")
    write(root / "a" / "z.md", "Nested markdown.")
    write(root / "a" / "page.htm", "<p>From HTML.</p>")
    write(root / "c.jsonl", json.dumps({"id": 7, "text": "From JSONL."}) + "\n")
    write(root / "skip.csv", "not,an,article")
    write(root / ".hidden.txt", "Hidden.")
    write(root / ".git" / "x.txt", "Hidden folder.")
    records = list(read_inputs([str(root)]))
    assert ids(records) == [str(root / "a" / "page.htm"), str(root / "a" / "z.md"), str(root / "b.txt"), "7"]
    assert [record.text for record in records] == ["From HTML.", "Nested markdown.", "Second file.", "From JSONL."]


def test_stdin_as_bytes_and_as_text() -> None:
    raw = ("\ufeff" + ARTICLE).encode("utf-8")
    assert list(read_inputs(["-"], stdin=io.BytesIO(raw))) == [Document("-", ARTICLE)]
    assert list(read_inputs(["-"], stdin=io.StringIO(ARTICLE))) == [Document("-", ARTICLE)]
    text_stream = io.TextIOWrapper(io.BytesIO(raw), encoding="latin-1")  # .buffer is read as UTF-8
    assert list(read_inputs(["-"], stdin=text_stream)) == [Document("-", ARTICLE)]
    assert list(read_inputs(["-"], stdin=io.BytesIO(ARTICLE.encode("utf-16")))) == [Document("-", ARTICLE, "utf-16")]
    assert list(read_inputs(["-"], stdin=io.BytesIO(b"\xff\xfe"))) == [ErrorRecord("-", "empty document")]


def test_jsonl_ids_fallback_ids_and_blank_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "First “article”."}, ensure_ascii=False),
        "",
        "   ",
        json.dumps({"id": 2, "text": "Second article."}),
        json.dumps({"text": "No id here."}),
    ]
    path = write(tmp_path / "docs.jsonl", ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    assert list(read_inputs([str(path)])) == [
        Document("a", "First “article”."),
        Document("2", "Second article."),
        Document(f"{path}:5", "No id here."),
    ]


def test_bad_inputs_become_error_records_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", "A good article.")
    binary = write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    broken = write(tmp_path / "broken.txt", "Caf\u00e9 “au lait” is served here.".encode("utf-8")[:-6] + b"\xe9re.")
    empty = write(tmp_path / "empty.txt", "")
    blank = write(tmp_path / "blank.md", " \n\t\r\n")
    blank_html = write(tmp_path / "blank.html", "<html><body><script>x()</script></body></html>")
    lines = [
        json.dumps({"id": "ok1", "text": "Fine."}),
        '{"id": "broken", "text": "unterminated',
        json.dumps({"id": "no-text", "body": "Wrong field."}),
        json.dumps({"text": 42}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "empty", "text": "  "}),
        json.dumps({"id": "ok2", "text": "Also fine."}),
    ]
    jsonl = write(tmp_path / "docs.jsonl", "\n".join(lines) + "\n")
    empty_jsonl = write(tmp_path / "none.jsonl", "\n\n")
    paths = [good, binary, broken, empty, blank, blank_html, jsonl, empty_jsonl, good]
    records = list(read_inputs([str(path) for path in paths]))
    assert len(records) == 6 + len(lines) + 1 + 1  # records out = documents in
    expected = [
        Document(str(good), "A good article."),
        ErrorRecord(str(binary), "binary data (contains NUL bytes)"),
        ErrorRecord(str(broken), "not UTF-8 text (invalid byte 0xe9 at position 29)"),
        ErrorRecord(str(empty), "empty document"),
        ErrorRecord(str(blank), "empty document"),
        ErrorRecord(str(blank_html), "empty document"),
        Document("ok1", "Fine."),
        ErrorRecord(f"{jsonl}:2", "malformed JSON on line 2: Unterminated string starting at (column 26)"),
        ErrorRecord("no-text", f"missing 'text' field on line 3 of {jsonl}"),
        ErrorRecord(f"{jsonl}:4", "'text' is not a string on line 4"),
        ErrorRecord(f"{jsonl}:5", "line 5 is not a JSON object"),
        ErrorRecord("empty", f"empty document on line 6 of {jsonl}"),
        Document("ok2", "Also fine."),
        ErrorRecord(str(empty_jsonl), "no documents in JSONL file"),
        Document(str(good), "A good article."),
    ]
    assert records == expected
    assert all("\n" not in record.error for record in records if isinstance(record, ErrorRecord))


def test_jsonl_line_that_is_not_utf8(tmp_path: Path) -> None:
    """Each line is decoded on its own: a cp1252 line is read as such, damaged UTF-8 is an error."""
    lines = b'{"id": 1, "text": "ok"}\n{"id": 2, "text": "caf\xe9"}\n{"id": 3, "text": "\xe2\x80\x9cq\xe2\x80\x9d caf\xe9"}\n'
    path = write(tmp_path / "docs.jsonl", lines)
    assert list(read_inputs([str(path)])) == [
        Document("1", "ok"),
        Document("2", "café", "cp1252"),
        ErrorRecord(f"{path}:3", "not UTF-8 text (invalid byte 0xe9 at position 30) on line 3"),
    ]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions that bind")
def test_unreadable_file_is_an_error_record(tmp_path: Path) -> None:
    locked = write(tmp_path / "locked.txt", "Secret.")
    locked_jsonl = write(tmp_path / "locked.jsonl", '{"text": "Secret."}\n')
    locked.chmod(0)
    locked_jsonl.chmod(0)
    try:
        records = list(read_inputs([str(locked), str(locked_jsonl)]))
    finally:
        locked.chmod(0o644)
        locked_jsonl.chmod(0o644)
    assert records == [
        ErrorRecord(str(locked), "cannot read file: Permission denied"),
        ErrorRecord(str(locked_jsonl), "cannot read file: Permission denied"),
    ]


def test_missing_path_is_a_usage_error_before_anything_is_read(tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", "A good article.")
    missing = tmp_path / "missing.txt"
    with pytest.raises(InputPathError, match="missing.txt"):
        read_inputs([str(good), str(missing)])  # raised at the call, not on the first next()
    for command in (["score", str(good), str(missing)], ["compare", str(good), str(missing)]):
        completed = subprocess.run([sys.executable, "-m", "analyzer", *command], capture_output=True, text=True, timeout=120)
        assert completed.returncode == 2 and completed.stdout == ""  # a usage error; nothing scored
        assert completed.stderr.strip().splitlines() == [f"error: no such file or directory: {missing}"]


def test_large_jsonl_streams_line_by_line(tmp_path: Path) -> None:
    """100,000 lines are read one at a time: memory stays far below the file's size."""
    path = tmp_path / "big.jsonl"
    line = '{{"id": {n}, "text": "Article {n} says something about trade."}}\n'
    path.write_text("".join(line.format(n=number) for number in range(100_000)))
    size = path.stat().st_size
    records = read_inputs([str(path)])
    tracemalloc.start()  # traced over the first records only: tracing all of them is slow
    try:
        first = [next(records) for _ in range(1_000)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 20, (peak, size)
    assert first[-1] == Document("999", "Article 999 says something about trade.")
    assert 1_000 + sum(1 for record in records if isinstance(record, Document)) == 100_000


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux /proc")
def test_read_failure_is_an_error_record(tmp_path: Path) -> None:
    """A real OSError while reading: /proc/self/mem opens, and reading it at offset 0 fails (EIO)."""
    text_link, jsonl_link = tmp_path / "mem.txt", tmp_path / "mem.jsonl"
    text_link.symlink_to("/proc/self/mem")
    jsonl_link.symlink_to("/proc/self/mem")
    assert list(read_inputs([str(text_link), str(jsonl_link), "-"], stdin=io.BytesIO(b"Next."))) == [
        ErrorRecord(str(text_link), "cannot read file: Input/output error"),
        ErrorRecord(str(jsonl_link), "cannot read file: Input/output error"),
        Document("-", "Next."),
    ]


def test_jsonl_ids_that_are_not_strings_read_as_json_writes_them(tmp_path: Path) -> None:
    path = write(tmp_path / "ids.jsonl", "".join(json.dumps({"id": value, "text": "A report."}) + "\n"
                                                   for value in (True, {"a": 1}, 7, 1.5, [1, "x"], "plain")))
    assert [r.doc_id for r in read_inputs([str(path)])] == ["true", '{"a": 1}', "7", "1.5", '[1, "x"]', "plain"]
