"""The scoring stages and the local engine (issue #11): same records inline and with workers, one
paragraph schema for `score` and `compare`, and a CLI that starts without torch."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzer.api import Analyzer
from analyzer.engine import Options
from analyzer.reading import read_inputs
from analyzer.writers import Writer
from models.packages import bbc_articles

SEEDS = sorted((Path(__file__).resolve().parents[2] / "shared" / "seeds").glob("*.txt"))


def _jsonl(analyzer: Analyzer, corpus: Path, explain: bool) -> str:
    out = io.StringIO()
    writer = Writer(out, "jsonl", "paragraph")
    for window in analyzer.windows(read_inputs([str(corpus), *map(str, SEEDS)]), Options(True, "jsonl", "paragraph"), explain):
        for output in window.outputs:
            writer.write(output)
    writer.close()
    return out.getvalue()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bbc") / "bbc.jsonl"
    lines = [json.dumps({"id": name, "text": t}) for name, t in bbc_articles(70)]
    lines.insert(3, '{"id": "broken", "text": 7}')  # an error record inside a window keeps its place
    path.write_text("\n".join(lines) + "\n")
    return path


def test_workers_give_the_same_records_as_inline(corpus):
    """prepare and postprocess in worker processes change nothing: the same bytes, in the same order."""
    inline = _jsonl(Analyzer(device="cpu", workers=1), corpus, explain=True)
    pooled = Analyzer(device="cpu", workers=2)
    assert pooled.workers == 2
    with_workers = _jsonl(pooled, corpus, explain=True)
    assert with_workers == inline
    records = [json.loads(line) for line in inline.splitlines()]
    assert records[0]["doc_id"] == "business/001.txt" and any(r.get("doc_id") == "broken" and "error" in r for r in records)
    assert len({r["doc_id"] for r in records}) == 70 + 1 + len(SEEDS)


def _shape(value):
    """Keys and value types, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def test_score_and_compare_write_one_paragraph_schema():
    seeds = list(map(str, SEEDS))
    scored = subprocess.run([sys.executable, "-m", "analyzer", "score", *seeds, "--format", "json", "--explain", "-q"],
                            capture_output=True, text=True, check=True)
    compared = subprocess.run([sys.executable, "-m", "analyzer", "compare", *seeds, "--format", "json"],
                              capture_output=True, text=True, check=True)
    score_paragraphs = [p for document in json.loads(scored.stdout) for p in document["paragraphs"]]
    comparison = json.loads(compared.stdout)
    compare_paragraphs = comparison["only_a"] + comparison["only_b"]
    assert compare_paragraphs, "the seed pair has unmatched paragraphs to compare shapes with"
    body = [p for p in score_paragraphs if p["kind"] == "body" and p["evidence"]["opinion"] and p["evidence"]["sentiment"]]
    expected = _shape(body[0])
    for paragraph in compare_paragraphs:
        assert set(paragraph) == set(expected)
        for key in ("sentiment", "opinion", "tone"):
            assert _shape(paragraph[key]) == expected[key]
        assert _shape(paragraph["sentences"][0]) == expected["sentences"][0]


def test_import_and_help_do_not_load_torch():
    check = "import sys, analyzer; import analyzer.cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", check], check=True)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "analyzer", "--help"], capture_output=True, text=True)
        timings.append(time.perf_counter() - started)
        assert result.returncode == 0 and "score" in result.stdout
    assert min(timings) < 1.0, f"analyzer --help took {min(timings):.2f} s at best"


def test_api_documents_that_cannot_be_scored_are_error_records_and_the_batch_goes_on(analyzer):
    """A Document built in Python meets the rules a read one does: a lone surrogate (which stops
    the tokenizer) or a blank text is that document's error record, not an exception."""
    from analyzer.records import Document, ErrorRecord

    documents = [Document("g1", "The vote passed on Tuesday."), Document("bad", "x \ud800 y"),
                 Document("\udc00", "Fine text."), Document("blank", "  "), Document("g2", "It was a shameful vote.")]
    records = list(analyzer.score(documents))
    assert [type(r).__name__ for r in records] == ["DocumentScore", "ErrorRecord", "ErrorRecord", "ErrorRecord", "DocumentScore"]
    assert records[1] == ErrorRecord("bad", "not valid Unicode (lone surrogate U+D800)")
    assert records[2].doc_id == "\\udc00" and "lone surrogate" in records[2].error  # an id every output can encode
    assert records[3] == ErrorRecord("blank", "empty document")


def test_api_refuses_one_string_and_texts_without_a_score(analyzer):
    with pytest.raises(TypeError, match="pass \\[text\\]"):
        list(analyzer.score("The vote passed."))  # not one document per character
    with pytest.raises(TypeError, match="pass \\[text\\]"):
        analyzer.score_texts("The vote passed.")
    with pytest.raises(ValueError, match="text 1 is blank"):
        analyzer.score_texts(["The vote passed.", "   "])
    with pytest.raises(ValueError, match="lone surrogate"):
        analyzer.score_texts(["x \ud800"])
