"""Terminal rendering of a comparison with rich: aggregates, aligned rows, summary."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from analyzer.compare import TONE_MARK, Comparison, Row, aggregates_side_by_side
from analyzer.records import ParagraphScore
from analyzer.writers import short_names, visible_controls

SNIPPET = 60
TONE_STYLE = {"negative": "red", "positive": "green", "neutral": "dim"}


def snippet(text: str, width: int = SNIPPET) -> str:
    """One line of a paragraph, cut at a word where possible."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1].rsplit(" ", 1)[0] or flat[: width - 1]
    return cut + "…"


def _index_cell(p: ParagraphScore | None, moved: bool = False) -> Text:
    if p is None:
        return Text("")
    return Text(f"{p.index}{' ↕' if moved else ''}", style="bold yellow" if moved else "")


def _text_cell(p: ParagraphScore | None) -> Text:
    if p is None:
        return Text("—", style="dim")
    if p.kind != "body":
        return Text(f"[{p.kind}] {visible_controls(snippet(p.text))}", style="dim italic")
    return Text(visible_controls(snippet(p.text)))


def _scores_cell(p: ParagraphScore | None) -> Text:
    """Opinion probability (bold when labelled opinion) and a tone mark: '0.72 ▼'."""
    if p is None or p.kind != "body":
        return Text("")
    cell = Text(f"{p.opinion.prob:.2f}", style="bold magenta" if p.opinion.label == "opinion" else "")
    return cell.append(f" {TONE_MARK.get(p.tone, '?')}", style=TONE_STYLE.get(p.tone, ""))


def _similarity_cell(row: Row) -> Text:
    if row.pair is None:
        return Text("")
    return Text(f"{row.pair.similarity:.2f}", style="cyan")


def rows_table(comparison: Comparison) -> Table:
    """One line per aligned row; unmatched paragraphs face a dash, moved pairs are marked ↕."""
    table = Table(title="Aligned paragraphs (A | B)", caption="op: P(opinion), bold when labelled opinion; tone ▼ negative ● neutral ▲ positive",
                  expand=True)
    for header, justify in (
        ("A¶", "right"), ("A text", "left"), ("op A", "right"), ("sim", "right"),
        ("B¶", "right"), ("B text", "left"), ("op B", "right"),
    ):
        is_text = "text" in header
        table.add_column(header, justify=justify, no_wrap=True, overflow="ellipsis" if is_text else "fold",
                         ratio=1 if is_text else None)
    for row in comparison.rows():
        table.add_row(
            _index_cell(row.a), _text_cell(row.a), _scores_cell(row.a), _similarity_cell(row),
            _index_cell(row.b, row.moved), _text_cell(row.b), _scores_cell(row.b),
        )
    return table


def aggregates_table(comparison: Comparison) -> Table:
    """The documents' aggregates side by side; their names without the folders both share, folded
    rather than cut when too long, so that A and B stay distinguishable."""
    table = Table(title="Aggregates (body paragraphs)")
    for header in ("", "A", "B"):
        table.add_column(header, overflow="fold")
    names = short_names([comparison.a.doc_id, comparison.b.doc_id])
    for label, a_value, b_value in aggregates_side_by_side(comparison, names):
        table.add_row(*(Text(visible_controls(value)) for value in (label, a_value, b_value)))  # names are never markup
    return table


def render_comparison_table(comparison: Comparison, console: Console) -> None:
    """Print the aggregates, the aligned rows and the summary to a rich console."""
    console.print(aggregates_table(comparison))
    console.print(rows_table(comparison))
    # a Text: the summary quotes the documents' words, which must not be read as markup
    console.print(Panel(Text("\n".join(visible_controls(f"• {s}") for s in comparison.summary)), title="Summary"))
