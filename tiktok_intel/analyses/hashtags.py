"""Hashtags over a period: which ones (named, or the tracked ones), the period, their growth from
their monitoring snapshots, the posts published per day, and the hashtags related to one.

A period is ``days`` days ending at the latest data for the hashtags concerned (their last
monitoring snapshot; else the last collection), so a workspace collected on other days (the demo's
simulated ones) shows its own last week; pass ``until`` for another end. Both ends are included.
Growth comes from the hashtag's own counts (``hashtag_stats``: the views and videos TikTok reports
for it): the last snapshot in the period minus the first. Related hashtags come from the latest
association rules run (:mod:`.rules`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import duckdb
import pandas as pd

from .. import clock
from ..conventions import hashtag as normalise_hashtag
from ..conventions import hashtag_link, hashtag_link_sql
from ..localtime import local_sql
from . import AnalysisError, rules, time_clause, to_time, trends, whole_numbers

_TICK = dt.timedelta(microseconds=1)  # TIMESTAMP precision: `< until + _TICK` is `<= until`


# ------------------------------------------------------------------------------------ hashtags, period


def hashtag_list(hashtags: str | Iterable[str] | None) -> list[str]:
    """``"#Valet2026, klimat"`` or ``["valet2026", "#Klimat"]`` -> ``["valet2026", "klimat"]`` (order kept, no repeats)."""
    if hashtags is None:
        return []
    names = re.split(r"[,\s]+", hashtags) if isinstance(hashtags, str) else list(hashtags)
    return list(dict.fromkeys(n for n in (normalise_hashtag(x) for x in names) if n))


def resolve_hashtags(con: duckdb.DuckDBPyConnection, hashtags: str | Iterable[str] | None = None) -> list[str]:
    """The hashtags named (normalised), or, when none is, the active tracked ones (by name)."""
    names = hashtag_list(hashtags)
    if names:
        return names
    return [r[0] for r in con.execute("SELECT name FROM tracked_hashtags WHERE active ORDER BY name").fetchall()]


def most_viewed(con: duckdb.DuckDBPyConnection, n: int = 2, *, exclude: Iterable[str] = ()) -> list[str]:
    """The ``n`` active tracked hashtags with the most views at their latest monitoring snapshot
    (tracked ones without a snapshot come last, by name), leaving out ``exclude``."""
    rows = con.execute(
        """
SELECT t.name FROM tracked_hashtags t
LEFT JOIN (SELECT hashtag, arg_max(view_count, collected_at) AS views FROM hashtag_stats GROUP BY hashtag) s ON s.hashtag = t.name
WHERE t.active AND NOT list_contains(?::VARCHAR[], t.name)
ORDER BY s.views DESC NULLS LAST, t.name LIMIT ?""",
        [hashtag_list(exclude), int(n)],
    ).fetchall()
    return [r[0] for r in rows]


def latest_data(con: duckdb.DuckDBPyConnection, hashtags: Iterable[str] | None = None) -> dt.datetime | None:
    """The last monitoring snapshot of ``hashtags`` (any hashtag when none given), else the last
    time a post was collected; None for an empty store."""
    names = hashtag_list(hashtags)
    if names:
        row = con.execute("SELECT max(collected_at) FROM hashtag_stats WHERE list_contains(?, hashtag)", [names]).fetchone()
    else:
        row = con.execute("SELECT max(collected_at) FROM hashtag_stats").fetchone()
    if row[0] is None:
        row = con.execute("SELECT max(coalesce(last_seen_at, first_seen_at)) FROM posts").fetchone()
    return row[0]


def period(
    con: duckdb.DuckDBPyConnection, days: int = 7, hashtags: Iterable[str] | None = None, *, until: Any = None
) -> tuple[dt.datetime, dt.datetime]:
    """``(since, until)``: the ``days`` days ending at ``until`` (a date includes that day;
    default: :func:`latest_data` for ``hashtags``, or now on an empty store)."""
    if int(days) < 1:
        raise AnalysisError(f"days {days} must be 1 or more: e.g. days = 7")
    end = _until(until) if until not in (None, "") else latest_data(con, hashtags)
    end = end or clock.now().replace(microsecond=0)
    return end - dt.timedelta(days=int(days)), end


def _until(value: Any) -> dt.datetime | None:
    """An inclusive end: a time as given; a bare date -> the last instant of that day."""
    end, start = to_time(value, "until", end=True), to_time(value, "until")
    return end - _TICK if end is not None and end != start else end


def _range(since: Any, until: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    lo, hi = to_time(since, "since"), _until(until)
    if lo is not None and hi is not None and hi < lo:
        raise AnalysisError(f"until ({hi:%Y-%m-%d %H:%M}) is before since ({lo:%Y-%m-%d %H:%M}): swap them")
    return lo, hi


# ------------------------------------------------------------------------------------ growth


def hashtag_growth(
    con: duckdb.DuckDBPyConnection, hashtags: str | Iterable[str] | None = None, since: Any = None, until: Any = None
) -> pd.DataFrame:
    """Each hashtag's growth over ``[since, until]`` from its monitoring snapshots.

    ``hashtags``: names (default: the active tracked ones). One row per hashtag, in that order:
    ``hashtag, snapshots, first_at, last_at, views_start, views_end, views_change, views_growth,
    videos_start, videos_end, videos_change, videos_growth, url``. ``*_start`` / ``*_end`` are
    TikTok's view / video count for the hashtag at the first and last snapshot in the period;
    the change is end minus start and the growth that change as a percentage of the start. Both
    are empty with fewer than two snapshots (or, for the growth, a start of 0).
    """
    names = resolve_hashtags(con, hashtags)
    lo, hi = _range(since, until)
    params: list[Any] = [names]
    where = time_clause("collected_at", lo, hi, params, include_end=True)
    df = con.execute(
        f"""
WITH wanted AS (SELECT hashtag, i FROM unnest(?::VARCHAR[]) WITH ORDINALITY AS t(hashtag, i)),
     s AS (SELECT hashtag, collected_at, video_count, view_count FROM hashtag_stats
           WHERE hashtag IN (SELECT hashtag FROM wanted){where}),
     g AS (SELECT w.hashtag, any_value(w.i) AS i, count(s.collected_at) AS snapshots, min(s.collected_at) AS first_at,
                  max(s.collected_at) AS last_at,
                  arg_min(s.view_count, s.collected_at) FILTER (WHERE s.view_count IS NOT NULL) AS views_start,
                  arg_max(s.view_count, s.collected_at) FILTER (WHERE s.view_count IS NOT NULL) AS views_end,
                  count(s.view_count) AS view_snapshots,
                  arg_min(s.video_count, s.collected_at) FILTER (WHERE s.video_count IS NOT NULL) AS videos_start,
                  arg_max(s.video_count, s.collected_at) FILTER (WHERE s.video_count IS NOT NULL) AS videos_end,
                  count(s.video_count) AS video_snapshots
           FROM wanted w LEFT JOIN s ON s.hashtag = w.hashtag GROUP BY w.hashtag)
SELECT hashtag, snapshots, first_at, last_at,
       views_start, views_end, CASE WHEN view_snapshots >= 2 THEN views_end - views_start END AS views_change,
       CASE WHEN view_snapshots >= 2 AND views_start > 0 THEN (views_end - views_start) * 100.0 / views_start END AS views_growth,
       videos_start, videos_end, CASE WHEN video_snapshots >= 2 THEN videos_end - videos_start END AS videos_change,
       CASE WHEN video_snapshots >= 2 AND videos_start > 0 THEN (videos_end - videos_start) * 100.0 / videos_start END AS videos_growth,
       {hashtag_link_sql("hashtag")} AS url
FROM g ORDER BY i""",
        params,
    ).df()
    return whole_numbers(df, ("snapshots", "views_start", "views_end", "views_change", "videos_start", "videos_end", "videos_change"))


def hashtag_popularity(con: duckdb.DuckDBPyConnection, hashtags: list[str] | None = None) -> pd.DataFrame:
    """Monitoring snapshots (``hashtag, collected_at, video_count, view_count``) of ``hashtags``
    (default: the active tracked ones), oldest first."""
    if hashtags:
        return con.execute(
            """SELECT hashtag, collected_at, video_count, view_count FROM hashtag_stats
                              WHERE list_contains(?, hashtag) ORDER BY hashtag, collected_at""",
            [list(hashtags)],
        ).df()
    return con.execute("""SELECT hashtag, collected_at, video_count, view_count FROM hashtag_stats
                          WHERE hashtag IN (SELECT name FROM tracked_hashtags WHERE active)
                          ORDER BY hashtag, collected_at""").df()


def snapshots(con: duckdb.DuckDBPyConnection, hashtags: Iterable[str], since: Any = None, until: Any = None) -> pd.DataFrame:
    """The monitoring snapshots of ``hashtags`` in ``[since, until]``: ``hashtag, collected_at, video_count, view_count``."""
    names = hashtag_list(hashtags)
    columns = ["hashtag", "collected_at", "video_count", "view_count"]
    if not names:
        return pd.DataFrame(columns=columns)
    lo, hi = _range(since, until)
    df = hashtag_popularity(con, names)
    if lo is not None:
        df = df[df["collected_at"] >= lo]
    if hi is not None:
        df = df[df["collected_at"] <= hi]
    return whole_numbers(df.reset_index(drop=True), ("video_count", "view_count"))


def posts_per_day(con: duckdb.DuckDBPyConnection, hashtags: Iterable[str], since: Any = None, until: Any = None) -> pd.DataFrame:
    """Per day and hashtag: ``published`` (posts carrying it or listed in its feed, by day of
    publication, :func:`.trends.new_posts_per_day`) and ``collected`` (those first collected
    that day), over ``[since, until]``. Columns ``day, hashtag, published, collected``."""
    names = hashtag_list(hashtags)
    lo, hi = _range(since, until)
    end = hi + _TICK if hi is not None else None
    frames = []
    for name in names:
        published = trends.new_posts_per_day(con, name, start=lo, end=end).rename(columns={"posts": "published"})
        frames.append(published.assign(hashtag=name))
    params: list[Any] = [names]
    where = time_clause("p.first_seen_at", lo, hi, params, include_end=True)
    collected = con.execute(
        f"""
SELECT CAST({local_sql("p.first_seen_at")} AS DATE) AS day, t.hashtag, count(*) AS collected
FROM (SELECT post_id, hashtag FROM post_hashtags UNION SELECT post_id, hashtag FROM feed_appearances) t
JOIN posts p ON p.post_id = t.post_id
WHERE list_contains(?, t.hashtag) AND p.first_seen_at IS NOT NULL{where}
GROUP BY ALL""",
        params,
    ).df()
    published = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["day", "published", "hashtag"])
    if published.empty and collected.empty:
        return pd.DataFrame(
            {
                "day": pd.Series(dtype="object"),
                "hashtag": pd.Series(dtype="object"),
                "published": pd.Series(dtype="Int64"),
                "collected": pd.Series(dtype="Int64"),
            }
        )
    for frame in (published, collected):
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
    df = published.merge(collected, on=["day", "hashtag"], how="outer").fillna({"published": 0, "collected": 0})
    order = {name: i for i, name in enumerate(names)}
    df = df.sort_values(["day", "hashtag"], key=lambda s: s.map(order) if s.name == "hashtag" else s).reset_index(drop=True)
    return whole_numbers(df[["day", "hashtag", "published", "collected"]], ("published", "collected"))


def related(con: duckdb.DuckDBPyConnection, hashtag: str, *, limit: int = 10) -> pd.DataFrame:
    """Hashtags that go with ``hashtag`` in the latest association rules run: one row per other
    hashtag in a rule involving it, strongest first. Columns ``hashtag, related, rules, lift,
    confidence, support, posts, example, url`` (``lift`` / ``confidence`` / ``support``: the
    strongest of its rules; ``posts``: the most posts one of them holds; ``example``: the rule
    with the highest lift)."""
    tag = normalise_hashtag(hashtag)
    columns = ["hashtag", "related", "rules", "lift", "confidence", "support", "posts", "example", "url"]
    found = rules.related_hashtags(con, tag) if tag else pd.DataFrame()
    rows = []
    for r in found.itertuples(index=False):
        rule = f"{', '.join(r.antecedents)} → {', '.join(r.consequents)}"
        for other in dict.fromkeys(list(r.antecedents) + list(r.consequents)):
            if other != tag:
                rows.append((tag, other, float(r.lift), float(r.confidence), float(r.support), r.post_count, rule))
    if not rows:
        return pd.DataFrame(columns=columns)
    flat = pd.DataFrame(rows, columns=["hashtag", "related", "lift", "confidence", "support", "posts", "rule"])
    best = flat.sort_values(["lift", "confidence"], ascending=False).drop_duplicates("related").set_index("related")["rule"]
    df = flat.groupby(["hashtag", "related"], as_index=False).agg(
        rules=("rule", "count"), lift=("lift", "max"), confidence=("confidence", "max"), support=("support", "max"), posts=("posts", "max")
    )
    df["example"] = df["related"].map(best)
    df["url"] = df["related"].map(hashtag_link)
    df = df.sort_values(["lift", "confidence", "related"], ascending=[False, False, True]).head(int(limit)).reset_index(drop=True)
    return whole_numbers(df[columns], ("rules", "posts"))
