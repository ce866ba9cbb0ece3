"""Every file of the model folder is checked against its manifest at load."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.model import DEFAULT_MODEL_DIR, MANIFEST, ModelLoadError, verify_model_files

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds" / "001_16602f8ba67b567c.txt"


def _files(model_dir: Path) -> list[str]:
    import json

    return sorted(json.loads((model_dir / MANIFEST).read_text()))


def test_the_manifest_covers_config_heads_and_adapter():
    names = _files(DEFAULT_MODEL_DIR)
    assert {"config.json", "heads.safetensors", "adapter/adapter_model.safetensors", "adapter/adapter_config.json"} <= set(names)
    verify_model_files(DEFAULT_MODEL_DIR)


@pytest.mark.parametrize("name", _files(DEFAULT_MODEL_DIR))
def test_a_flipped_byte_in_any_model_file_is_refused(tmp_path: Path, name: str):
    broken = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, broken)
    target = broken / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=name.split("/")[-1]):
        verify_model_files(broken)


def test_the_cli_refuses_a_damaged_model_in_one_line(tmp_path: Path):
    broken = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, broken)
    (broken / "heads.safetensors").unlink()
    completed = subprocess.run([sys.executable, "-m", "analyzer", "score", str(SEED), "--model", str(broken), "-q"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    assert "heads.safetensors" in completed.stderr
