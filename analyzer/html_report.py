"""A self-contained HTML side-by-side report of a comparison.

One file, no network: inline CSS, an inline SVG chart, no scripts, no fonts or images to fetch.
Every piece of document text goes through `escape_text` (`html.escape`, control characters
made visible first). The DOM carries data attributes (`data-row`, `data-a-index`,
`data-b-index`, `data-summary`, `data-gap`, ...) so that tests and tools can read the page back.
"""

from __future__ import annotations

from html import escape as escape_html
from string import Template

from analyzer.compare import TONE_MARK, Comparison, Row, aggregates_side_by_side
from analyzer.records import ParagraphScore
from analyzer.writers import visible_controls


def escape_text(text: str) -> str:
    """User text for HTML: markup characters escaped, control characters (which HTML forbids) made visible."""
    return escape_html(visible_controls(text))

SERIES = {"a": ("#b35900", ""), "b": ("#1f5f99", "5 3")}  # colour, dash pattern (print-safe)
CHART_W, CHART_H, PAD = 640, 170, 34


def opinion_colour(prob: float) -> str:
    """Reporting is near white, opinion a pale warm amber: light enough to print, to read on, and
    to let the deeper evidence marks stand out."""
    prob = min(max(prob, 0.0), 1.0)
    return f"hsl(36, 80%, {98 - 10 * prob:.1f}%)"


def _attrs(**values: object) -> str:
    """HTML attributes from keyword arguments (data_x -> data-x), escaped; None is left out."""
    parts = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        key = name.rstrip("_").replace("_", "-")
        parts.append(key if value is True else f'{key}="{escape_text(str(value))}"')
    return " ".join(parts)


# --------------------------------------------------------------------------- cells


def evidence_weight_scale(paragraphs) -> float:
    """The largest opinion evidence weight of a page, so that highlight intensity compares across paragraphs."""
    weights = [abs(s.weight) for p in paragraphs if p.evidence for s in p.evidence.opinion]
    return max(weights, default=1.0) or 1.0


SENTIMENT_MARKS = 3  # sentiment words underlined per paragraph: more only clutters the text


def highlighted(p: ParagraphScore, scale: float) -> str:
    """The paragraph text with its evidence marked: opinion words on a marker-yellow ground
    (stronger = deeper), and, when the paragraph has a sentiment, its strongest words in that
    direction underlined red (negative) or green (positive); weights on hover."""
    if p.evidence is None:
        return escape_text(p.text)
    opinion = [(s.start, s.end, s.weight) for s in p.evidence.opinion]
    direction = {"negative": -1, "positive": 1}.get(p.sentiment.label, 0)
    sentiment = [(s.start, s.end, s.weight) for s in p.evidence.sentiment if s.weight * direction > 0][:SENTIMENT_MARKS]
    cuts = sorted({0, len(p.text), *(x for s, e, _ in opinion + sentiment for x in (s, e))})
    parts = []
    for start, end in zip(cuts, cuts[1:]):
        piece = escape_text(p.text[start:end])
        op = next((w for s, e, w in opinion if s <= start and end <= e), None)
        se = next((w for s, e, w in sentiment if s <= start and end <= e), None)
        if op is None and se is None:
            parts.append(piece)
            continue
        classes, styles, titles = ["ev"], [], []
        if op is not None:
            classes.append("ev-op")
            styles.append(f"background-color: hsla(50, 100%, 50%, {0.3 + 0.7 * min(abs(op) / scale, 1):.2f})")
            titles.append(f"opinion evidence {op:+.3f}")
        if se is not None:
            classes.append("ev-neg" if se < 0 else "ev-pos")
            titles.append(f"sentiment evidence {se:+.3f}")
        parts.append(f'<span {_attrs(class_=" ".join(classes), style="; ".join(styles) or None, title="; ".join(titles), data_weight=f"{op if op is not None else se:.4f}")}>{piece}</span>')
    return "".join(parts)


def _scores_line(p: ParagraphScore) -> str:
    mark = TONE_MARK.get(p.tone, "●")
    return (
        f'<div class="meta"><span class="tone tone-{escape_text(p.tone)}">{mark} {escape_text(p.tone)} tone</span>'
        f'<span class="op">opinion {p.opinion.prob:.2f}</span>'
        f'<span class="sent">sentiment {escape_text(p.sentiment.label)} {p.sentiment.score:+.2f}</span></div>'
    )


def paragraph_cell(p: ParagraphScore, side: str, moved: bool = False, scale: float = 1.0) -> str:
    """A paragraph: coloured by opinion probability, bordered and marked by tone; others greyed."""
    if p.kind != "body":
        attrs = _attrs(class_=f"para other kind-{p.kind}", data_side=side, data_kind=p.kind, data_index=p.index)
        return f'<td {attrs}><span class="kind">{escape_text(p.kind)}</span><p>{escape_text(p.text)}</p></td>'
    attrs = _attrs(
        class_=f"para body tone-{p.tone}{' moved' if moved else ''}",
        style=f"background-color: {opinion_colour(p.opinion.prob)}",
        data_side=side,
        data_kind="body",
        data_index=p.index,
        data_opinion=f"{p.opinion.prob:.3f}",
        data_label=p.opinion.label,
        data_tone=p.tone,
        data_moved=moved,
    )
    note = '<div class="moved-note">↕ moved: B has this paragraph out of A\'s order</div>' if moved else ""
    return f"<td {attrs}>{_scores_line(p)}<p>{highlighted(p, scale)}</p>{note}</td>"


def gap_cell(side: str, other: ParagraphScore) -> str:
    """The empty cell facing an unmatched paragraph (blank beside headings and boilerplate)."""
    label = f"only in {'B' if side == 'a' else 'A'}" if other.kind == "body" else ""
    return f'<td class="gap{"" if label else " blank"}" data-gap data-side="{side}"><span>{label}</span></td>'


def _index_cell(p: ParagraphScore | None) -> str:
    return f'<td class="idx">{"" if p is None else p.index}</td>'


def _similarity_cell(row: Row) -> str:
    if row.pair is None:
        return '<td class="sim"></td>'
    pair = row.pair
    return (
        f'<td class="sim" title="lexical {pair.lexical:.2f}'
        f'{"" if pair.margin is None else f", embedding margin {pair.margin:.2f}"}">'
        f"<b>{pair.similarity:.2f}</b><small>{escape_text(pair.match)}</small>"
        f'<small>Δop {pair.opinion_delta:+.2f}</small></td>'
    )


def row_html(row: Row, scale: float) -> str:
    """One aligned row: A | similarity | B, an empty gap cell where a side has nothing."""
    cells_a = paragraph_cell(row.a, "a", scale=scale) if row.a else gap_cell("a", row.b)
    cells_b = paragraph_cell(row.b, "b", row.moved, scale) if row.b else gap_cell("b", row.a)
    attrs = _attrs(
        class_=f"row {row.kind}",
        data_row=row.kind,
        data_a_index=row.a.index if row.a else None,
        data_b_index=row.b.index if row.b else None,
        data_similarity=f"{row.pair.similarity:.3f}" if row.pair else None,
        data_moved=row.moved,
    )
    return f"<tr {attrs}>{_index_cell(row.a)}{cells_a}{_similarity_cell(row)}{cells_b}{_index_cell(row.b)}</tr>"


# --------------------------------------------------------------------------- header parts


def aggregates_html(comparison: Comparison) -> str:
    body = "".join(
        f"<tr><th>{escape_text(label)}</th><td>{escape_text(a)}</td><td>{escape_text(b)}</td></tr>"
        for label, a, b in aggregates_side_by_side(comparison)
    )
    return (
        '<table class="aggregates" data-aggregates><thead><tr><th></th><th>A</th><th>B</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _series_points(body: list[ParagraphScore]) -> list[tuple[float, float, ParagraphScore]]:
    """Chart coordinates: x = position along the article (0..1), y = opinion probability."""
    span = max(len(body) - 1, 1)
    width, height = CHART_W - 2 * PAD, CHART_H - 2 * PAD
    return [
        (PAD + width * (k / span if len(body) > 1 else 0.5), PAD + height * (1 - p.opinion.prob), p)
        for k, p in enumerate(body)
    ]


def _stroke(side: str) -> str:
    colour, dash = SERIES[side]
    return f'stroke="{colour}" stroke-width="2"' + (f' stroke-dasharray="{dash}"' if dash else "")


def _series_svg(side: str, body: list[ParagraphScore], shared: set[int]) -> str:
    colour = SERIES[side][0]
    points = _series_points(body)
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" stroke="{colour}" stroke-width="1.5" '
        f'fill="{colour if p.index in shared else "#fff"}"><title>{side.upper()} ¶{p.index}: opinion '
        f"{p.opinion.prob:.2f}{' (shared)' if p.index in shared else ' (only here)'}</title></circle>"
        for x, y, p in points
    )
    return f'<g data-series="{side}"><polyline points="{line}" fill="none" {_stroke(side)}/>{dots}</g>'


def chart_svg(comparison: Comparison) -> str:
    """Opinion probability along each article; filled dots are shared paragraphs."""
    top, bottom, left, right = PAD, CHART_H - PAD, PAD, CHART_W - PAD
    mid = (top + bottom) / 2
    axes = (
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#555"/>'
        f'<line x1="{left}" y1="{mid}" x2="{right}" y2="{mid}" stroke="#bbb" stroke-dasharray="2 3"/>'
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">1</text>'
        f'<text x="{left - 6}" y="{mid + 4}" text-anchor="end">0.5</text>'
        f'<text x="{left - 6}" y="{bottom + 4}" text-anchor="end">0</text>'
        f'<text x="{left}" y="{bottom + 18}">start of article</text>'
        f'<text x="{right}" y="{bottom + 18}" text-anchor="end">end of article</text>'
        f'<text x="{left}" y="{top - 14}">opinion probability of each body paragraph</text>'
    )
    legend = "".join(
        f'<g transform="translate({right - 150 + 80 * k},{top - 18})">'
        f'<line x1="0" y1="-4" x2="22" y2="-4" {_stroke(side)}/><text x="27" y="0">{side.upper()}</text></g>'
        for k, side in enumerate(("a", "b"))
    )
    series = _series_svg("a", comparison.a.body, {p.a_index for p in comparison.pairs}) + _series_svg(
        "b", comparison.b.body, {p.b_index for p in comparison.pairs}
    )
    return (
        f'<svg class="chart" data-chart xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" '
        f'width="{CHART_W}" height="{CHART_H}" role="img" aria-label="opinion probability along each article">'
        f"{axes}{legend}{series}</svg>"
    )


def summary_html(comparison: Comparison) -> str:
    items = "".join(f"<li>{escape_text(sentence)}</li>" for sentence in comparison.summary)
    return f'<section id="summary" class="summary" data-summary><h2>In short</h2><ul>{items}</ul></section>'


SCALE_LEGEND = (
    "Cell colour: opinion probability "
    + "".join(
        f'<span class="swatch" style="background-color: {opinion_colour(v)}">{v:.1f}</span>' for v in (0, 0.25, 0.5, 0.75, 1)
    )
    + ' · left border and mark: tone (<span class="tone tone-negative">▼ negative</span>, '
    '<span class="tone tone-neutral">● neutral</span>, <span class="tone tone-positive">▲ positive</span>)'
    " · greyed: headline, headings, boilerplate (not counted)"
)
EVIDENCE_LEGEND = (
    'Evidence: <span class="ev ev-op" style="background-color: hsla(50, 100%, 50%, 0.8)">words that carry the opinion</span> '
    '(deeper = weighs more), <span class="ev ev-neg">negative</span> and <span class="ev ev-pos">positive</span> '
    "words underlined; hover a word for its weight"
)
LEGEND = f'<p class="legend">{SCALE_LEGEND} · ↕ moved · Δop = B − A<br>{EVIDENCE_LEGEND}</p>'

STYLE = """
:root { --ink: #1d1d1f; --muted: #6b6b70; --line: #d9d9de; --neg: #b3261e; --pos: #1e7b45; --neu: #8a8a90; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px; color: var(--ink); background: #fff;
       font: 15px/1.5 Georgia, "Times New Roman", serif; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 0 0 6px; }
.ids, .legend, .meta, small, .kind, .gap, .aggregates, .idx, .sim, svg text { font-family: Helvetica, Arial, sans-serif; }
.ids { color: var(--muted); margin: 0 0 16px; }
figure { margin: 0; }
.overview { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; margin-bottom: 16px; }
.aggregates { border-collapse: collapse; font-size: 13px; }
.aggregates th, .aggregates td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; }
.aggregates thead th { border-bottom: 2px solid var(--ink); }
svg.chart { max-width: 100%; height: auto; } svg text { font-size: 11px; fill: #444; }
.summary { border-left: 4px solid var(--ink); padding: 8px 14px; background: #f6f6f8; margin-bottom: 16px; }
.summary ul { margin: 0; padding-left: 18px; }
.legend { font-size: 12px; color: var(--muted); }
.swatch { display: inline-block; padding: 0 6px; margin: 0 1px; border: 1px solid var(--line); }
table.alignment { width: 100%; border-collapse: separate; border-spacing: 0 6px; table-layout: fixed; }
table.alignment thead th { font: bold 13px Helvetica, Arial, sans-serif; text-align: left; border-bottom: 2px solid var(--ink); padding: 4px 8px; }
col.idx { width: 36px; } col.sim { width: 92px; }
tr.row { break-inside: avoid; page-break-inside: avoid; }
td { vertical-align: top; }
td.idx { color: var(--muted); font-size: 12px; text-align: center; padding-top: 10px; }
td.sim { text-align: center; font-size: 12px; padding-top: 8px; }
td.sim small { display: block; color: var(--muted); }
td.para { padding: 8px 12px; border: 1px solid var(--line); border-left-width: 5px; }
td.para p { margin: 4px 0 0; }
td.para.tone-negative { border-left-color: var(--neg); }
td.para.tone-positive { border-left-color: var(--pos); }
td.para.tone-neutral { border-left-color: var(--neu); }
td.para.moved { outline: 2px dashed #7a5cc7; outline-offset: -3px; }
.moved-note { color: #5b3fa6; font: 12px Helvetica, Arial, sans-serif; margin-top: 4px; }
td.para.other { color: #8d8d92; background: #f7f7f7; border-style: dotted; font-size: 14px; }
td.para.kind-heading p, td.para.kind-headline p { font-weight: bold; }
.kind { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; }
.meta { font-size: 11.5px; color: #444; display: flex; flex-wrap: wrap; gap: 10px; }
.tone-negative .tone, span.tone-negative { color: var(--neg); }
.tone-positive .tone, span.tone-positive { color: var(--pos); }
.tone { font-weight: bold; }
td.gap { border: 1px dashed var(--line); background: repeating-linear-gradient(135deg, #fff 0 8px, #f5f5f7 8px 16px);
         color: var(--muted); font-size: 12px; text-align: center; vertical-align: middle; }
td.gap.blank { background: none; border-color: transparent; }
.ev { border-radius: 2px; padding: 0 1px; }
.ev-op { box-shadow: inset 0 -2px hsl(28, 90%, 42%); }
.ev-neg { text-decoration: underline 2px var(--neg); text-underline-offset: 3px; }
.ev-pos { text-decoration: underline 2px var(--pos); text-underline-offset: 3px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  .summary, td.gap { background: #fff; }
  td.para, .swatch, .ev { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead { display: table-header-group; }
  tr.row, .summary, .overview { break-inside: avoid; page-break-inside: avoid; }
  @page { margin: 14mm; }
}
"""

HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$style</style>
</head>
<body>
"""  # shared with analyzer.html_document

PAGE = Template(
    HEAD + """<header>
<h1>$title</h1>
<p class="ids">A: <b>$a_id</b> · B: <b>$b_id</b> · model $model · pairs need similarity ≥ $threshold</p>
</header>
<section class="overview">$aggregates<figure>$chart</figure></section>
$summary
$legend
<table class="alignment" data-alignment>
<colgroup><col class="idx"><col><col class="sim"><col><col class="idx"></colgroup>
<thead><tr><th>A¶</th><th>Version A</th><th>similarity</th><th>Version B</th><th>B¶</th></tr></thead>
<tbody>
$rows
</tbody>
</table>
</body>
</html>
"""
)


def render_html(comparison: Comparison) -> str:
    """The whole report as one self-contained HTML page."""
    a, b = comparison.a, comparison.b
    scale = evidence_weight_scale(a.paragraphs + b.paragraphs)
    return PAGE.substitute(
        title="How two versions tell the story",
        style=STYLE,
        a_id=escape_text(a.doc_id),
        b_id=escape_text(b.doc_id),
        model=escape_text(a.model if a.model == b.model else f"{a.model} / {b.model}"),
        threshold=f"{comparison.threshold:.2f}",
        aggregates=aggregates_html(comparison),
        chart=chart_svg(comparison),
        summary=summary_html(comparison),
        legend=LEGEND,
        rows="\n".join(row_html(row, scale) for row in comparison.rows()),
    )
