"""A realistic small workspace for the dashboards' tests, browser tests and benchmark.

Built from the offline TikTok server the way the scheduled flows would build it: hashtags are
tracked, collected on several (simulated) days with monitoring snapshots every 30 minutes around
each collection, trends refreshed, rules mined, covers hashed and the text index built; plus one
pair of near-identical covers posted by two accounts and one executed report.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from pathlib import Path

from .. import clock, settings as settings_module, tracking

T0 = dt.datetime(2026, 11, 10, 8, 0)
HASHTAGS = ("valet2026", "klimat")
#: The msToken the fixture collects with: a secret that must never appear on a page.
SECRET = "msTokenFIXTURE-9c1d7e"


def build(workspace: Path, *, days: tuple[int, ...] = (0, 1, 7), max_posts: int = 40, seed: int = 7) -> Path:
    """Fill ``workspace`` (a folder) and return its database path. Settings are restored afterwards."""
    from ..analyses import rules, trends
    from ..collect import collect, monitor
    from ..offline import OfflineTikTok
    from ..search import hashing, text
    from ..store import open_db

    workspace = Path(workspace)
    previous = settings_module.get_settings()
    base = settings_module.load_settings(environ={}, dotenv=None)
    try:
        with clock.frozen(T0), OfflineTikTok(seed=seed) as server:
            settings_module.configure(base, workspace=workspace, ms_token=SECRET, requests_per_second=0, retries=1, timeout_seconds=5,
                                      **server.settings_overrides())
            db = Path(settings_module.get_settings().db_target)
            con = open_db(db)
            try:
                tracking.add(con, list(HASHTAGS))
                for day in days:
                    at = T0 + dt.timedelta(days=day)
                    with clock.frozen(at):
                        collect(con, max_posts=max_posts, covers=(day == days[0]))
                    for k in range(2):
                        with clock.frozen(at + dt.timedelta(minutes=30 * k)):
                            monitor(con)
                with clock.frozen(T0 + dt.timedelta(days=days[-1], hours=2)):
                    trends.refresh_trends(con) if hasattr(trends, "refresh_trends") else None
                    rules.run_rules(con, min_support=3, min_confidence=0.3, window_days=0, exclude_tracked=False)
                    hashing.hash_media(con, workers=1)
                    _near_duplicate(con, workspace)
                    text.refresh_index(con)
                    _report(con, workspace)
            finally:
                con.close()
    finally:
        settings_module.configure(previous)
    return db


def _near_duplicate(con, workspace: Path) -> None:
    """Give a post of another author a copy of a hashed cover: one near-duplicate group."""
    row = con.execute("""SELECT h.post_id, h.phash, h.dhash, m.path, p.author_id FROM image_hashes h
                         JOIN media m USING (post_id, kind, seq) JOIN posts p USING (post_id)
                         WHERE h.kind = 'cover' ORDER BY h.post_id LIMIT 1""").fetchone()
    if row is None:
        return
    post_id, phash, dhash, path, author = row
    other = con.execute("SELECT post_id FROM posts WHERE author_id <> ? AND post_id NOT IN (SELECT post_id FROM media) "
                        "ORDER BY post_id LIMIT 1", [author]).fetchone()
    if other is None:
        return
    media = workspace / "media"
    target = Path(path).with_name(f"dup-{other[0]}{Path(path).suffix}")
    shutil.copyfile(media / path, media / target)
    cols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'media' ORDER BY ordinal_position").fetchall()]
    src = con.execute(f"SELECT {', '.join(cols)} FROM media WHERE post_id = ? AND kind = 'cover' LIMIT 1", [post_id]).fetchone()
    values = dict(zip(cols, src))
    values.update(post_id=other[0], path=str(target))
    con.execute(f"INSERT INTO media ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", list(values.values()))
    hcols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'image_hashes' ORDER BY ordinal_position").fetchall()]
    hsrc = dict(zip(hcols, con.execute(f"SELECT {', '.join(hcols)} FROM image_hashes WHERE post_id = ? AND kind = 'cover' LIMIT 1", [post_id]).fetchone()))
    hsrc["post_id"] = other[0]
    con.execute(f"INSERT INTO image_hashes ({', '.join(hcols)}) VALUES ({', '.join('?' * len(hcols))})", list(hsrc.values()))


def _report(con, workspace: Path) -> None:
    """Executed reports as the scheduler would leave them: the post-trends flow's, a published and
    an unpublished user job's (the published one mentions the token, which pages must hide), and a
    failed rules run that left no report."""
    started = clock.now()
    for n, (flow, stem, title, publish) in enumerate((("post-trends", "post_trends", "Post trends report", None),
                                                       ("weekly-brief", "weekly-brief", f"Weekly brief (token {SECRET})", True),
                                                       ("private-job", "private-job", "Private notes", False))):
        folder = workspace / "reports" / stem / f"20261117T10000{n}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        (folder / f"{stem}.html").write_text(f"<html><body><h1>{title}</h1></body></html>")
        counts = json.dumps({"parameters": {"notebook": f"{stem}.ipynb", **({"publish": publish} if publish is not None else {})}})
        con.execute("INSERT INTO runs (run_id, flow, started_at, ended_at, status, notebook_path, counts) VALUES (?, ?, ?, ?, 'completed', ?, ?)",
                    [uuid.uuid4().hex, flow, started + dt.timedelta(minutes=n), started + dt.timedelta(minutes=n, seconds=12),
                     str(folder / f"{stem}.ipynb"), counts])
    con.execute("INSERT INTO runs (run_id, flow, started_at, ended_at, status, error) VALUES (?, 'association-rules', ?, ?, 'failed', ?)",
                [uuid.uuid4().hex, started, started + dt.timedelta(seconds=3), "RulesError: too few posts"])
