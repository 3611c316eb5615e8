"""Benchmark: the media path, from the offline TikTok to the search index (printed figures, not a timed test).

    .venv/bin/python bench/media.py              # 1,000 posts
    .venv/bin/python bench/media.py --scale 0.05 # a smoke run

The same posts go through the same work three times in one run, each time into a fresh workspace:
downloads at collection time (videos, slides, captions; covers after ingest), then the media step
(key frames, hashes, OCR, transcripts, the index). "parallel" is how a collection runs (downloads
``concurrency`` at a time, the media step with 2 workers over everything new); the baseline is one
post at a time, as the issue asks (downloads one at a time, then each post through the whole media
step before the next: ``process_media(posts=[post_id])``, 1 worker); and beside it the batched step
on one worker (concurrency 1), to show what the concurrency alone gives. Figures: posts/s of
each, the share of the parallel run's time in each stage, the bytes kept per post by kind, and what
5 hashtags x 500 posts would take.

Target (issue 15, 2 cores): at least 2x the one-at-a-time baseline; a content run of 5 x 500 posts
finishing its media step well inside its 8-hour window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TIKTOK_INTEL_PROGRESS", "0")

from common import Figure, print_table  # noqa: E402

from tiktok_intel import clock, tracking  # noqa: E402
from tiktok_intel import settings as settings_module  # noqa: E402
from tiktok_intel.collect import collect  # noqa: E402
from tiktok_intel.offline import OfflineTikTok  # noqa: E402
from tiktok_intel.offline import media as offline_media  # noqa: E402
from tiktok_intel.offline.world import World  # noqa: E402
from tiktok_intel.search import process_media  # noqa: E402
from tiktok_intel.store import open_db  # noqa: E402

T = dt.datetime(2026, 11, 10, 8, 0)
HASHTAG = "valet2026"


def one_run(server: OfflineTikTok, folder: Path, posts: int, *, concurrency: int, workers: int, post_by_post: bool = False) -> dict:
    base = settings_module.load_settings(environ={}, dotenv=None)
    settings_module.configure(
        base,
        workspace=folder,
        ms_token="bench",
        requests_per_second=0,
        concurrency=concurrency,
        progress=False,
        **server.settings_overrides(),
    )
    con = open_db(settings_module.get_settings().db_target)
    tracking.add(con, [HASHTAG])
    t0 = time.perf_counter()
    result = collect(con, max_posts=posts)
    collected = time.perf_counter() - t0
    t1 = time.perf_counter()
    if post_by_post:  # each post through the whole media step before the next
        stages: dict[str, float] = {}
        for (post_id,) in con.execute("SELECT post_id FROM posts ORDER BY post_id").fetchall():
            summary = process_media(con, workers=workers, posts=[post_id])
            for name, seconds in summary.stage_seconds.items():
                stages[name] = stages.get(name, 0.0) + seconds
        summary.stage_seconds = stages
    else:
        summary = process_media(con, workers=workers)
    step = time.perf_counter() - t1
    by_kind = dict(con.execute("SELECT kind, sum(bytes) FROM media GROUP BY kind").fetchall())
    n = result.posts
    con.close()
    return {
        "posts": n,
        "collect": collected,
        "media": step,
        "stages": summary.stage_seconds,
        "bytes": by_kind,
        "summary": summary.summary(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 1,000 posts")
    args = parser.parse_args()
    posts = max(20, int(1000 * args.scale))
    world = World(0, hashtags=(HASHTAG,), n_posts=max(900, posts * 7))  # about a sixth of them in the hashtag's feed at T
    with clock.frozen(T), OfflineTikTok(seed=0, world=world, hashtags=(HASHTAG,)) as server:
        feed = len(server.world.feed(HASHTAG, T))
        posts = min(posts, feed)
        with tempfile.TemporaryDirectory() as tmp:
            for post in server.world.feed(HASHTAG, T)[:posts]:  # the offline CDN makes its few videos once, before timing
                if not offline_media.traits(post).slideshow:
                    offline_media.video_mp4(post)
            parallel = one_run(server, Path(tmp) / "parallel", posts, concurrency=2, workers=2)
            print(f"parallel: {parallel['collect']:.1f} s collecting, {parallel['media']:.1f} s media step", flush=True)
            single = one_run(server, Path(tmp) / "single", posts, concurrency=1, workers=1, post_by_post=True)
            print(f"one post at a time: {single['collect']:.1f} s collecting, {single['media']:.1f} s media step", flush=True)
            batched = one_run(server, Path(tmp) / "batched", posts, concurrency=1, workers=1)
            print(f"batched, one worker: {batched['collect']:.1f} s collecting, {batched['media']:.1f} s media step", flush=True)
    settings_module.configure(None)
    n = parallel["posts"]
    rate = n / (parallel["collect"] + parallel["media"])
    base = single["posts"] / (single["collect"] + single["media"])
    one_worker = batched["posts"] / (batched["collect"] + batched["media"])
    stage_total = parallel["collect"] + sum(parallel["stages"].values())
    figures = [
        Figure(
            "collect + media step, posts/s",
            rate,
            "posts/s",
            base,
            ">= 2x",
            f"{n} posts from the offline TikTok; baseline: the same work one post at a time (downloads one at a time, "
            "then each post through the whole media step before the next, 1 worker), same run",
        ),
        Figure(
            "collect + media step, posts/s, against the batched step on one worker",
            rate,
            "posts/s",
            one_worker,
            "",
            "baseline: downloads one at a time, the media step batched as here but with 1 worker (what the concurrency alone gives)",
        ),
        Figure(
            "media step alone, posts/s",
            n / parallel["media"],
            "posts/s",
            single["posts"] / single["media"],
            "",
            "key frames, hashes, OCR, transcripts, index; baseline: one post at a time",
        ),
        Figure("media step alone, batched, one worker", batched["posts"] / batched["media"], "posts/s", note="the same step on 1 worker"),
        Figure(
            "stage: collecting, with the downloads",
            parallel["collect"],
            "s",
            single["collect"],
            note=f"{100 * parallel['collect'] / stage_total:.1f} % of the run; baseline: one download at a time",
        ),
    ]
    for name, seconds in parallel["stages"].items():
        share = f"{100 * seconds / stage_total:.1f} % of the run"
        figures.append(Figure(f"stage: {name}", seconds, "s", single["stages"].get(name), note=f"{share}; baseline: one post at a time"))
    for kind, size in sorted(parallel["bytes"].items()):
        figures.append(Figure(f"kept per post: {kind}", (size or 0) / n / 1000, "kB", note="offline TikTok's small files"))
    run_hours = 2500 / rate / 3600
    figures.append(Figure("5 hashtags x 500 posts, media path", run_hours, "h", target="< 8 h", note="extrapolated from the parallel rate"))
    print(parallel["summary"])
    print_table("media", figures)


if __name__ == "__main__":
    main()
