"""Writers for scored records: JSONL, JSON, CSV (streaming) and a rich terminal table.

Each writer takes records one at a time, so output streams as documents are scored.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analyzer.records import DocumentScore, ErrorRecord

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible_controls(text: str) -> str:
    """Control characters as visible escapes ("\\x1b"): an id or a text never moves a terminal's
    cursor or colours (escape sequences) and never puts a character HTML forbids in a report."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def safe_text(text: str) -> str:
    """User text (ids, paths, messages, paragraphs) for a rich console: controls escaped and
    never read as rich markup."""
    return escape(visible_controls(text))

Record = DocumentScore | ErrorRecord

PARAGRAPH_COLUMNS = ["doc_id", "index", "kind", "text", "sentiment", "p_negative", "p_neutral", "p_positive",
                     "sentiment_score", "opinion", "opinion_prob", "tone", "model", "encoding", "error"]
SENTENCE_COLUMNS = ["doc_id", "paragraph_index", "start", "end", "kind", "text", "sentiment", "p_negative", "p_neutral",
                    "p_positive", "sentiment_score", "opinion", "opinion_prob", "tone", "attributed", "model", "encoding", "error"]
DOCUMENT_COLUMNS = ["doc_id", "n_paragraphs", "n_body", "opinion_share", "mean_opinion_prob", "mean_sentiment_score",
                    "tone_negative", "tone_neutral", "tone_positive", "model", "encoding", "error"]
COLUMNS = {"paragraph": PARAGRAPH_COLUMNS, "sentence": SENTENCE_COLUMNS, "document": DOCUMENT_COLUMNS}


def rows(record: Record, level: str, with_paragraphs: bool = False) -> list[dict[str, Any]]:
    """The output records of one document: one per paragraph, or one for the document."""
    if isinstance(record, ErrorRecord):
        return [record.to_dict()]
    if level == "paragraph":
        found = [p.to_dict(with_sentences=with_paragraphs) for p in record.paragraphs]
    elif level == "sentence":
        found = [s for p in record.paragraphs for s in p.sentence_dicts()]
    else:
        found = [record.to_dict(with_paragraphs=with_paragraphs)]
    if record.encoding != "utf-8":  # a guessed legacy encoding is said wherever the text shows
        for row in found:
            row["encoding"] = record.encoding
    return found


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP's advice)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A nested output record as one CSV row (text cells neutralised: see `_cell`)."""
    return {key: _cell(value) for key, value in _nested_flat(row).items()}


def _nested_flat(row: dict[str, Any]) -> dict[str, Any]:
    """The CSV columns of a row; `encoding` stays empty for UTF-8 text (as in JSON, where it is absent)."""
    if "error" in row:
        return {"doc_id": row["doc_id"], "error": row["error"]}
    return {**_scores_flat(row), "encoding": row.get("encoding", "")}


def _scores_flat(row: dict[str, Any]) -> dict[str, Any]:
    if "sentiment" in row:
        probs = row["sentiment"]["probs"]
        keys = ("doc_id", "paragraph_index", "start", "end", "kind", "text", "attributed", "model") if "paragraph_index" in row else ("doc_id", "index", "kind", "text", "model")
        return {**{k: row[k] for k in keys},
                "sentiment": row["sentiment"]["label"], "p_negative": probs["negative"], "p_neutral": probs["neutral"],
                "p_positive": probs["positive"], "sentiment_score": row["sentiment"]["score"],
                "opinion": row["opinion"]["label"], "opinion_prob": row["opinion"]["prob"], "tone": row["tone"]["label"]}
    tones = row["tone_distribution"]
    return {**{k: row[k] for k in ("doc_id", "n_paragraphs", "n_body", "opinion_share", "mean_opinion_prob", "mean_sentiment_score", "model")},
            **{f"tone_{label}": share for label, share in tones.items()}}


STREAMING_FORMATS = ("jsonl", "json", "csv")  # serialised record by record (in the workers, when there are any)


@dataclass
class Serialized:
    """One input record's output rows, already in the output format (made where the record is made).

    jsonl: lines; json: the rows' JSON joined by ",\n" (the writer adds the brackets and the
    separator before it); csv: the rows without the header.
    """

    doc_id: str
    error: str | None
    note: str | None
    n_paragraphs: int
    n_rows: int
    text: str


class Serializer:
    """Turns records into `Serialized` text for one streaming format and level."""

    def __init__(self, fmt: str, level: str):
        if fmt not in STREAMING_FORMATS:
            raise ValueError(f"{fmt} output is written at the end, not record by record")
        self.fmt, self.level = fmt, level
        self._buffer = io.StringIO()
        self._csv = csv.DictWriter(self._buffer, COLUMNS[level]) if fmt == "csv" else None

    def __call__(self, record: Record) -> Serialized:
        row_dicts = rows(record, self.level, with_paragraphs=self.fmt == "json")
        if self.fmt == "jsonl":
            text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in row_dicts)
        elif self.fmt == "json":
            text = ",\n".join(json.dumps(row, ensure_ascii=False, indent=1) for row in row_dicts)
        else:
            self._buffer.seek(0)
            self._buffer.truncate()
            self._csv.writerows(_flat(row) for row in row_dicts)
            text = self._buffer.getvalue()
        return Serialized(record.doc_id, record.error, record.note, record.n_paragraphs, len(row_dicts), text)


class Writer:
    """Writes records (or their `Serialized` text) in one format; `close()` finishes the output (closing bracket, table)."""

    def __init__(self, stream: TextIO, fmt: str, level: str):
        self.stream, self.fmt, self.level = stream, fmt, level
        self.count = 0
        self.serializer = Serializer(fmt, level) if fmt in STREAMING_FORMATS else None
        self._table_rows: list[dict[str, Any]] = []
        self._documents: list[Record] = []  # html: one page for all documents, written at the end
        if fmt == "csv":
            csv.DictWriter(stream, COLUMNS[level]).writeheader()

    def write(self, record: Record | Serialized) -> None:
        if self.fmt == "html":
            self._documents.append(record)
        elif self.fmt == "table":
            self._table_rows += rows(record, self.level)
        else:
            serialized = record if isinstance(record, Serialized) else self.serializer(record)
            if serialized.n_rows:
                if self.fmt == "json":
                    self.stream.write(("[\n" if self.count == 0 else ",\n") + serialized.text)
                else:
                    self.stream.write(serialized.text)
                self.count += serialized.n_rows
            self.stream.flush()
            return
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.stream.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.fmt == "table":
            render_table(self._table_rows, self.level, Console(file=self.stream, width=table_width(self.stream)))
        elif self.fmt == "html":
            from analyzer.html_document import render_documents

            self.stream.write(render_documents(self._documents))
        self.stream.flush()


def _colour(value: float | None, high: str = "red") -> str:
    if value is None:
        return "-"
    return f"[{high}]{value:.2f}[/]" if value >= 0.5 else f"{value:.2f}"


def _evidence_cell(evidence: dict | None) -> str:
    """The top opinion phrases, else the top sentiment phrases with their sign."""
    if not evidence:
        return ""
    if evidence["opinion"]:
        return ", ".join(f"“{safe_text(s['text'])}”" for s in evidence["opinion"][:3])
    return ", ".join(f"{'+' if s['weight'] > 0 else '−'}“{safe_text(s['text'])}”" for s in evidence["sentiment"][:3])


TABLE_TEXT_CHARS = 160  # a paragraph's text in a table cell, cut at a word boundary


def clip(text: str, limit: int = TABLE_TEXT_CHARS) -> str:
    """`text` cut to about `limit` characters at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"


def short_names(doc_ids: Iterable[str]) -> dict[str, str]:
    """Document names for a table: paths without the folders they all share, so that rows differ where the names do."""
    ids = list(dict.fromkeys(doc_ids))
    paths = [i for i in ids if "/" in i]
    if len(paths) < 2:
        return {i: i for i in ids}
    common = os.path.commonpath(paths) if all(p.startswith("/") for p in paths) or not any(p.startswith("/") for p in paths) else ""
    cut = len(common) + 1 if common else 0
    return {i: i[cut:] if i in paths and cut else i for i in ids}


WIDE_TABLE = 120  # console columns from which paragraph tables also show the sentiment and opinion labels
PIPED_WIDTH = 160  # a table written to a file or pipe, unless $COLUMNS says otherwise


def table_width(stream: TextIO) -> int | None:
    """The terminal's width (None: rich asks it), else $COLUMNS, else PIPED_WIDTH."""
    if stream.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH


def render_table(table_rows: Iterable[dict[str, Any]], level: str, console: Console) -> None:
    """A readable terminal table sized to the console: one row per paragraph or per document.

    Short columns never wrap; the text (and evidence) take the rest. Under WIDE_TABLE columns the
    sentiment and opinion labels are left out: the signed score and the coloured P(op) say the same.
    """
    table = Table(show_lines=False, header_style="bold")
    table_rows = list(table_rows)
    names = short_names(row["doc_id"] for row in table_rows)
    if level in ("paragraph", "sentence"):
        explained = any("evidence" in row for row in table_rows)
        wide = console.width >= WIDE_TABLE
        with_doc = wide or len(names) > 1  # a narrow table of one document leaves its name out
        columns = (["doc"] if with_doc else []) + ["#", "kind", "text"] + (["sentiment"] if wide else []) + ["score"]
        columns += (["opinion"] if wide else []) + ["P(op)", "tone"]
        for column in columns + (["evidence"] if explained else []):
            if column in ("text", "evidence"):
                table.add_column(column, overflow="fold", ratio=2 if column == "text" else 1, min_width=12,
                                 max_width=60 if column == "text" else 30)
            else:
                table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=(24 if wide else 12) if column == "doc" else None)
        for row in table_rows:
            doc = [safe_text(names[row["doc_id"]])] if with_doc else []
            if "error" in row:
                table.add_row(*doc, "", "[red]error[/]", safe_text(row["error"]), *[""] * (len(columns) - 3 - len(doc) + explained))
                continue
            dim = "" if row["kind"] == "body" else "[dim]"
            number = str(row["index"]) if "index" in row else f"{row['paragraph_index']}:{row['start']}"
            cells = [*doc, number, row["kind"], f"{dim}{safe_text(clip(row['text']))}"]
            cells += ([row["sentiment"]["label"]] if wide else []) + [f"{row['sentiment']['score']:+.2f}"]
            cells += ([row["opinion"]["label"]] if wide else []) + [_colour(row["opinion"]["prob"]), row["tone"]["label"]]
            if explained:
                cells.append(_evidence_cell(row.get("evidence")))
            table.add_row(*cells)
    else:
        for column in ("doc", "body ¶", "opinion share", "mean P(op)", "mean sentiment", "tone neg/neu/pos"):
            table.add_column(column)
        for row in table_rows:
            if "error" in row:
                table.add_row(safe_text(names[row["doc_id"]]), "[red]error[/]", safe_text(row["error"]), "", "", "")
                continue
            tones = row["tone_distribution"]
            sentiment = row["mean_sentiment_score"]
            table.add_row(safe_text(names[row["doc_id"]]), str(row["n_body"]), _colour(row["opinion_share"]), _colour(row["mean_opinion_prob"]),
                          "-" if sentiment is None else f"{sentiment:+.2f}",
                          f"{tones['negative']:.2f} / {tones['neutral']:.2f} / {tones['positive']:.2f}")
    console.print(table)
