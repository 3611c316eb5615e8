"""What each rule kind finds in the store now: :class:`Item` values, each with a key (what it is
about), a state (an item alerts once per rule until its state changes), one line for the digest
with the numbers behind it, and its TikTok link."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import duckdb

from .. import clock
from ..conventions import TIKTOK, hashtag_link, post_link, tracked_item, tracked_posts_sql
from ..conventions import hashtag as normalise
from .rules import ENTITIES, Rule


@dataclasses.dataclass(frozen=True)
class Item:
    key: str
    state: str
    line: str
    link: str
    numbers: dict[str, Any] = dataclasses.field(default_factory=dict)


def _n(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _signed(value: Any) -> str:
    return "–" if value is None else ("+" if value >= 0 else "") + _n(value)


def _tags(rule: Rule) -> list[str]:
    """The hashtags among the rule's ``hashtags`` (those a hashtag rule can name)."""
    items = [tracked_item(h) for h in rule.get("hashtags") or []]
    return [name for kind, name in (i for i in items if i) if kind == "hashtag"]


def _posts_of(rule: Rule) -> tuple[str, list[str]] | None:
    """The posts of the rule's ``hashtags`` (hashtags, ``@accounts``, ``"keywords"``) as one subquery, or None."""
    parts = [q for q in (tracked_posts_sql(h) for h in rule.get("hashtags") or []) if q]
    if not parts:
        return None
    return " UNION ".join(f"({sql})" for sql, _ in parts), [p for _, params in parts for p in params]


def growth(con: duckdb.DuckDBPyConnection, rule: Rule) -> list[Item]:
    entity, metric, window, by = rule.get("entity"), rule.get("metric"), rule.get("window"), rule.get("by")
    threshold = float(rule.get("threshold"))
    change, rate = f"{metric}_change_{window}", f"{metric}_growth_{window}"
    column = change if by == "change" else rate
    tags = _tags(rule)
    params: list[Any] = [threshold]
    if ENTITIES[entity] == "posts":
        where = ""
        posts_of = _posts_of(rule)
        if posts_of is not None:
            where = f" AND t.post_id IN ({posts_of[0]})"
            params += posts_of[1]
        rows = con.execute(
            f"""SELECT t.post_id, coalesce(a.unique_id, p.author_unique_id), t.{metric}, t.{change}, t.{rate}, left(p.description, 80)
                FROM post_trends t LEFT JOIN posts p USING (post_id) LEFT JOIN authors a ON a.author_id = p.author_id
                WHERE t.{column} >= ? {where} ORDER BY t.{column} DESC LIMIT 200""",
            params,
        ).fetchall()
        return [
            Item(
                key,
                "above",
                f"@{who or '?'} “{desc or ''}”: {metric} {_n(value)} ({_signed(ch)} in {window}, {_signed(gr)}%)",
                post_link(who, key),
                {metric: value, change: ch, rate: gr},
            )
            for key, who, value, ch, gr, desc in rows
        ]
    if ENTITIES[entity] == "authors":
        rows = con.execute(
            f"""SELECT t.author_id, a.unique_id, t.{metric}, t.{change}, t.{rate} FROM author_trends t
                LEFT JOIN authors a USING (author_id) WHERE t.{column} >= ? ORDER BY t.{column} DESC LIMIT 200""",
            params,
        ).fetchall()
        return [
            Item(
                key,
                "above",
                f"@{who or key}: {metric} {_n(value)} ({_signed(ch)} in {window}, {_signed(gr)}%)",
                f"{TIKTOK}/@{who}" if who else "",
                {metric: value, change: ch, rate: gr},
            )
            for key, who, value, ch, gr in rows
        ]
    where = ""
    if tags:
        where = " AND hashtag IN (SELECT unnest(?))"
        params.append(tags)
    rows = con.execute(
        f"""SELECT hashtag, {metric}, {change}, {rate} FROM hashtag_trends WHERE {column} >= ? {where}
            ORDER BY {column} DESC LIMIT 200""",
        params,
    ).fetchall()
    return [
        Item(
            key,
            "above",
            f"#{key}: {metric} {_n(value)} ({_signed(ch)} in {window}, {_signed(gr)}%)",
            hashtag_link(key),
            {metric: value, change: ch, rate: gr},
        )
        for key, value, ch, gr in rows
    ]


def removed(con: duckdb.DuckDBPyConnection, rule: Rule) -> list[Item]:
    from ..analyses import availability

    frame = availability.removed_posts(con, statuses=tuple(rule.get("statuses")))
    posts_of = _posts_of(rule)
    allowed = {r[0] for r in con.execute(posts_of[0], posts_of[1]).fetchall()} if posts_of else None
    items = []
    for row in frame.to_dict("records"):
        if allowed is not None and str(row["post_id"]) not in allowed:
            continue
        gone = row["first_seen_gone"]
        seen = row["last_seen_available"]
        views = row["views"]
        items.append(
            Item(
                row["post_id"],
                row["status"],
                f"@{row['author'] or '?'} “{(row['caption'] or '')[:80]}”: {row['status'].replace('_', '-')} "
                f"(first seen gone {gone:%Y-%m-%d %H:%M} UTC, last seen available "
                f"{seen:%Y-%m-%d %H:%M} UTC, {_n(None if views != views else views)} views at the last copy)"
                if seen is not None and seen == seen
                else f"@{row['author'] or '?'} “{(row['caption'] or '')[:80]}”: {row['status'].replace('_', '-')}",
                row["link"],
                {"status": row["status"], "views": None if views != views else int(views), "detail": row["detail"]},
            )
        )
    return items


def duplicates(con: duckdb.DuckDBPyConnection, rule: Rule) -> list[Item]:
    from ..search import find_duplicates
    from ..search.hashing import hash_media

    hash_media(con, workers=1)  # covers collected since the last hashing (nothing when all are hashed)
    groups = find_duplicates(con, max_distance=int(rule.get("max_distance")), min_accounts=int(rule.get("min_accounts")))
    items = []
    for group in groups:
        lead = group.posts[0]
        when = f" from {lead.created_at:%Y-%m-%d %H:%M} UTC" if lead.created_at else ""
        others = " ".join(p.url for p in group.posts[1:6])
        items.append(
            Item(
                lead.post_id,
                "reached",
                f"one image posted {group.size} times by {group.accounts} accounts{when}, first by @{lead.author or '?'}; "
                f"copies: {others}" + (" …" if group.size > 6 else ""),
                lead.url,
                {"posts": group.size, "accounts": group.accounts},
            )
        )
    return items


def related(con: duckdb.DuckDBPyConnection, rule: Rule) -> list[Item]:
    from ..analyses import rules as rules_analysis

    tag = normalise(rule.get("hashtag"))
    if rules_analysis.latest_run(con) is None:
        return []
    frame = rules_analysis.stored_rules(con)
    items = []
    for row in frame.to_dict("records"):
        a, c = list(row["antecedents"]), list(row["consequents"])
        if tag not in a + c or row["lift"] < float(rule.get("min_lift")):
            continue
        key = ",".join(a) + "->" + ",".join(c)
        other = next((h for h in c + a if h != tag), tag)
        items.append(
            Item(
                key,
                "present",
                f"{', '.join('#' + x for x in a)} → {', '.join('#' + x for x in c)}: lift {row['lift']:.2f}, "
                f"confidence {row['confidence']:.2f}, {int(row['post_count']):,} posts",
                hashtag_link(other),
                {"lift": float(row["lift"]), "confidence": float(row["confidence"]), "posts": int(row["post_count"])},
            )
        )
    return items


def keyword(con: duckdb.DuckDBPyConnection, rule: Rule) -> list[Item]:
    words = [w for w in str(rule.get("query")).lower().split() if w]
    since = clock.now() - dt.timedelta(days=float(rule.get("within_days")))
    text = "lower(coalesce(p.description, '') || ' ' || coalesce((SELECT string_agg(h.hashtag, ' ') FROM post_hashtags h WHERE h.post_id = p.post_id), ''))"
    match = " AND ".join(f"contains({text}, ?)" for _ in words)
    rows = con.execute(
        f"""SELECT p.post_id, coalesce(a.unique_id, p.author_unique_id), left(p.description, 100), p.views, p.url
            FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id
            WHERE p.first_seen_at >= ? AND {match} ORDER BY p.first_seen_at DESC, p.post_id LIMIT 200""",
        [since, *[w.lstrip("#") if w.startswith("#") else w for w in words]],
    ).fetchall()
    return [
        Item(key, "matched", f"@{who or '?'} “{desc or ''}”: {_n(views)} views", url or post_link(who, key), {"views": views})
        for key, who, desc, views, url in rows
    ]


KINDS = {"growth": growth, "removed": removed, "duplicates": duplicates, "related": related, "keyword": keyword}


def evaluate(con: duckdb.DuckDBPyConnection, rule: Rule) -> list[Item]:
    return KINDS[rule.kind](con, rule)
