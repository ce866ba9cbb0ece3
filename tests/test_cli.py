"""`analyzer score` end to end with the real model: input forms, formats, levels, errors, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from tests.conftest import SEED_EDITORIAL, SEED_PLAIN

runner = CliRunner()
REPORT = "Officials said on Monday that the bridge will reopen in March after repairs costing $1.5 million."
OPINION = "Frankly, this bridge saga is an embarrassment, and the council deserves every bit of the anger it gets."


def run(*args: str, stdin: str | None = None):
    return runner.invoke(app, ["score", *args], input=stdin)


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_seed_paragraph_records_follow_the_contract():
    result = run(str(SEED_EDITORIAL), "--level", "paragraph", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    records = lines(result)
    assert [r["index"] for r in records] == list(range(len(records)))
    kinds = {r["text"]: r["kind"] for r in records}
    for heading in ("The High-Stakes Handshake", "Beyond the Border", "The New Trade Realpolitik",
                    "Beijing and Ottawa test a second try at diplomacy"):
        assert kinds[heading] == "heading"
    assert records[0]["kind"] == "headline"
    ads = [r for r in records if r["kind"] == "boilerplate"]
    assert len(ads) == 1 and ads[0]["text"].startswith("Want your project")
    body = [r for r in records if r["kind"] == "body"]
    assert len(body) == len(records) - 6
    for record in records:
        assert set(record) >= {"doc_id", "index", "kind", "text", "sentiment", "opinion", "tone", "model"}
        probs = record["sentiment"]["probs"]
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-3)
        assert record["sentiment"]["score"] == pytest.approx(probs["positive"] - probs["negative"], abs=1e-3)
        if record["kind"] == "body":
            assert record["tone"]["label"] == (record["sentiment"]["label"] if record["opinion"]["label"] == "opinion" else "neutral")
        else:  # scored, not labelled (unless --score-headings)
            assert record["opinion"]["label"] is None and record["tone"]["label"] is None and 0 <= record["opinion"]["prob"] <= 1
        assert record["model"].startswith("tone-v2")


def test_plain_seed_has_no_headline_and_one_heading():
    records = lines(run(str(SEED_PLAIN), "--level", "paragraph"))
    assert [r["kind"] for r in records].count("heading") == 1
    assert all(r["kind"] in ("body", "heading") for r in records)


def test_editorialized_seed_is_more_opinionated_at_document_level():
    result = run(str(SEED_EDITORIAL), str(SEED_PLAIN), "--level", "document")
    editorial, plain = lines(result)
    assert editorial["opinion_share"] > plain["opinion_share"]
    assert editorial["kinds"]["heading"] == 4 and editorial["kinds"]["boilerplate"] == 1
    assert len(editorial["top_opinion"]) == 3
    assert editorial["n_body"] == 15


@pytest.fixture()
def inputs(tmp_path):
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text(f"{REPORT}\n\n{OPINION}\n", encoding="utf-8")
    (folder / "sub" / "a.md").write_text(f"# Bridge news\n\n{REPORT}\n", encoding="utf-8")
    (folder / "c.html").write_text(f"<html><body><script>x()</script><h1>Bridge</h1><p>{REPORT}</p><p>{OPINION}</p></body></html>")
    (folder / "ignored.bin").write_bytes(b"\x00\x01")
    (tmp_path / "docs.jsonl").write_text(json.dumps({"id": "j1", "text": REPORT}) + "\n" + json.dumps({"id": "j2", "text": OPINION}) + "\n")
    (tmp_path / "bom.txt").write_bytes(("\ufeff" + REPORT.replace("said", "“said”") + "\r\n\r\n" + OPINION + "\r\n").encode())
    return tmp_path


def test_each_input_form(inputs):
    result = run(str(inputs / "articles"), str(inputs / "docs.jsonl"), str(inputs / "bom.txt"), "-", stdin=OPINION)
    assert result.exit_code == 0, result.output
    ids = [r["doc_id"] for r in lines(result)]
    assert ids[:3] == [str(inputs / "articles" / name) for name in ("b.txt", "c.html", "sub/a.md")]
    assert ids[3:] == ["j1", "j2", str(inputs / "bom.txt"), "-"]
    by_id = {r["doc_id"]: r for r in lines(result)}
    assert by_id[str(inputs / "bom.txt")]["n_body"] == 2
    assert by_id[str(inputs / "articles" / "c.html")]["n_body"] == 2
    assert by_id["j2"]["opinion_share"] == 1.0 and by_id["j1"]["opinion_share"] == 0.0


def test_formats(inputs, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # a wide table, with the label columns
    path = str(inputs / "articles" / "b.txt")
    rows = list(csv.DictReader(io.StringIO(run(path, "--format", "csv", "--level", "paragraph").stdout)))
    assert [r["opinion"] for r in rows] == ["reporting", "opinion"] and float(rows[1]["opinion_prob"]) > 0.5
    document = json.loads(run(path, "--format", "json").stdout)
    assert len(document) == 1 and len(document[0]["paragraphs"]) == 2
    table = run(path, "--format", "table", "--level", "paragraph").stdout
    assert "reporting" in table and "opinion" in table and "Officials said" in table
    out = inputs / "out.jsonl"
    assert run(path, "--output", str(out), "--no-segment").exit_code == 0
    assert json.loads(out.read_text())["n_paragraphs"] == 1


def test_csv_names_a_legacy_encoding(tmp_path):
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes(f"Fares rise to \xa32 on Monday. {REPORT}".encode("cp1252"))
    plain = tmp_path / "plain.txt"
    plain.write_text(REPORT)
    for level in ("paragraph", "document"):
        rows = list(csv.DictReader(io.StringIO(run(str(legacy), str(plain), "--format", "csv", "--level", level, "-q").stdout)))
        assert [r["encoding"] for r in rows] == ["cp1252", ""]


@pytest.mark.parametrize("columns", [80, 200])
def test_paragraph_tables_fit_the_width_given(inputs, monkeypatch, columns):
    """Piped tables follow $COLUMNS; a narrow one drops the label columns (the score and P(op) stay) and stays readable."""
    monkeypatch.setenv("COLUMNS", str(columns))
    table = run(str(inputs / "articles" / "b.txt"), "--format", "table", "--level", "paragraph", "--explain").stdout
    widths = [len(line) for line in table.splitlines()]
    assert max(widths) <= columns and (columns == 80 or max(widths) > 120)
    header = table.splitlines()[1]
    assert "P(op)" in header and "evidence" in header and ("sentiment" in header) == (columns == 200)
    assert "Officials said" in table  # the text column is wide enough to hold words


def test_worker_processes_give_the_same_records(inputs):
    args = [str(inputs / "articles"), str(inputs / "docs.jsonl"), "--level", "paragraph"]
    assert lines(run(*args, "--workers", "2")) == lines(run(*args)) != []


def test_bad_inputs_get_error_records_and_exit_1(inputs):
    bad = inputs / "bad"
    bad.mkdir()
    (bad / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00binary")
    (bad / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (bad / "empty.txt").write_text("   \n")
    (bad / "docs.jsonl").write_text('{"id": "ok", "text": "A plain sentence about the weather."}\n{not json\n{"id": "no-text"}\n')
    result = run(str(bad), str(inputs / "articles" / "b.txt"), "--workers", "2")
    assert result.exit_code == 1
    records = lines(result)
    assert len(records) == 7  # records out = documents in
    errors = {r["doc_id"]: r["error"] for r in records if "error" in r}
    assert len(errors) == 4 and "ok" not in errors
    latin1 = next(r for r in records if r["doc_id"].endswith("latin1.txt"))
    assert latin1["encoding"] == "cp1252" and "error" not in latin1  # a legacy encoding is read and named
    assert sum(1 for r in records if "opinion_share" in r) == 3
    assert "could not be scored" in result.stderr


@pytest.mark.parametrize("args", [["/no/such/file.txt"], ["--format", "xml", "x"], ["--bogus"], ["--device", "cuda", "-"]])
def test_usage_errors_exit_2_without_traceback(args):
    result = run(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["score", "--bogus", "x"], ["score", "x", "--level", "para"], ["score"], ["nope"]])
def test_usage_errors_are_one_line_from_the_command(args):
    """Through the console entry point (analyzer.cli.main), not click's usage block."""
    completed = subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 2 and completed.stdout == ""
    assert len(completed.stderr.strip().splitlines()) == 1 and completed.stderr.startswith("error: ")
    assert "--help)" in completed.stderr


def test_long_paragraph_is_windowed_not_truncated(analyzer):
    sentence = "The committee reviewed the annual budget line by line and published its findings on Friday. "
    long_paragraph = sentence * 60
    score = analyzer.score_texts([long_paragraph])[0]
    assert score.n_tokens > 900
    short = analyzer.score_texts([sentence])[0]
    assert score.opinion.label == short.opinion.label == "reporting"
    from analyzer.batching import make_windows

    windows = make_windows(np.array([score.n_tokens]))
    assert len(windows.owner) >= 3 and (windows.length + 2 <= 512).all()
    covered = {t for start, length in zip(windows.start, windows.length) for t in range(start, start + length)}
    assert covered == set(range(score.n_tokens))


def test_five_thousand_documents_stream_under_1gb(tmp_path):
    source = tmp_path / "many.jsonl"
    with source.open("w") as handle:
        for i in range(5000):
            handle.write(json.dumps({"id": f"d{i}", "text": f"Sentence number {i} reports that the council met on day {i % 28 + 1}."}) + "\n")
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "analyzer", "score", str(source), "--no-segment", "--quiet", "-o", str(out)])
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, not every child's
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    peak_mb = usage.ru_maxrss / 1024
    assert sum(1 for _ in out.open()) == 5000
    print(f"5,000 documents: peak RSS {peak_mb:.0f} MB")
    assert peak_mb < 1024, f"peak RSS {peak_mb:.0f} MB"


def test_hostile_ids_never_reach_the_terminal_as_markup_or_escapes(tmp_path):
    corpus = tmp_path / "hostile.jsonl"
    corpus.write_text(json.dumps({"id": "[bold]x[/] \x1b[31mred", "text": ""}) + "\n"
                      + json.dumps({"id": "ok", "text": REPORT}) + "\n", encoding="utf-8")
    completed = subprocess.run([sys.executable, "-m", "analyzer", "score", str(corpus), "-q"], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr and "\x1b" not in completed.stderr
    assert "[bold]x[/] \\x1b[31mred" in completed.stderr
    assert len(completed.stdout.splitlines()) == 2  # records out = documents in


def test_csv_cells_that_would_run_as_formulas_are_neutralised():
    result = run("-", "--no-segment", "--level", "paragraph", "--format", "csv", "-q", stdin="=HYPERLINK(\"http://x\") is a formula")
    assert result.exit_code == 0, result.output
    row = next(csv.DictReader(io.StringIO(result.stdout)))
    assert row["text"].startswith("'=HYPERLINK")
    assert float(row["sentiment_score"]) == float(row["sentiment_score"])  # numbers stay numbers
