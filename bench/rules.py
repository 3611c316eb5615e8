"""Benchmark: association rules over Zipf-distributed hashtags (printed figures, not a timed test).

    .venv/bin/python bench/rules.py               # 1,000,000 posts, 20,000 distinct hashtags, min support 0.001
    .venv/bin/python bench/rules.py --scale 0.01  # a smoke run in seconds

Each measured part runs in its own process, so its peak RSS is its own. Also timed: (a) the
original application's approach, a dense one-hot ``TransactionEncoder`` + ``apriori``, at the
largest size it finishes within --apriori-limit seconds, against ours at that size; (b) Borgelt's
``pyfim`` fpgrowth (``pip install pyfim``; skipped with a message when missing) on the same posts.
Targets (issue 4): < 15 s and peak RSS < 2 GB at full size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TIKTOK_INTEL_PROGRESS", "0")

from common import Figure, print_table  # noqa: E402

N_TAGS = 20_000
MIN_SUPPORT = 0.001
MIN_CONFIDENCE = 0.5


def baskets(n_posts: int, seed: int = 7):
    """Each post: 1-8 hashtags drawn from a Zipf (s = 1.1) law over 20,000 ranks."""
    import numpy as np

    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, N_TAGS + 1) ** 1.1
    p /= p.sum()
    sizes = rng.integers(1, 9, n_posts)
    draws = rng.choice(N_TAGS, size=int(sizes.sum()), p=p)
    rows = np.repeat(np.arange(n_posts), sizes)
    pairs = np.unique(rows * N_TAGS + draws)
    return pairs // N_TAGS, pairs % N_TAGS


def phase(name: str, n_posts: int, db: str | None) -> dict:
    import resource

    result: dict = {}
    if name == "ours":
        from tiktok_intel.analyses.rules import run_rules
        from tiktok_intel.store import open_db

        con = open_db(db)
        t = time.perf_counter()
        run = run_rules(con, min_support=MIN_SUPPORT, min_confidence=MIN_CONFIDENCE, window_days=0, max_len=None, exclude_tracked=False)
        result = {"seconds": time.perf_counter() - t, "rules": len(run.rules), "posts": run.posts}
        con.close()
    elif name == "apriori":
        import pandas as pd
        from mlxtend.frequent_patterns import apriori, association_rules
        from mlxtend.preprocessing import TransactionEncoder

        rows, tags = baskets(n_posts)
        tx = pd.Series(tags).groupby(rows).apply(lambda s: [f"t{x}" for x in s]).tolist()
        t = time.perf_counter()
        te = TransactionEncoder()
        onehot = pd.DataFrame(te.fit(tx).transform(tx), columns=te.columns_)
        items = apriori(onehot, min_support=MIN_SUPPORT, use_colnames=True)
        rules = association_rules(items, num_itemsets=len(onehot), metric="confidence", min_threshold=MIN_CONFIDENCE)
        result = {"seconds": time.perf_counter() - t, "rules": len(rules)}
    elif name == "pyfim":
        import fim
        import pandas as pd

        rows, tags = baskets(n_posts)
        tx = pd.Series(tags).groupby(rows).apply(lambda s: [f"t{x}" for x in s]).tolist()
        t = time.perf_counter()
        rules = fim.fpgrowth(tx, target="r", supp=MIN_SUPPORT * 100, conf=MIN_CONFIDENCE * 100, zmin=2, report="sc", mode="o")
        result = {"seconds": time.perf_counter() - t, "rules": len(rules)}
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def child(name: str, n_posts: int, db: str | None = None, timeout: float = 600) -> dict | None:
    cmd = [sys.executable, __file__, "--phase", name, "--posts", str(n_posts)] + (["--db", db] if db else [])
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_db(path: str, n_posts: int) -> None:
    import pandas as pd

    from tiktok_intel.store import open_db

    rows, tags = baskets(n_posts)
    con = open_db(path)
    con.register("pairs", pd.DataFrame({"post": rows, "tag": tags}))
    con.execute("INSERT INTO posts (post_id, first_seen_at, last_seen_at) SELECT 'p' || range, now(), now() FROM range(?)", [n_posts])
    con.execute("INSERT INTO post_hashtags SELECT 'p' || post, 't' || tag FROM pairs")
    con.close()


def ours_at(n_posts: int, tmp: str) -> dict | None:
    db = os.path.join(tmp, f"rules_{n_posts}.duckdb")
    if not os.path.exists(db):
        build_db(db, n_posts)
    return child("ours", n_posts, db)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 1,000,000 posts")
    parser.add_argument("--apriori-limit", type=float, default=120, help="seconds allowed per apriori attempt")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--posts", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.posts, args.db)))
        return 0
    n = max(1000, int(1_000_000 * args.scale))
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        ours = ours_at(n, tmp)
        if ours is None:
            print("our run failed", file=sys.stderr)
            return 1
        print(f"ours: {ours['rules']:,} rules from {ours['posts']:,} posts in {ours['seconds']:.2f} s, peak RSS {ours['rss_mb']:.0f} MB")
        full = args.scale >= 1
        figures.append(Figure(f"ours: {n:,} posts, fpgrowth + rules", ours["seconds"], "s", target="< 15 s" if full else ""))
        figures.append(Figure("ours: peak RSS", ours["rss_mb"], "MB", target="< 2 GB" if full else ""))
        # (a) the original approach, growing until it fails or exceeds the limit
        best = None
        for size in [
            s for s in (2_000, 5_000, 10_000, 20_000) if s <= n
        ]:  # dense: 20,000 posts x 20,000 tags ~ 5 GB; larger would endanger a shared machine
            got = child("apriori", size, timeout=args.apriori_limit)
            print(
                f"apriori (dense TransactionEncoder) at {size:,} posts: "
                + (f"{got['seconds']:.2f} s, {got['rss_mb']:.0f} MB, {got['rules']:,} rules" if got else "did not finish")
            )
            if got is None:
                break
            best = (size, got)
        if best:
            size, got = best
            mine = ours_at(size, tmp)
            figures.append(
                Figure(f"apriori dense at {size:,} posts", got["seconds"], "s", mine["seconds"], note=f"baseline: ours at {size:,} posts")
            )
            figures.append(
                Figure(
                    f"apriori dense at {size:,} posts, peak RSS",
                    got["rss_mb"],
                    "MB",
                    mine["rss_mb"],
                    note=f"baseline: ours at {size:,} posts",
                )
            )
        # (b) pyfim, the speed limit
        try:
            import fim  # noqa: F401

            got = child("pyfim", n)
        except ImportError:
            got = None
            print("pyfim not installed (pip install pyfim): skipping the speed-limit comparison")
        if got:
            figures.append(
                Figure(f"pyfim fpgrowth at {n:,} posts", got["seconds"], "s", ours["seconds"], note="the speed limit; baseline: ours")
            )
            print(f"pyfim: {got['rules']:,} rules")
    print_table("rules", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
