"""The `evaluate` Prefect flow: ask a model every item of a benchmark, keep every answer, score the 12 columns.

An evaluation is keyed by (benchmark content, model, weights hash, prompt/frames settings); its answers are
stored per item as they come, so a re-run answers only what is missing (nothing, once finished) and a crash
loses one batch. Frames of the next batch are decoded in a thread while the model answers the current one.
An item whose media cannot be read is recorded with the reason and counts as wrong; the rest go on.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prefect import flow

from flows.evaluate import plot, scoring, store
from flows.evaluate.config import EvaluateConfig
from flows.evaluate.inputs import build_question
from flows.evaluate.items import Benchmark, EvalItem, load_benchmark
from flows.evaluate.parse import LETTERS, parse_letter
from flows.gpu import gpu_slot
from flows.logs import run_logger
from flows.prefect_artifacts import publish_evaluation
from flows.stage import open_stage
from model.answerers import Answerer, registry

MEDIA_ERRORS = (ValueError, OSError)  # BadVideoError is a ValueError


def check_model(config: EvaluateConfig) -> list[str]:
    """The options the chosen answerer takes; a user's mistake (unknown model, weights it does not take, an option
    it needs) is a ValueError before any item is read."""
    import flows.evaluate.blind  # noqa: F401  (registers "blind")

    accepted = registry.options(config.model)
    if config.weights and "weights" not in accepted:
        raise ValueError(f"model {config.model!r} takes no weights")
    given = config.model_options()
    missing = [name for name in registry.required(config.model) if given.get(name) is None]
    if missing:
        raise ValueError(f"model {config.model!r} needs {', '.join('--' + m for m in missing)}")
    return accepted


def create_answerer(config: EvaluateConfig) -> Answerer:
    accepted = check_model(config)
    given = config.model_options()
    return registry.create(config.model, **{k: v for k, v in given.items() if k in accepted})


def evaluation_key(benchmark: Benchmark, model: str, identity: str, settings: dict) -> str:
    text = json.dumps({"benchmark": benchmark.sha256, "model": model, "identity": identity, "settings": settings})
    return hashlib.sha256(text.encode()).hexdigest()


def finite(value):
    """NaN -> None, recursively: JSON (and PostgreSQL's JSON type) has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _answer_row(item: EvalItem, raw: str, error: str | None = None) -> dict:
    letter = None if error else parse_letter(raw, item.options)
    truth = LETTERS[item.answer_index]
    return {
        "item_id": item.id,
        "category": item.category,
        "raw_text": raw,
        "letter": letter,
        "answer_letter": truth,
        "correct": letter == truth,
        "error": error,
    }


def _build(items: list[EvalItem], config: EvaluateConfig, with_frames: bool) -> list:
    built = []
    for item in items:
        try:
            built.append(build_question(item, config.frames, with_frames))
        except MEDIA_ERRORS as error:
            built.append(f"{type(error).__name__}: {error}")
    return built


def answer_items(url: str, evaluation_id: int, answerer: Answerer, items: list[EvalItem], config) -> dict:
    """Answer `items` in batches, storing each batch; returns seconds spent in the model and in all."""
    started, in_model = time.perf_counter(), 0.0
    batches = [items[i : i + config.batch_size] for i in range(0, len(items), config.batch_size)]
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_build, batches[0], config, answerer.uses_frames) if batches else None
        for number, batch in enumerate(batches):
            built = pending.result()
            if number + 1 < len(batches):
                pending = pool.submit(_build, batches[number + 1], config, answerer.uses_frames)
            questions = [q for q in built if not isinstance(q, str)]
            tick = time.perf_counter()
            texts = iter(answerer.answer(questions) if questions else [])
            in_model += time.perf_counter() - tick
            rows = [
                _answer_row(item, "", q) if isinstance(q, str) else _answer_row(item, next(texts))
                for item, q in zip(batch, built, strict=True)
            ]
            store.save_answers(url, evaluation_id, rows)
    return {"model_s": in_model, "total_s": time.perf_counter() - started}


def summarise(answers: list[dict], draws: int, seed: int) -> dict:
    per_category = scoring.by_category(answers)
    return {
        "columns": scoring.columns(per_category),
        "intervals": scoring.intervals(per_category, draws=draws, seed=seed),
        "items": {c: int(len(per_category.get(c, []))) for c in scoring.CATEGORY_CODES},
        "answered": len(answers),
        "unparsed": sum(a["letter"] is None and not a["error"] for a in answers),
        "failed": sum(bool(a["error"]) for a in answers),
    }


def score_model(url: str, benchmark: Benchmark, config: EvaluateConfig, out_root: Path) -> dict:
    """One model's evaluation on `benchmark`, re-using every answer already stored under the same key."""
    log = run_logger(__name__)
    answerer = create_answerer(config)
    settings = config.answer_settings(answerer.uses_frames)
    identity = answerer.identity()
    key = evaluation_key(benchmark, config.model, identity, settings)
    fields = {
        "benchmark": benchmark.label,
        "benchmark_sha256": benchmark.sha256,
        "model": config.model,
        "weights": config.weights,
        "weights_hash": identity[:64] or None,
        "settings": settings,
    }
    evaluation_id = store.open_evaluation(url, key, fields)
    done = store.answered(url, evaluation_id)
    todo = [item for item in benchmark.items if item.id not in done]
    log.info("%s: %d items, %d already answered", config.model, len(benchmark.items), len(benchmark.items) - len(todo))
    timing = {"model_s": 0.0, "total_s": 0.0}
    if todo:
        if type(answerer).fit is not Answerer.fit:
            built = zip(benchmark.items, _build(benchmark.items, config, with_frames=False), strict=True)
            usable = [(item, q) for item, q in built if not isinstance(q, str)]
            answerer.fit([q for _, q in usable], [item.answer_index for item, _ in usable])
        timing = answer_items(url, evaluation_id, answerer, todo, config)
    answers = store.answers(url, evaluation_id)
    summary = summarise(answers, config.bootstrap, config.seed)
    folder = out_root / key[:16]
    folder.mkdir(parents=True, exist_ok=True)
    result = {"id": evaluation_id, "key": key, "model": config.model, **fields, **summary}
    (folder / "results.json").write_text(json.dumps(finite(result), indent=1) + "\n", encoding="utf-8")
    with open(folder / "answers.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(a, ensure_ascii=False) + "\n" for a in answers)
    store.finish(url, evaluation_id, finite(summary), str(folder.resolve()))
    return {**result, "newly_answered": len(todo), "timing": timing, "folder": str(folder)}


@flow(name="evaluate", log_prints=True)
def evaluate(benchmark: str, config: EvaluateConfig | None = None) -> dict:
    """Score `config.model` on a release folder or R4D-Bench JSON; with the blind baseline and chance beside.

    Args:
        benchmark: A release folder or an R4D-Bench JSON file.
        config: The model and how it is asked.
    """
    config = config or EvaluateConfig()
    check_model(config)
    stage = open_stage()
    bench = load_benchmark(Path(benchmark), Path(config.video_root) if config.video_root else None)
    if not bench.items:
        raise ValueError(f"{benchmark} holds no items")
    out_root = Path(config.out_dir) if config.out_dir else stage.settings.data_dir / "evaluations"
    with gpu_slot(config.device):  # one GPU job per GPU (flows/gpu.py)
        rows = [score_model(stage.database_url, bench, config, out_root)]
    if config.with_blind and config.model != "blind":
        blind = config.model_copy(update={"model": "blind", "weights": None})
        rows.append(score_model(stage.database_url, bench, blind, out_root))
    chance = scoring.chance([(item.category, len(item.options)) for item in bench.items])
    picture = Path(rows[0]["folder"]) / "plot.png"
    plot.grouped_bars([(r["model"], r["columns"], r["intervals"]) for r in rows] + [("chance", chance, None)], picture)
    publish_evaluation(bench.label, rows, chance)
    return {"benchmark": bench.label, "items": len(bench.items), "rows": rows, "chance": chance, "plot": str(picture)}
