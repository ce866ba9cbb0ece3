"""The `analyzer` command line: `score` for batches of articles, `compare` for two versions.

Exit status: 0 all scored, 1 some document failed (each has an error record and a stderr
line), 2 usage error (bad option, missing path).
"""

from __future__ import annotations

import io
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from analyzer.reading import InputPathError, read_inputs
from analyzer.records import ErrorRecord
from analyzer.writers import Writer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
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


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """User text (ids, paths, messages) as it may reach a terminal: control characters escaped
    (no escape sequence from an id reaches the terminal) and never read as rich markup."""
    return escape(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text))


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


def _progress(quiet: bool) -> Progress:
    """A spinner with a document count on stderr, shown only to a person watching a terminal."""
    return Progress(SpinnerColumn(), TextColumn("scored {task.completed} documents"), TimeElapsedColumn(),
                    console=stderr, transient=True, disable=quiet or not sys.stderr.isatty())


@app.command()
def score(
    paths: list[str] = typer.Argument(..., help="Files (.txt .md .html .jsonl), folders (recursive) or - for stdin."),
    fmt: Format = typer.Option(Format.jsonl, "--format", "-f", help="Output format (html: one highlighted page, implies --explain)."),
    level: Level = typer.Option(Level.document, "--level", "-l", help="One record per document, per paragraph or per sentence (with paragraph_index and offsets)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
    batch_size: int = typer.Option(128, "--batch-size", min=1, help="Most paragraphs in one forward pass."),
    device: Device = typer.Option(Device.auto, "--device", help="auto picks CUDA when present."),
    no_segment: bool = typer.Option(False, "--no-segment", help="Each input text is one unit (for single sentences)."),
    model_dir: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: the shipped models/tone-v2)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Processes that segment and tokenize documents (default: up to 16 on CUDA, one per core but one; 1 on the CPU)."),
    explain: bool = typer.Option(False, "--explain", help="Add each paragraph's evidence: the words and the sentence that carry its scores."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Score every paragraph (or each text, with --no-segment) and write one record per paragraph or document."""
    from analyzer.api import Analyzer
    from analyzer.model import ModelLoadError

    try:
        records = read_inputs(paths)
    except InputPathError as error:
        _fail(error.format_message(), 2)
    analyzer = Analyzer(model_dir=model_dir, device=_checked_device(device), batch_size=batch_size, workers=workers)
    failures = 0
    stream = output.open("w", encoding="utf-8") if output else sys.stdout
    writer = Writer(stream, fmt.value, level.value)
    progress = _progress(quiet)
    try:
        with progress as shown:
            task = shown.add_task("score", total=None)
            explain = explain or fmt == Format.html  # the page exists to show the evidence
            for record in analyzer.score(records, segment=not no_segment, on_scored=lambda n: shown.advance(task, n), explain=explain):
                if isinstance(record, ErrorRecord):
                    failures += 1
                    stderr.print(f"[red]error:[/] {safe_text(record.doc_id)}: {safe_text(record.error)}", highlight=False)
                writer.write(record)
        writer.close()
    except (ModelLoadError, ValueError) as error:
        _fail(str(error))
    finally:
        if output:
            stream.close()
    if failures:
        stderr.print(f"{failures} document(s) could not be scored", highlight=False)
        raise typer.Exit(1)


@app.command()
def compare(
    a: str = typer.Argument(..., help="The first version (e.g. the editorialized one)."),
    b: str = typer.Argument(..., help="The second version (e.g. the plain report)."),
    fmt: CompareFormat = typer.Option(CompareFormat.table, "--format", "-f", help="table, json or html (a self-contained side-by-side page)."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the HTML report here."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the chosen format here instead of stdout."),
    device: Device = typer.Option(Device.auto, "--device"),
    model_dir: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: the shipped models/tone-v2)."),
) -> None:
    """Align the paragraphs of two versions of a story and contrast their tone and framing."""
    import json

    from analyzer.api import Analyzer
    from analyzer.model import ModelLoadError
    from analyzer.compare_table import render_comparison_table
    from analyzer.html_report import render_html

    try:
        documents = list(read_inputs([a, b]))
    except InputPathError as error:
        _fail(error.format_message(), 2)
    if len(documents) != 2:
        _fail("compare takes two documents: two text or HTML files", 2)
    for document in documents:
        if isinstance(document, ErrorRecord):
            _fail(f"{document.doc_id}: {document.error}")
    try:
        comparison = Analyzer(model_dir=model_dir, device=_checked_device(device)).compare(*documents)
    except (ModelLoadError, ValueError) as error:
        _fail(str(error))
    if fmt == CompareFormat.json:
        text = json.dumps(comparison.to_dict(), ensure_ascii=False, indent=1) + "\n"
    elif fmt == CompareFormat.html:
        text = render_html(comparison)
    else:
        console = Console(file=io.StringIO(), width=160, force_terminal=False) if output else Console()
        render_comparison_table(comparison, console)
        text = console.file.getvalue() if output else None
    if output:
        output.write_text(text, encoding="utf-8")
    elif text is not None:
        sys.stdout.write(text)
    if html:
        html.write_text(render_html(comparison), encoding="utf-8")
        stderr.print(f"HTML report written to {safe_text(str(html.resolve()))}", highlight=False)


def main() -> None:
    app()
