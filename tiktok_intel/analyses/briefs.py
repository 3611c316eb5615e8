"""Briefs for the exploratory notebooks: a hashtag's growth over a period, a weekly brief, a
comparison of two hashtags, and an Excel export of a selection of posts.

A period is ``days`` days ending at the latest data for the hashtags concerned (their last
monitoring snapshot; else the last collection), so a workspace collected on other days (the demo's
simulated ones) shows its own last week; pass ``until`` for another end. Both ends are included.
Growth comes from the hashtag's own counts (``hashtag_stats``: the views and videos TikTok reports
for it): the last snapshot in the period minus the first. Top posts and authors are those
*published* in the period (:mod:`.reports`), related hashtags come from the latest association
rules run (:mod:`.rules`).

Each function takes an open connection; :func:`read_only` runs one over a short read-only
connection, as the dashboards read, so a scheduled flow writing the database is not blocked.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import duckdb
import pandas as pd

from .. import clock
from . import AnalysisError, hashtags_of, normalise_hashtag, reports, rules, time_clause, time_range, to_time, trends, whole_numbers

T = TypeVar("T")

#: What a notebook says when the workspace holds nothing yet.
NO_DATA = "no data yet: run `make demo` or `tiktok-intel collect`"
#: Most matches an export with a text query takes from the search index.
EXPORT_SEARCH_LIMIT = 10_000

_TAG_URL = "https://www.tiktok.com/tag/"
_TICK = dt.timedelta(microseconds=1)  # TIMESTAMP precision: `< until + _TICK` is `<= until`


# ------------------------------------------------------------------------------------ connection


def read_only(fn: Callable[..., T], *args: Any, db: str | Path | None = None, wait: float = 30.0, **kwargs: Any) -> T:
    """``fn(con, *args, **kwargs)`` over a short read-only connection to ``db`` (default: the
    configured database), closed right after (:func:`tiktok_intel.dashboards.data.read`). While a
    flow is writing, it waits up to ``wait`` seconds, then raises ``BusyError``.

    A workspace without a database yet gives ``fn`` an empty in-memory store instead, so it
    returns its empty result (and a notebook says "no data yet") rather than failing.
    """
    from ..dashboards import data
    from ..store import connection

    try:
        return data.read(fn, *args, db=db, wait=wait, **kwargs)
    except data.EmptyWorkspaceError:
        with connection(":memory:") as con:
            return fn(con, *args, **kwargs)
    except data.BusyError:
        raise data.BusyError(f"the database is busy: a scheduled flow has been writing to it for more than {wait:.0f} s; "
                             f"run this cell again in a minute") from None


def has_data(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether anything was collected: a post or a monitoring snapshot."""
    return bool(con.execute("SELECT EXISTS (SELECT 1 FROM posts) OR EXISTS (SELECT 1 FROM hashtag_stats)").fetchone()[0])


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
    rows = con.execute("""
SELECT t.name FROM tracked_hashtags t
LEFT JOIN (SELECT hashtag, arg_max(view_count, collected_at) AS views FROM hashtag_stats GROUP BY hashtag) s ON s.hashtag = t.name
WHERE t.active AND NOT list_contains(?::VARCHAR[], t.name)
ORDER BY s.views DESC NULLS LAST, t.name LIMIT ?""", [hashtag_list(exclude), int(n)]).fetchall()
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


def period(con: duckdb.DuckDBPyConnection, days: int = 7, hashtags: Iterable[str] | None = None, *,
           until: Any = None) -> tuple[dt.datetime, dt.datetime]:
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


def hashtag_growth(con: duckdb.DuckDBPyConnection, hashtags: str | Iterable[str] | None = None, since: Any = None,
                   until: Any = None) -> pd.DataFrame:
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
    df = con.execute(f"""
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
       '{_TAG_URL}' || hashtag AS url
FROM g ORDER BY i""", params).df()
    return whole_numbers(df, ("snapshots", "views_start", "views_end", "views_change", "videos_start", "videos_end", "videos_change"))


def snapshots(con: duckdb.DuckDBPyConnection, hashtags: Iterable[str], since: Any = None, until: Any = None) -> pd.DataFrame:
    """The monitoring snapshots of ``hashtags`` in ``[since, until]``: ``hashtag, collected_at, video_count, view_count``."""
    from ..dashboards.data import hashtag_popularity

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
    collected = con.execute(f"""
SELECT CAST(p.first_seen_at AS DATE) AS day, t.hashtag, count(*) AS collected
FROM (SELECT post_id, hashtag FROM post_hashtags UNION SELECT post_id, hashtag FROM feed_appearances) t
JOIN posts p ON p.post_id = t.post_id
WHERE list_contains(?, t.hashtag) AND p.first_seen_at IS NOT NULL{where}
GROUP BY ALL""", params).df()
    published = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["day", "published", "hashtag"])
    if published.empty and collected.empty:
        return pd.DataFrame({"day": pd.Series(dtype="object"), "hashtag": pd.Series(dtype="object"),
                             "published": pd.Series(dtype="Int64"), "collected": pd.Series(dtype="Int64")})
    for frame in (published, collected):
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
    df = published.merge(collected, on=["day", "hashtag"], how="outer").fillna({"published": 0, "collected": 0})
    order = {name: i for i, name in enumerate(names)}
    df = df.sort_values(["day", "hashtag"], key=lambda s: s.map(order) if s.name == "hashtag" else s).reset_index(drop=True)
    return whole_numbers(df[["day", "hashtag", "published", "collected"]], ("published", "collected"))


# ------------------------------------------------------------------------------------ weekly brief


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
    df = (flat.groupby(["hashtag", "related"], as_index=False)
          .agg(rules=("rule", "count"), lift=("lift", "max"), confidence=("confidence", "max"), support=("support", "max"),
               posts=("posts", "max")))
    df["example"] = df["related"].map(best)
    df["url"] = _TAG_URL + df["related"]
    df = df.sort_values(["lift", "confidence", "related"], ascending=[False, False, True]).head(int(limit)).reset_index(drop=True)
    return whole_numbers(df[columns], ("rules", "posts"))


@dataclasses.dataclass
class WeeklyBrief:
    """What :func:`weekly_brief` found; every frame has a ``hashtag`` column."""

    hashtags: list[str]
    since: dt.datetime
    until: dt.datetime
    growth: pd.DataFrame       #: :func:`hashtag_growth`, a row per hashtag
    snapshots: pd.DataFrame    #: :func:`snapshots`, for a chart of the counts over the period
    top_posts: pd.DataFrame    #: :func:`.reports.top_posts` by views, published in the period, per hashtag
    top_authors: pd.DataFrame  #: :func:`.reports.top_authors` by summed views of those posts, per hashtag
    related: pd.DataFrame      #: :func:`related`, per hashtag
    posts: dict[str, int]      #: posts published in the period, per hashtag
    rules_ran_at: dt.datetime | None  #: when the rules the related hashtags come from were mined
    has_data: bool             #: anything collected in the workspace at all

    @property
    def empty(self) -> bool:
        return not self.hashtags or (not sum(self.posts.values()) and not int(self.growth["snapshots"].fillna(0).sum()))

    def summary(self) -> str:
        if not self.has_data:
            return NO_DATA
        if not self.hashtags:
            return "no hashtag given and none tracked: name one (hashtag = \"valet2026\") or `tiktok-intel track add NAME`"
        tags = ", ".join("#" + h for h in self.hashtags)
        span = f"{self.since:%Y-%m-%d %H:%M} – {self.until:%Y-%m-%d %H:%M} UTC"
        if self.empty:
            return f"{tags}: nothing collected for {span} (no posts published, no monitoring snapshot)"
        parts = []
        for row in self.growth.itertuples(index=False):
            views = f"{row.views_change:+,} views" if not pd.isna(row.views_change) else "views: fewer than 2 snapshots"
            videos = f", {row.videos_change:+,} videos" if not pd.isna(row.videos_change) else ""
            parts.append(f"#{row.hashtag} {views}{videos}, {self.posts.get(row.hashtag, 0):,} posts published")
        return f"{span}: " + "; ".join(parts)


def weekly_brief(con: duckdb.DuckDBPyConnection, hashtag: str = "", days: int = 7, *, until: Any = None,
                 limit: int = 10) -> WeeklyBrief:
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
        hashtags=names, since=since, until=until, growth=hashtag_growth(con, names, since, until),
        snapshots=snapshots(con, names, since, until),
        top_posts=joined(posts, lambda: reports.top_posts(con, "views", limit=1).iloc[:0]),
        top_authors=joined(authors, lambda: reports.top_authors(con, "views", limit=1).iloc[:0]),
        related=joined(related_frames, lambda: related(con, "")), posts=counts,
        rules_ran_at=None if run is None else run["ran_at"], has_data=has_data(con))


# ------------------------------------------------------------------------------------ comparison


@dataclasses.dataclass
class Comparison:
    """What :func:`compare_hashtags` found."""

    hashtags: list[str]
    since: dt.datetime
    until: dt.datetime
    growth: pd.DataFrame     #: :func:`hashtag_growth`
    snapshots: pd.DataFrame  #: :func:`snapshots`
    per_day: pd.DataFrame    #: :func:`posts_per_day`
    has_data: bool

    def table(self) -> pd.DataFrame:
        """A row per hashtag: ``hashtag, views_start, views_end, views_change, views_growth,
        videos_change, videos_growth, published, collected`` (posts over the period)."""
        totals = self.per_day.groupby("hashtag", as_index=False)[["published", "collected"]].sum()
        df = self.growth[["hashtag", "views_start", "views_end", "views_change", "views_growth", "videos_change",
                          "videos_growth"]].merge(totals, on="hashtag", how="left")
        return whole_numbers(df.fillna({"published": 0, "collected": 0}), ("published", "collected"))

    def summary(self) -> str:
        if not self.has_data:
            return NO_DATA
        if not self.hashtags:
            return "no hashtags to compare: name two (first = \"valet2026\", second = \"klimat\") or track some"
        span = f"{self.since:%Y-%m-%d} – {self.until:%Y-%m-%d}"
        parts = []
        for row in self.table().itertuples(index=False):
            views = f"{row.views_change:+,} views ({row.views_growth:+.2f}%)" if not pd.isna(row.views_growth) else (
                f"{row.views_change:+,} views" if not pd.isna(row.views_change) else "views: fewer than 2 snapshots")
            parts.append(f"#{row.hashtag} {views}, {row.published:,} posts published")
        return f"{span}: " + " vs ".join(parts)


def compare_hashtags(con: duckdb.DuckDBPyConnection, first: str = "", second: str = "", days: int = 30, *,
                     until: Any = None) -> Comparison:
    """Two hashtags side by side over the ``days`` days ending at :func:`period`'s end. An empty
    name is filled with the most viewed active tracked hashtag not already named."""
    names = hashtag_list([first, second])
    names += most_viewed(con, 2 - len(names), exclude=names) if len(names) < 2 else []
    since, until = period(con, days, names, until=until)
    return Comparison(hashtags=names, since=since, until=until, growth=hashtag_growth(con, names, since, until),
                      snapshots=snapshots(con, names, since, until), per_day=posts_per_day(con, names, since, until),
                      has_data=has_data(con))


def growth_chart(result: WeeklyBrief | Comparison, *, title: str | None = None):
    """One plotly figure: the views and videos each hashtag gained since its first monitoring
    snapshot in the period (hover: TikTok's count itself), and, for a :class:`Comparison`, the
    posts published per day. Gains rather than counts, so hashtags of any size show their growth."""
    from plotly.subplots import make_subplots
    import plotly.express as px

    from .charts import _empty

    joiner = " vs " if isinstance(result, Comparison) else ", "
    title = title or f"{joiner.join('#' + h for h in result.hashtags) or 'Hashtags'}: {result.since:%Y-%m-%d} – {result.until:%Y-%m-%d}"
    per_day = result.per_day if isinstance(result, Comparison) else None
    if result.snapshots.empty and (per_day is None or per_day.empty):
        return _empty(title, "no monitoring snapshots in this period yet")
    rows = ["Views gained since the first snapshot in the period", "Videos gained"] + (["Posts published per day"] if per_day is not None else [])
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, subplot_titles=rows, vertical_spacing=0.08)
    colours = px.colors.qualitative.Plotly
    for k, name in enumerate(result.hashtags):
        colour = colours[k % len(colours)]
        snaps = result.snapshots[result.snapshots["hashtag"] == name]
        for row, column in ((1, "view_count"), (2, "video_count")):
            values = snaps[column].astype(float)
            start = values.dropna().iloc[0] if values.notna().any() else float("nan")
            fig.add_scatter(x=snaps["collected_at"], y=values - start, customdata=values, mode="lines+markers", name=f"#{name}",
                            legendgroup=name, showlegend=row == 1, line={"color": colour}, row=row, col=1,
                            hovertemplate=f"#{name} %{{x}}<br>gained %{{y:,.0f}} (count %{{customdata:,.0f}})<extra></extra>")
        if per_day is not None:
            days = per_day[per_day["hashtag"] == name]
            fig.add_bar(x=pd.to_datetime(days["day"]), y=days["published"].astype(float), name=f"#{name}", legendgroup=name,
                        showlegend=False, marker={"color": colour}, row=3, col=1)
    fig.update_layout(title=title, height=260 * len(rows) + 80, barmode="group")
    return fig


# ------------------------------------------------------------------------------------ export


@dataclasses.dataclass
class Export:
    """What :func:`export_selection` wrote (``path`` is None when nothing matched)."""

    path: Path | None
    posts: int
    authors: int
    hashtag: str | None
    since: Any
    until: Any
    query: str
    has_data: bool
    truncated: bool = False

    def selection(self) -> str:
        parts = [f"#{self.hashtag}" if self.hashtag else "all hashtags"]
        if self.since or self.until:
            parts.append(f"published {self.since or '…'} – {self.until or '…'}")
        if self.query:
            parts.append(f"matching {self.query!r}")
        return ", ".join(parts)

    def summary(self) -> str:
        if not self.has_data:
            return NO_DATA
        if self.path is None:
            return f"no posts match ({self.selection()}): nothing exported; widen the dates or drop the query"
        more = f" (the first {self.posts:,} matches)" if self.truncated else ""
        return f"{self.posts:,} posts by {self.authors:,} authors ({self.selection()}){more} -> {self.path}"


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-")[:40] or "all"


def _export_path(hashtag: str | None, query: str) -> Path:
    from ..settings import get_settings

    folder = get_settings().workspace_path / "exports"
    stem = "-".join(["posts", _slug(hashtag or "all")] + ([_slug(query)] if query else []) + [clock.now().strftime("%Y%m%dT%H%M%S")])
    path, n = folder / f"{stem}.xlsx", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.xlsx"
    return path


_URL = reports._URL
_EXPORT_POSTS = f"""
SELECT p.post_id, coalesce(a.unique_id, p.author_unique_id) AS author, a.nickname, p.description,
       coalesce(p.created_at, p.first_seen_at) AS published_at, p.views, p.likes, p.comments, p.shares, p.saves,
       {hashtags_of('p.post_id')} AS hashtags,
       {_URL} AS url, sel.score
FROM {{selection}} sel JOIN posts p ON p.post_id = sel.post_id LEFT JOIN authors a ON a.author_id = p.author_id
ORDER BY sel.score DESC NULLS LAST, p.views DESC NULLS LAST, p.post_id"""
_EXPORT_AUTHORS = """
SELECT coalesce(p.author_id, '@' || p.author_unique_id) AS author_id,
       any_value(coalesce(a.unique_id, p.author_unique_id)) AS unique_id, any_value(a.nickname) AS nickname,
       any_value(a.followers) AS followers, any_value(a.hearts) AS hearts, any_value(a.videos) AS videos,
       count(*) AS posts, sum(p.views) AS views, sum(p.likes) AS likes,
       CASE WHEN any_value(coalesce(a.unique_id, p.author_unique_id)) IS NOT NULL
            THEN 'https://www.tiktok.com/@' || any_value(coalesce(a.unique_id, p.author_unique_id)) END AS url
FROM {selection} sel JOIN posts p ON p.post_id = sel.post_id LEFT JOIN authors a ON a.author_id = p.author_id
WHERE p.author_id IS NOT NULL OR p.author_unique_id IS NOT NULL
GROUP BY 1 ORDER BY views DESC NULLS LAST, posts DESC, author_id"""


def selection(con: duckdb.DuckDBPyConnection, hashtag: str = "", since: Any = "", until: Any = "", query: str = "", *,
              limit: int = EXPORT_SEARCH_LIMIT) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """``(posts, authors, truncated)`` for the posts under ``hashtag`` (empty: any) published
    from ``since`` to ``until`` (dates, both included; empty: open), matching the text ``query``
    (ranked search over descriptions, hashtags, authors and words in images; at most ``limit``
    matches, ``truncated`` tells when there were that many).

    ``posts``: ``post_id, author, nickname, description, published_at, views, likes, comments,
    shares, saves, hashtags, url`` (best match first with a query, else most viewed first);
    ``authors``: their authors, ``author_id, unique_id, nickname, followers, hearts, videos,
    posts, views, likes, url`` (posts / views / likes: over the selected posts).
    """
    tag = normalise_hashtag(hashtag)
    time_range(since or None, until or None)  # a bad date fails here, before anything is searched
    truncated = False
    if (query or "").strip():
        from ..search import search_text

        hits = search_text(con, query, hashtag=tag, since=since or None, until=until or None, limit=int(limit))
        truncated = len(hits) >= int(limit)
        frame = pd.DataFrame({"post_id": [h.post_id for h in hits], "score": [h.score for h in hits]},
                             columns=["post_id", "score"]).astype({"post_id": "object", "score": "float64"})
        name = "_briefs_selection"
        con.register(name, frame)
        try:
            posts = con.execute(_EXPORT_POSTS.format(selection=name)).df()
            authors = con.execute(_EXPORT_AUTHORS.format(selection=name)).df()
        finally:
            con.unregister(name)
    else:
        params: list[Any] = []
        where = reports._filters(tag, since or None, until or None, params)
        sub = f"(SELECT p.post_id, NULL::DOUBLE AS score FROM posts p WHERE TRUE{where})"
        posts = con.execute(_EXPORT_POSTS.format(selection=sub), params).df()
        authors = con.execute(_EXPORT_AUTHORS.format(selection=sub), params).df()
    if not (query or "").strip():
        posts = posts.drop(columns=["score"])
    posts = whole_numbers(posts, ("views", "likes", "comments", "shares", "saves"))
    authors = whole_numbers(authors, ("followers", "hearts", "videos", "posts", "views", "likes"))
    return posts, authors, truncated


def _write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    from openpyxl.utils import get_column_letter

    from ..dashboards.ui import _frame_for_export

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with pd.ExcelWriter(partial, engine="openpyxl") as writer:
        for name, df in sheets.items():
            _frame_for_export(df).to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            if "url" in df.columns:  # clickable links
                column = get_column_letter(list(df.columns).index("url") + 1)
                for cell in sheet[column][1:]:
                    if isinstance(cell.value, str) and cell.value.startswith("https://"):
                        cell.hyperlink = cell.value
                        cell.style = "Hyperlink"
            sheet.freeze_panes = "A2"
    partial.replace(path)


def export_selection(con: duckdb.DuckDBPyConnection, hashtag: str = "", since: Any = "", until: Any = "", query: str = "", *,
                     path: str | Path | None = None, limit: int = EXPORT_SEARCH_LIMIT) -> Export:
    """Write the :func:`selection` to an Excel file: a ``posts`` sheet (with TikTok links) and an
    ``authors`` sheet. ``path`` defaults to ``<workspace>/exports/posts-<hashtag>-<time>.xlsx``.
    Nothing is written when no post matches (the result's ``path`` is None)."""
    tag = normalise_hashtag(hashtag)
    anything = has_data(con)
    if not anything:
        return Export(None, 0, 0, tag, since, until, query or "", has_data=False)
    posts, authors, truncated = selection(con, tag or "", since, until, query, limit=limit)
    if posts.empty:
        return Export(None, 0, 0, tag, since, until, query or "", has_data=True)
    target = Path(path) if path is not None else _export_path(tag, query or "")
    _write_xlsx(target, {"posts": posts, "authors": authors})
    return Export(target, len(posts), len(authors), tag, since, until, query or "", has_data=True, truncated=truncated)
