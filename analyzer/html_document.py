"""A self-contained HTML page of scored documents, each paragraph with its evidence highlighted.

For reading one article (or a few) rather than comparing two versions: `analyzer score
--format html` (which implies --explain). Same page conventions as the compare report
(`analyzer.html_report`): no scripts or fetches, every text escaped, data attributes for tools.
"""

from __future__ import annotations

from string import Template

from analyzer.html_report import EVIDENCE_LEGEND, HEAD, SCALE_LEGEND, STYLE, _attrs, _scores_line, escape_text, evidence_weight_scale, highlighted, opinion_colour
from analyzer.records import DocumentScore, ErrorRecord

DOCUMENT_STYLE = """
section.document { margin-bottom: 28px; }
.para { padding: 8px 12px; margin: 6px 0; border: 1px solid var(--line); border-left-width: 5px; break-inside: avoid; }
.para p { margin: 4px 0 0; }
.para.tone-negative { border-left-color: var(--neg); } .para.tone-positive { border-left-color: var(--pos); }
.para.tone-neutral { border-left-color: var(--neu); }
.para.other { color: #8d8d92; background: #f7f7f7; border-style: dotted; }
.strongest { font: 12px Helvetica, Arial, sans-serif; color: var(--muted); margin-top: 4px; }
.error { color: var(--neg); font-family: Helvetica, Arial, sans-serif; }
@media print { .para { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""

PAGE = Template(HEAD + """<h1>$title</h1>
$legend
$documents
</body>
</html>
""")


def _paragraph(p, scale: float) -> str:
    if p.kind != "body":
        return f'<div {_attrs(class_=f"para other kind-{p.kind}", data_index=p.index, data_kind=p.kind)}><span class="kind">{escape_text(p.kind)}</span><p>{escape_text(p.text)}</p></div>'
    strongest = ""
    if p.evidence is not None and p.evidence.opinion_sentence is not None and p.opinion.label == "opinion":
        sentence = p.sentences[p.evidence.opinion_sentence]
        strongest = f'<div class="strongest">most opinionated sentence: P(opinion) {sentence.opinion.prob:.2f}</div>'
    attrs = _attrs(class_=f"para body tone-{p.tone}", style=f"background-color: {opinion_colour(p.opinion.prob)}",
                   data_index=p.index, data_kind="body", data_opinion=f"{p.opinion.prob:.3f}", data_label=p.opinion.label)
    return f"<div {attrs}>{_scores_line(p)}<p>{highlighted(p, scale)}</p>{strongest}</div>"


def _document(record: DocumentScore | ErrorRecord) -> str:
    if isinstance(record, ErrorRecord):
        return f'<section class="document" data-doc="{escape_text(record.doc_id)}"><h2>{escape_text(record.doc_id)}</h2><p class="error">error: {escape_text(record.error)}</p></section>'
    scale = evidence_weight_scale(record.paragraphs)
    share = record.aggregates["opinion_share"]
    summary = f'<p class="ids">opinion share {share:.2f} · model {escape_text(record.model)}</p>' if share is not None else ""
    paragraphs = "\n".join(_paragraph(p, scale) for p in record.paragraphs)
    return f'<section class="document" data-doc="{escape_text(record.doc_id)}"><h2>{escape_text(record.doc_id)}</h2>{summary}{paragraphs}</section>'


def render_documents(records: list[DocumentScore | ErrorRecord]) -> str:
    """One page for the scored documents, in input order."""
    title = "Where the framing is" if len(records) != 1 else f"Where the framing is: {records[0].doc_id}"
    legend = f'<p class="legend">{SCALE_LEGEND}<br>{EVIDENCE_LEGEND}</p>'
    return PAGE.substitute(title=escape_text(title), style=STYLE + DOCUMENT_STYLE, legend=legend,
                           documents="\n".join(_document(r) for r in records))
