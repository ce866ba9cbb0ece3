"""Streaming: a 200,000-paragraph JSONL input is scored with bounded memory and early output.

Scoring all 200,000 paragraphs takes many minutes on 2 cores, so the test watches the real
command (and the temporary file it writes beside the target) for a bounded time: the first records must appear within seconds of the model being
loaded, and the process's peak memory (VmHWM) must stay under 1.5 GB while several chunks of
records have been written. Memory that grew with the input would show long before the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

N_PARAGRAPHS = 200_000
PEAK_LIMIT_MB = 1536
FIRST_OUTPUT_WITHIN_S = 30  # includes starting Python and loading the model
WATCH_RECORDS = 2_000


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def _being_written(out: Path) -> Path | None:
    """The temporary file beside `out` that the run writes into (renamed to `out` at the end)."""
    found = sorted(out.parent.glob(f".{out.name}.*.partial"))
    return found[0] if found else None


def test_200k_paragraph_input_streams_with_bounded_memory(tmp_path):
    source = tmp_path / "big.jsonl"
    with source.open("w") as handle:
        for i in range(N_PARAGRAPHS):
            handle.write(json.dumps({"id": f"p{i}", "text": f"Paragraph {i}: the council said the road will reopen on day {i % 30 + 1}."}) + "\n")
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "analyzer", "score", str(source), "--no-segment", "--quiet",
                                "--level", "paragraph", "-o", str(out)])
    try:
        first_output = None
        peak = 0.0
        while time.monotonic() - started < 240:
            assert process.poll() is None, "the scorer stopped early"
            peak = max(peak, _peak_mb(process.pid))
            partial = _being_written(out)
            written = partial.stat().st_size if partial else 0
            if written and first_output is None:
                first_output = time.monotonic() - started
            if written and sum(1 for _ in partial.open()) >= WATCH_RECORDS:
                break
            time.sleep(0.5)
        peak = max(peak, _peak_mb(process.pid))
    finally:
        process.kill()
        process.wait()
    print(f"first output after {first_output}s, peak memory {peak:.0f} MB")
    assert first_output is not None and first_output < FIRST_OUTPUT_WITHIN_S, f"first output after {first_output}s"
    records = [json.loads(line) for line in partial.open() if line.endswith("\n")]
    assert len(records) >= WATCH_RECORDS
    assert [r["doc_id"] for r in records[:3]] == ["p0", "p1", "p2"]
    assert peak < PEAK_LIMIT_MB, f"peak memory {peak:.0f} MB"
