"""The briefs the exploratory notebooks show: a weekly brief on hashtags, and two hashtags compared.

Periods, growth and related hashtags are :mod:`.hashtags`'; top posts and authors are those
*published* in the period (:mod:`.reports`); the chart is :func:`.charts.growth_chart`, the Excel
export :func:`.exports.export_selection`.

Each function takes an open connection; :func:`tiktok_intel.store.read_only` runs one over a short read-only
connection, as the dashboards read, so a scheduled flow writing the database is not blocked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import duckdb
import pandas as pd

from . import NO_DATA, has_data, reports, rules, trends, whole_numbers
from .hashtags import _TICK, hashtag_growth, hashtag_list, most_viewed, period, posts_per_day, related, resolve_hashtags, snapshots

__all__ = ["NO_DATA", "Comparison", "WeeklyBrief", "compare_hashtags", "has_data", "weekly_brief"]


# ------------------------------------------------------------------------------------ weekly brief


@dataclasses.dataclass
class WeeklyBrief:
    """What :func:`weekly_brief` found; every frame has a ``hashtag`` column."""

    hashtags: list[str]
    since: dt.datetime
    until: dt.datetime
    growth: pd.DataFrame  #: :func:`hashtag_growth`, a row per hashtag
    snapshots: pd.DataFrame  #: :func:`snapshots`, for a chart of the counts over the period
    top_posts: pd.DataFrame  #: :func:`.reports.top_posts` by views, published in the period, per hashtag
    top_authors: pd.DataFrame  #: :func:`.reports.top_authors` by summed views of those posts, per hashtag
    related: pd.DataFrame  #: :func:`related`, per hashtag
    posts: dict[str, int]  #: posts published in the period, per hashtag
    rules_ran_at: dt.datetime | None  #: when the rules the related hashtags come from were mined
    has_data: bool  #: anything collected in the workspace at all

    @property
    def empty(self) -> bool:
        return not self.hashtags or (not sum(self.posts.values()) and not int(self.growth["snapshots"].fillna(0).sum()))

    def summary(self) -> str:
        if not self.has_data:
            return NO_DATA
        if not self.hashtags:
            return 'no hashtag given and none tracked: name one (hashtag = "valet2026") or `tiktok-intel track add NAME`'
        tags = ", ".join("#" + h for h in self.hashtags)
        from ..localtime import format_time, label

        span = f"{format_time(self.since)} – {format_time(self.until)} {label()}"
        if self.empty:
            return f"{tags}: nothing collected for {span} (no posts published, no monitoring snapshot)"
        parts = []
        for row in self.growth.itertuples(index=False):
            views = f"{row.views_change:+,} views" if not pd.isna(row.views_change) else "views: fewer than 2 snapshots"
            videos = f", {row.videos_change:+,} videos" if not pd.isna(row.videos_change) else ""
            parts.append(f"#{row.hashtag} {views}{videos}, {self.posts.get(row.hashtag, 0):,} posts published")
        return f"{span}: " + "; ".join(parts)


def weekly_brief(con: duckdb.DuckDBPyConnection, hashtag: str = "", days: int = 7, *, until: Any = None, limit: int = 10) -> WeeklyBrief:
    """A brief on ``hashtag`` (comma-separated names work too; empty: every active tracked
    hashtag) over the ``days`` days ending at :func:`period`'s end: its growth, the ``limit`` top
    posts (by views) and authors (by the summed views of their posts) published in the period,
    and its related hashtags from the latest rules run."""
    names = resolve_hashtags(con, hashtag)
    since, until = period(con, days, names, until=until)
    end = until + _TICK  # reports' ranges are half-open; the period includes its end
    posts, authors, related_frames, counts = [], [], [], {}
    for name in names:
        posts.append(reports.top_posts(con, "views", start=since, end=end, hashtag=name, limit=limit).assign(hashtag=name))
        authors.append(reports.top_authors(con, "views", start=since, end=end, hashtag=name, limit=limit).assign(hashtag=name))
        related_frames.append(related(con, name, limit=limit))
        counts[name] = int(trends.new_posts_per_day(con, name, start=since, end=end)["posts"].sum())
    run = rules.latest_run(con)

    def joined(frames: list[pd.DataFrame], empty: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        found = [f for f in frames if not f.empty]
        return pd.concat(found, ignore_index=True) if found else (frames[0] if frames else empty().assign(hashtag=""))

    return WeeklyBrief(
        hashtags=names,
        since=since,
        until=until,
        growth=hashtag_growth(con, names, since, until),
        snapshots=snapshots(con, names, since, until),
        top_posts=joined(posts, lambda: reports.top_posts(con, "views", limit=1).iloc[:0]),
        top_authors=joined(authors, lambda: reports.top_authors(con, "views", limit=1).iloc[:0]),
        related=joined(related_frames, lambda: related(con, "")),
        posts=counts,
        rules_ran_at=None if run is None else run["ran_at"],
        has_data=has_data(con),
    )


# ------------------------------------------------------------------------------------ comparison


@dataclasses.dataclass
class Comparison:
    """What :func:`compare_hashtags` found."""

    hashtags: list[str]
    since: dt.datetime
    until: dt.datetime
    growth: pd.DataFrame  #: :func:`hashtag_growth`
    snapshots: pd.DataFrame  #: :func:`snapshots`
    per_day: pd.DataFrame  #: :func:`posts_per_day`
    has_data: bool

    def table(self) -> pd.DataFrame:
        """A row per hashtag: ``hashtag, views_start, views_end, views_change, views_growth,
        videos_change, videos_growth, published, collected`` (posts over the period)."""
        totals = self.per_day.groupby("hashtag", as_index=False)[["published", "collected"]].sum()
        df = self.growth[["hashtag", "views_start", "views_end", "views_change", "views_growth", "videos_change", "videos_growth"]].merge(
            totals, on="hashtag", how="left"
        )
        return whole_numbers(df.fillna({"published": 0, "collected": 0}), ("published", "collected"))

    def summary(self) -> str:
        if not self.has_data:
            return NO_DATA
        if not self.hashtags:
            return 'no hashtags to compare: name two (first = "valet2026", second = "klimat") or track some'
        span = f"{self.since:%Y-%m-%d} – {self.until:%Y-%m-%d}"
        parts = []
        for row in self.table().itertuples(index=False):
            views = (
                f"{row.views_change:+,} views ({row.views_growth:+.2f}%)"
                if not pd.isna(row.views_growth)
                else (f"{row.views_change:+,} views" if not pd.isna(row.views_change) else "views: fewer than 2 snapshots")
            )
            parts.append(f"#{row.hashtag} {views}, {row.published:,} posts published")
        return f"{span}: " + " vs ".join(parts)


def compare_hashtags(con: duckdb.DuckDBPyConnection, first: str = "", second: str = "", days: int = 30, *, until: Any = None) -> Comparison:
    """Two hashtags side by side over the ``days`` days ending at :func:`period`'s end. An empty
    name is filled with the most viewed active tracked hashtag not already named."""
    names = hashtag_list([first, second])
    names += most_viewed(con, 2 - len(names), exclude=names) if len(names) < 2 else []
    since, until = period(con, days, names, until=until)
    return Comparison(
        hashtags=names,
        since=since,
        until=until,
        growth=hashtag_growth(con, names, since, until),
        snapshots=snapshots(con, names, since, until),
        per_day=posts_per_day(con, names, since, until),
        has_data=has_data(con),
    )
