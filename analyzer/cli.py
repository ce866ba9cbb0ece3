"""The `analyzer` command line: `score` for batches of articles, `compare` for two versions.

Exit status: 0 all scored; 1 some document failed (each has an error record and a stderr
line) or the output could not be written; 2 usage error (bad option, missing path, unusable
--output, a model that fails verification); 130/143 stopped by SIGINT/SIGTERM (whole documents
written; `--resume` continues); 141 the reader of stdout went away.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import signal
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from analyzer.output import Completed, Output, OutputError, check_target, completed_documents
from analyzer.reading import FOLDER_SUFFIXES, MAX_DOCUMENT_BYTES, STDIN, InputPathError, count_documents, load, read_inputs, read_sources
from analyzer.records import ErrorRecord
from analyzer.writers import Writer, safe_text, table_width

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Score news paragraphs for sentiment and opinion vs. reporting, and contrast two versions of a story.")
stderr = Console(stderr=True, soft_wrap=True)  # a message is one line, never wrapped at a width


class Format(str, Enum):
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    table = "table"
    html = "html"


class CompareFormat(str, Enum):
    table = "table"
    json = "json"
    html = "html"


class Level(str, Enum):
    document = "document"
    paragraph = "paragraph"
    sentence = "sentence"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


def _fail(message: str, status: int = 1) -> None:
    stderr.print(f"[red]error:[/] {safe_text(message)}", highlight=False)
    raise typer.Exit(status)


def _checked_device(device: Device) -> str:
    """An unusable --device is a usage error (exit 2), found before any input is read."""
    from analyzer.inference import resolve_device  # torch loads here, after argument parsing

    try:
        return resolve_device(device.value)
    except ValueError as error:
        _fail(str(error), 2)


class Engine(str, Enum):
    local = "local"
    ray = "ray"


class Precision(str, Enum):
    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"


def _progress(quiet: bool) -> Progress:
    """A bar with documents done of the total (when the inputs tell it), paragraphs/s and time left,
    on stderr, shown only to a person watching a terminal."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("documents · {task.fields[rate]}"), TimeRemainingColumn(), TimeElapsedColumn(),
                    console=stderr, transient=True, disable=quiet or not sys.stderr.isatty())


class _Stop:
    """SIGINT/SIGTERM ask the run to stop at the end of the current chunk; a second one stops at once."""

    def __init__(self):
        self.signal: int | None = None
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def _handle(self, number, frame) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = number
        stderr.print("stopping after the documents being scored (again to stop now)", highlight=False)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _version(value: bool) -> None:
    if value:
        from analyzer import __version__

        typer.echo(f"analyzer {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit.")) -> None:
    """Score news paragraphs for sentiment and opinion vs. reporting, and contrast two versions of a story."""


def _output(output: Path | None, paths: list[str], resume: bool, fmt: Format, level: Level) -> tuple[Output, Completed | None]:
    """The output stream, and for --resume what it already holds. Usage errors exit 2."""
    if resume and output is None:
        _fail("--resume needs --output FILE (the file to continue)", 2)
    if resume and fmt != Format.jsonl:
        _fail("--resume works with --format jsonl", 2)
    try:
        if output is None:
            return Output(None), None
        check_target(output)
        _refuse_an_input_as_output(paths, output, "--output ")
        completed = completed_documents(output, level.value) if resume else None
        return Output(output, completed.size if completed else None), completed
    except OutputError as error:
        _fail(str(error), 2)


def _refuse_an_input_as_output(paths: list[str], target: Path, option: str = "") -> None:
    """A usage error (exit 2) when `target` is one of the input files: writing it would destroy the input."""
    from analyzer.reading import same_file

    for path in paths:
        if path != STDIN and same_file(path, target):
            _fail(f"{option}{target} is also an input; write the output elsewhere (the input is left as it is)", 2)


def _skip_completed(records: Iterator, done: list[str]) -> tuple[Iterator, Any]:
    """--resume: the inputs after those already in the output, checked by position and doc_id, and
    the last input skipped (None when none was)."""
    record = None
    for position, expected in enumerate(done):
        record = next(records, None)
        record = load(record) if record is not None else None
        if record is None or record.doc_id != expected:
            found = "no more input" if record is None else f"input document {position + 1} is {record.doc_id!r}"
            _fail(f"--resume: the output does not continue these inputs (its document {position + 1} is {expected!r}, {found}); "
                  "not resuming", 2)
    return records, record


def _resume_check(analyzer: Any, document: Any, completed: Completed, options: Any, explain: bool) -> bool:
    """--resume: the output's last document scored again with these options. Its lines must have
    the shape of those in the file (the same records, fields and texts, and which labels are set;
    scores may move in their last digits with what a paragraph is batched with), else the file was
    written with other options and resuming would mix two kinds of records: a usage error. Returns
    whether the file holds all of that document's lines (a run killed mid-document, as by SIGKILL
    while appending, leaves it short)."""
    (serialized,) = analyzer.stream([document], options, explain)
    fresh, held = serialized.text.splitlines(), completed.last
    try:
        same = [_shape(json.loads(line)) for line in held] == [_shape(json.loads(line)) for line in fresh[: len(held)]]
    except ValueError:
        same = False
    if not same or len(held) > len(fresh):
        _fail("--resume: the output was written with other options than these (--level, --explain, --no-segment or "
              "--score-headings); rerun with the stopped run's options, or without --resume", 2)
    return len(held) == len(fresh)


def _shape(value: Any, key: str = "") -> Any:
    """A record with its numbers blanked: what the options decide, not what the arithmetic moves."""
    if isinstance(value, dict):
        return {k: ("evidence" if k == "evidence" and v is not None else _shape(v, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v, key) for v in value]
    if isinstance(value, float):
        return 0.0
    if key == "label" and value is not None:  # which label it is can move with the score
        return "label"
    return value


@app.command()
def score(
    paths: list[str] = typer.Argument(..., metavar="PATH", help="Files (.txt .md .html .jsonl), folders (recursive) or - for stdin."),
    fmt: Format = typer.Option(Format.jsonl, "--format", "-f", help="Output format (html: one highlighted page, implies --explain)."),
    level: Level = typer.Option(Level.document, "--level", "-l", help="One record per document, per paragraph or per sentence (with paragraph_index and offsets)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here (via a temporary file renamed at the end) instead of stdout."),
    resume: bool = typer.Option(False, "--resume", help="Continue a stopped run: keep the documents already in --output and append the rest."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Most paragraphs in one forward pass (default 128 on the CPU, 1024 on CUDA)."),
    device: Device = typer.Option(Device.auto, "--device", help="auto picks CUDA when present."),
    precision: Precision = typer.Option(Precision.auto, "--precision", help="Encoder arithmetic (auto: bf16 on CUDA and on CPUs with AMX or AVX512-BF16, else fp32)."),
    no_segment: bool = typer.Option(False, "--no-segment", help="Each input text is one unit (for single sentences)."),
    model_dir: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: the shipped tone-v2)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Processes that prepare and finish documents (default: none on the CPU, where the model needs the cores; on CUDA one per core but one, up to 16); capped by cores and memory."),
    explain: bool = typer.Option(False, "--explain", help="Add each paragraph's evidence: the words and the sentence that carry its scores."),
    score_headings: bool = typer.Option(False, "--score-headings", help="Label opinion and tone of headlines, headings and boilerplate too (by default only body paragraphs are labelled; all are scored)."),
    max_bytes: int = typer.Option(MAX_DOCUMENT_BYTES, "--max-bytes", min=1, help="Largest document (or JSONL line) read; a larger one gets an error record."),
    engine: Engine = typer.Option(Engine.local, "--engine", help="local, or ray: a Ray Data pipeline (RAY_ADDRESS, else a local Ray; needs the ray extra and --output DIR or FILE.jsonl)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Score every paragraph (or each text, with --no-segment) and write one record per paragraph or document."""
    from analyzer.api import Analyzer
    from analyzer.engine import Options
    from analyzer.model import ModelLoadError
    from analyzer.writers import STREAMING_FORMATS

    if engine == Engine.ray:
        _score_with_ray(paths, output, fmt, level, model_dir, device, precision, batch_size, explain, no_segment,
                        score_headings, max_bytes)
        return
    stop = _Stop()  # from here on: a stop before scoring leaves no temporary file behind and says so
    target: Output | None = None
    try:
        target, completed = _output(output, paths, resume, fmt, level)
        done = completed.doc_ids if completed else []
        exclude = [output] if output else []
        try:
            records = read_sources(paths, max_bytes=max_bytes, exclude=exclude, notes=_note)  # decoded in the prepare stage
            total = count_documents(paths, exclude=exclude)
        except InputPathError as error:
            target.abandon()
            _fail(str(error), 2)
        records, last_done = _skip_completed(iter(records), done)
        analyzer = Analyzer(model_dir=model_dir, device=_checked_device(device), batch_size=batch_size, workers=workers,
                            precision=precision.value)
        try:
            analyzer.scorer  # load (and verify) the model before any output
        except (ModelLoadError, ValueError) as error:
            target.abandon()
            _fail(str(error), 2)
        if workers is not None and analyzer.workers < workers:
            _note(f"--workers {workers} capped at {analyzer.workers} (cores and memory of this machine)")
        if explain and fmt == Format.csv:
            _note("--explain has no effect with --format csv: evidence is written in paragraph records of jsonl, json, "
                  "table or html (--level paragraph, or --format json or html)")
        elif explain and (level == Level.sentence or (level == Level.document and fmt in (Format.jsonl, Format.table))):
            _note(f"--explain has no effect with --format {fmt.value} --level {level.value}: evidence is written in paragraph "
                  "records (--level paragraph, or --format json or html)")
        if fmt == Format.html and level != Level.document:
            _note(f"--level {level.value} has no effect with --format html: the page shows every paragraph")
        explain = explain or fmt == Format.html  # the page exists to show the evidence
        options = Options(segment=not no_segment, fmt=fmt.value if fmt.value in STREAMING_FORMATS else None, level=level.value,
                          score_headings=score_headings)
        if last_done is not None and not _resume_check(analyzer, last_done, completed, options, explain):
            _note(f"--resume: the output holds only part of {safe_text(last_done.doc_id)}; scoring it again")
            target.cut(completed.starts[-1])
            records, done = itertools.chain([last_done], records), done[:-1]
        if stop.signal is not None:
            raise KeyboardInterrupt
    except KeyboardInterrupt:  # while starting: nothing scored, so nothing to keep
        if target is not None:
            target.abandon()
        stop.restore()
        stderr.print("stopped before any document was scored" + ("; rerun with --resume to continue" if resume else ""), highlight=False)
        raise typer.Exit(128 + (stop.signal or signal.SIGINT))
    writer = Writer(target.stream, fmt.value, level.value)
    failures, scored, paragraphs = 0, len(done), 0
    started = time.monotonic()
    try:
        with _progress(quiet) as shown:
            task = shown.add_task("scoring", total=total, completed=scored, rate="")
            for window in analyzer.windows(records, options, explain):
                for record in window.outputs:
                    if record.error is not None:
                        failures += 1
                        stderr.print(f"[red]error:[/] {safe_text(record.doc_id)}: {safe_text(record.error)}", highlight=False)
                    elif record.note and not quiet:
                        _note(f"{record.doc_id}: {record.note}")
                    writer.write(record)
                    paragraphs += record.n_paragraphs
                scored += len(window.outputs)
                shown.update(task, completed=scored, rate=f"{paragraphs / max(time.monotonic() - started, 1e-9):,.0f} ¶/s")
                if stop.signal is not None and window.ends_chunk:
                    break
        writer.close()
        target.commit()
    except KeyboardInterrupt:  # a second Ctrl-C: whole documents are written, the rest is dropped
        writer.close()
        target.commit()
        stop.signal = stop.signal or signal.SIGINT
    except BrokenPipeError:
        _quiet_exit_on_broken_pipe()
    except OSError as error:
        target.abandon()
        _fail(f"cannot write the output: {error.strerror or error}")
    except (ModelLoadError, ValueError) as error:
        target.abandon()
        _fail(str(error))
    finally:
        stop.restore()
    if stop.signal is not None:
        if total is not None and scored >= total:
            stderr.print(f"stopped, but all {total} documents were already written", highlight=False)
        else:
            of = f" of {total}" if total is not None else ""
            stderr.print(f"stopped after {scored}{of} documents; rerun with --resume to continue", highlight=False)
        raise typer.Exit(128 + stop.signal)
    if scored == 0:  # an empty folder, a wrong extension, an empty JSONL file: said, not passed in silence
        _note(f"no documents in the inputs (folders are searched for {', '.join(FOLDER_SUFFIXES)} files)")
    if failures:
        stderr.print(f"{failures} document(s) could not be scored", highlight=False)
        raise typer.Exit(1)


def _score_with_ray(paths: list[str], output: Path | None, fmt: Format, level: Level, model_dir: Path | None, device: Device,
                    precision: Precision, batch_size: int | None, explain: bool, no_segment: bool, score_headings: bool,
                    max_bytes: int) -> None:
    """`--engine ray`: the same stages as a Ray Data pipeline (analyzer.ray_engine)."""
    from analyzer.engine import Options

    if output is None or fmt != Format.jsonl:
        _fail("--engine ray writes JSONL to --output DIR (shards and a manifest) or --output FILE.jsonl", 2)
    try:
        from analyzer.ray_engine import RaySettings, run_ray
        import ray  # noqa: F401
    except ImportError:
        _fail("--engine ray needs Ray Data: pip install 'editorial-tone-analyzer[ray]'", 2)
    missing = [p for p in paths if "://" not in p and p != STDIN and not os.path.exists(p)]
    if missing or STDIN in paths:
        _fail(f"--engine ray reads files, folders and URIs: {', '.join(missing) or 'not standard input'}", 2)
    settings = RaySettings(str(model_dir) if model_dir else None, "auto" if device == Device.auto else device.value,
                           precision.value, batch_size, explain,
                           Options(not no_segment, "jsonl", level.value, score_headings))
    documents, failures = run_ray(paths, str(output), settings, max_bytes, _note)
    stderr.print(f"{documents} documents scored with Ray into {safe_text(str(output))}", highlight=False)
    if failures:
        stderr.print(f"{failures} document(s) could not be scored", highlight=False)
        raise typer.Exit(1)


def _note(line: str) -> None:
    stderr.print(f"note: {safe_text(line)}", highlight=False)


def _quiet_exit_on_broken_pipe() -> None:
    """The reader of stdout went away (`| head`): stop quietly, as Unix tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise typer.Exit(128 + signal.SIGPIPE)


@app.command()
def compare(
    a: str = typer.Argument(..., metavar="A", help="The first version (e.g. the editorialized one)."),
    b: str = typer.Argument(..., metavar="B", help="The second version (e.g. the plain report)."),
    fmt: CompareFormat = typer.Option(CompareFormat.table, "--format", "-f", help="table, json or html (a self-contained side-by-side page)."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the HTML report here."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the chosen format here instead of stdout."),
    device: Device = typer.Option(Device.auto, "--device"),
    model_dir: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: the shipped tone-v2, inside the package)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No note on stderr of where the HTML report was written."),
) -> None:
    """Align the paragraphs of two versions of a story and contrast their tone and framing."""
    import json

    from analyzer.api import Analyzer
    from analyzer.model import ModelLoadError
    from analyzer.compare_table import render_comparison_table
    from analyzer.html_report import render_html

    _check_compare_outputs([a, b], output, html)
    try:
        documents = list(read_inputs([a, b]))
    except InputPathError as error:
        _fail(str(error), 2)
    if len(documents) != 2:
        _fail("compare takes two documents: two text or HTML files", 2)
    for document in documents:
        if isinstance(document, ErrorRecord):
            _fail(f"{document.doc_id}: {document.error}")
    analyzer = Analyzer(model_dir=model_dir, device=_checked_device(device))
    try:
        analyzer.scorer  # load (and verify) the model first: one that fails verification is exit 2, as in score
        comparison = analyzer.compare(*documents)
    except ModelLoadError as error:
        _fail(str(error), 2)
    except ValueError as error:  # the model produced a non-finite score
        _fail(str(error))
    if fmt == CompareFormat.json:
        text = json.dumps(comparison.to_dict(), ensure_ascii=False, indent=1) + "\n"
    elif fmt == CompareFormat.html:
        text = render_html(comparison)
    else:
        buffer = io.StringIO()  # a file: $COLUMNS wide, else PIPED_WIDTH, as score's tables
        console = (Console(file=buffer, width=table_width(buffer), force_terminal=False) if output
                   else Console(width=table_width(sys.stdout)))  # piped: as wide as score's tables
        render_comparison_table(comparison, console)
        text = console.file.getvalue() if output else None
    if output:
        _write_whole(output, text)
    elif text is not None:
        sys.stdout.write(text)
    if html:
        _write_whole(html, render_html(comparison))
        if not quiet:
            stderr.print(f"HTML report written to {safe_text(str(html.resolve()))}", highlight=False)


def _write_whole(path: Path, text: str) -> None:
    """As score writes: a temporary file beside the target, renamed into place (a link's target is written)."""
    target = Output(path)
    try:
        target.stream.write(text)
        target.commit()
    except OSError as error:
        target.abandon()
        _fail(f"cannot write {path}: {error.strerror or error}")


def _check_compare_outputs(inputs: list[str], output: Path | None, html: Path | None) -> None:
    """Usage errors (exit 2) before any work: an output that is an input, --output and --html on one file, a bad target."""
    from analyzer.reading import same_file

    if output is not None and html is not None and same_file(output, html):
        _fail(f"--output and --html both name {output}; give them different files", 2)
    for option, target in (("--output", output), ("--html", html)):
        if target is None:
            continue
        try:
            check_target(target, option)
        except OutputError as error:
            _fail(str(error), 2)
        _refuse_an_input_as_output(inputs, target, f"{option} ")


def main() -> None:
    """The console entry point: click's own handling, except that a usage error is one line
    (`error: ...`, exit 2) like every other message of the tool, not click's usage block."""
    # click's classes as typer raises them (typer >= 0.24 vendors its own copy of click)
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    click_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    try:
        status = app(standalone_mode=False)
    except usage_error as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # a bare `analyzer score`: the help, as click shows it
            error.show()
            sys.exit(error.exit_code)
        command = error.ctx.command_path if error.ctx else "analyzer"
        stderr.print(f"[red]error:[/] {safe_text(error.format_message())} (see {command} --help)", highlight=False)
        sys.exit(2)
    except click_error as error:
        error.show()
        sys.exit(error.exit_code)
    except typer.Abort:
        stderr.print("Aborted!", highlight=False)
        sys.exit(1)
    sys.exit(status if isinstance(status, int) else 0)
