"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    printed = capsys.readouterr().out
    evidence_line = next(line for line in printed.splitlines() if line.startswith("['"))  # the evidence spans' list
    assert "disgraceful" in evidence_line  # the evidence of the opinion paragraph, as the README's comment says
