"""Search-by-meaning benchmarks: printed figures, not tests.

    .venv/bin/python bench/semantic.py              # full size: 1,000,000 random normalised 512-d vectors
    .venv/bin/python bench/semantic.py --scale 0.02 # 20,000: a minute on a loaded machine

Figures, in one run: query p50 and worst for exact ranking (numpy's matrix-vector product over all
vectors, and faiss's scan, which ``VectorSet.exact`` uses) and for the index (faiss PQ fast-scan,
through ``VectorSet.search`` with exact re-ranking, as the CLI ranks above ``semantic_exact_max``),
for 10 rows and for the 60 a ``--limit 20`` asks; recall@10 of the index against exact; index build
time and memory; embedding throughput (images/s) with the tiny ONNX pair of the tests and, where
present, the real default model.

Queries are stored vectors with noise added (a near copy or a related picture), not uniform random
points: on uniform random 512-d data every point is about equally far from every other, and no
index (nor a person) can tell the ten nearest apart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402
from common import Figure, print_table  # noqa: E402

from tiktok_intel.search import semantic  # noqa: E402

DIM = 512


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - start), DIM), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def queries(matrix: np.ndarray, count: int, noise: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(matrix), count)
    q = matrix[picks] + noise * rng.standard_normal((count, DIM), dtype=np.float32) / np.sqrt(DIM)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def _timed(run, inputs) -> list[float]:
    """Seconds each ``run(x)`` took."""
    times = []
    for x in inputs:
        t = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - t)
    return times


def _p50_and_worst(name: str, times: list[float], baseline: list[float] | None = None, note: str = "", target: str = "") -> list[Figure]:
    """The median and the worst of ``times`` in ms, each beside the same figure of ``baseline``; the target is the worst's."""
    p50, worst = (statistics.median(baseline) * 1e3, max(baseline) * 1e3) if baseline else (None, None)
    head, _, tail = name.partition(", ")
    rest = f", {tail}" if tail else ""
    return [
        Figure(f"{head} p50{rest}", statistics.median(times) * 1e3, "ms", baseline=p50, note=note),
        Figure(f"{head} worst{rest}", max(times) * 1e3, "ms", baseline=worst, target=target),
    ]


def throughput(model, images, rounds: int = 2) -> float:
    model.embed_images(images[:2])  # warm up
    started = time.perf_counter()
    for _ in range(rounds):
        model.embed_images(images)
    return rounds * len(images) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 1,000,000 vectors (default 1)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--noise", type=float, default=0.5, help="query noise, as a fraction of a unit vector's length (default 0.5)")
    args = parser.parse_args(argv)
    n = max(1000, int(1_000_000 * args.scale))
    print(f"semantic: {n:,} random normalised {DIM}-d vectors, {args.queries} queries", flush=True)
    matrix = vectors(n)
    keys = [(str(i), "cover", 0) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        vs = semantic.VectorSet(keys, matrix, model_id="bench", fingerprint=str(n), index_dir=Path(tmp))
        qs = queries(matrix, args.queries, args.noise)
        numpy_times = _timed(lambda q: np.argpartition(-(matrix @ q), 9)[:10], qs[:20])  # slow here: 20 queries are enough
        exact_top = []
        exact_times = _timed(lambda q: exact_top.append(set(vs.exact(q, 10)[0].tolist())), qs)
        before = _rss_mb()
        t = time.perf_counter()
        vs.ann()
        build = time.perf_counter() - t
        memory = _rss_mb() - before
        found = []
        ann_times = _timed(lambda q: found.append(set(vs.search(q, 10, exact_max=0)[0].tolist())), qs)
        recall = [len(truth & got) / 10 for truth, got in zip(exact_top, found)]
        wide_times = _timed(lambda q: vs.search(q, 60, exact_max=0), qs)
    per_hit = semantic.CANDIDATES_PER_HIT
    figures = [
        *_p50_and_worst("exact query, numpy", numpy_times, note=f"matrix-vector product over {n:,} x {DIM}, 20 queries"),
        *_p50_and_worst("exact query", exact_times, numpy_times, note="VectorSet.exact: faiss's scan, its best re-scored; baseline: numpy"),
        *_p50_and_worst(
            "index query",
            ann_times,
            exact_times,
            note=f"faiss PQ fast-scan ({DIM // 2} x 4 bits), 10 x {per_hit} candidates re-scored exactly; baseline: exact",
            target="<= 20 ms",
        ),
        Figure("index recall@10", statistics.mean(recall), "", target=">= 0.95", note=f"against exact; query noise {args.noise}"),
        *_p50_and_worst(
            "index query, 60 rows", wide_times, exact_times, note=f"what --limit 20 asks (3 images a post): 60 x {per_hit} candidates"
        ),
        Figure("index build", build, "s", note=f"{n:,} vectors, {DIM}-d, quantizer trained on {min(n, semantic._TRAIN_MAX):,}"),
        Figure("index memory", memory, "MB", note=f"codes {n * DIM / 4e6:.0f} MB; the vectors: {matrix.nbytes / 1e6:.0f} MB float32"),
    ]
    # embedding throughput: the tiny pair of the tests, and the real model where present
    import tiny_clip

    from tiktok_intel.search import clip, models
    from tiktok_intel.search.samples import make_cover

    images = [make_cover(i) for i in range(32)]
    with tempfile.TemporaryDirectory() as tmp:
        tiny = clip.ClipModel(tiny_clip.build(Path(tmp) / "tiny", size=224, dim=512))
        figures.append(Figure("embed, tiny ONNX pair", throughput(tiny, images), "images/s", note="224 px preprocessing included"))
    try:
        real = clip.ClipModel(models.model_path())
    except models.ModelMissingError as exc:
        figures.append(Figure("embed, real model", None, "images/s", note=f"not measured: {str(exc)[:60]}..."))
    else:
        figures.append(Figure("embed, real model", throughput(real, images[:8], rounds=1), "images/s", note=models.DEFAULT.name))
    print_table(f"semantic ({n:,} vectors)", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
