"""The tone-v2 recipe's parts that run outside a full training run: real-news rows and their
multiple-instance loss, and the checkpoint average (`--soup`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer

from analyzer.model import ToneNet, load_encoder, locate_base_model
from models import finetune, realnews
from models.tone_v2 import soup_epochs

SHIPPED = Path(__file__).resolve().parents[1] / "analyzer" / "model_files" / "tone-v2"


@pytest.fixture(scope="module")
def tokenizer():
    tokenizer = AutoTokenizer.from_pretrained(str(locate_base_model()))
    tokenizer.model_max_length = 1 << 30
    return tokenizer


@pytest.fixture(scope="module")
def rows(tokenizer):
    return finetune.realnews_rows(tokenizer)


def test_real_news_train_rows_spread_paragraph_labels_to_sentences(rows):
    train = realnews.labelled("train")
    assert len(rows) == len(train) >= 300
    for row, paragraph in zip(rows, train):
        assert len(row.sentence_opinion) == len(row.prepared.sentences)
        if paragraph.opinion == "opinion":  # which sentence carries it is not labelled
            assert row.paragraph_opinion == 1 and set(row.sentence_opinion) == {-1.0}
        else:
            assert row.paragraph_opinion == -1 and set(row.sentence_opinion) == {0.0}


def test_the_multiple_instance_loss_pulls_the_strongest_sentence_towards_opinion(rows, tokenizer):
    opinion_rows = [r for r in rows if r.paragraph_opinion == 1][:4]
    net = ToneNet(load_encoder(locate_base_model()), 3, 2, sentence_opinion=True).eval()
    losses = []
    for shift in (0.0, 3.0):  # a higher opinion logit for every sentence must lower the loss
        with torch.no_grad():
            net.sentence_opinion.bias.copy_(torch.tensor([0.0, shift]))
            losses.append(finetune.step_loss(net, opinion_rows, tokenizer.cls_token_id, tokenizer.sep_token_id, "cpu").item())
    assert losses[1] < losses[0]


def test_a_soup_of_checkpoints_is_the_mean_of_their_weight_updates(tmp_path):
    for epoch, scale in ((1, 1.0), (2, 3.0)):  # the shipped adapter and one with 3x its update
        adapter = tmp_path / f"epoch{epoch}" / "adapter"
        adapter.mkdir(parents=True)
        state = load_file(str(SHIPPED / "adapter" / "adapter_model.safetensors"))
        save_file({k: (v.float() * (scale if "lora_B" in k else 1.0)).half() for k, v in state.items()}, str(adapter / "adapter_model.safetensors"))
        shutil.copy(SHIPPED / "adapter" / "adapter_config.json", adapter)
        shutil.copy(SHIPPED / "heads.safetensors", tmp_path / f"epoch{epoch}")
    name = soup_epochs(tmp_path, [1, 2])
    merged = load_file(str(tmp_path / name / "adapter" / "adapter_model.safetensors"))
    original = load_file(str(SHIPPED / "adapter" / "adapter_model.safetensors"))
    key = next(k for k in original if "lora_A" in k)
    update = merged[key.replace("lora_A", "lora_B")].float() @ merged[key].float()
    expected = 2.0 * original[key.replace("lora_A", "lora_B")].float() @ original[key].float()
    assert torch.allclose(update, expected, atol=2e-3 * expected.abs().max().item())
    config = json.loads((tmp_path / name / "adapter" / "adapter_config.json").read_text())
    shipped = json.loads((SHIPPED / "adapter" / "adapter_config.json").read_text())
    assert config["r"] == 2 * shipped["r"] and config["lora_alpha"] / config["r"] == shipped["lora_alpha"] / shipped["r"]
