"""Association rules between hashtags: which hashtags go together in the posts of a window.

Transactions are the hashtag sets of the posts collected in a window (default: the last 30 days).
They are mined with mlxtend's ``fpgrowth`` on a sparse one-hot frame that holds only the hashtags
frequent enough to matter (docs/architecture.md: at 200,000 posts x 20,000 hashtags the unpruned frame
turns dense, 12 s and 4 GB; pruned, the same itemsets take 1.7 s and 191 MB), then
``association_rules`` by confidence. Every run recomputes from its window, so support,
confidence and lift are those of one real set of posts (never summed across runs), and each run
is stored with its time, window, number of posts and thresholds.

Thresholds:

- ``min_support`` below 1 is a fraction of the posts; 1 or more is a number of posts (``5``:
  itemsets in at least 5 posts). Fractions become a post count as ``ceil(fraction * posts)``,
  computed so that float error cannot push an exact boundary up (``0.1 * 50`` is 5 posts, not 6).
- ``min_confidence`` keeps a rule whose confidence equals it: the comparison has a tolerance of
  1e-9, since a rule at exactly 5/50 = 0.1 comes out of float division as 0.0999...
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from .. import clock
from ..conventions import hashtag as normalise_hashtag
from ..conventions import tracked_item, tracked_label, tracked_posts_sql
from ..progress import progress
from ..store import transaction
from . import AnalysisError

#: Tolerance of the confidence comparison (see the module docstring).
CONFIDENCE_TOLERANCE = 1e-9

#: Columns of :func:`mine_rules`, named as mlxtend names them, plus the number of posts.
RULE_COLUMNS = [
    "antecedents",
    "consequents",
    "antecedent support",
    "consequent support",
    "support",
    "confidence",
    "lift",
    "representativity",
    "leverage",
    "conviction",
    "zhangs_metric",
    "jaccard",
    "certainty",
    "kulczynski",
    "post_count",
]

#: Columns of the stored rules and of the command line's output, in order.
OUTPUT_COLUMNS = [
    "antecedents",
    "consequents",
    "support",
    "confidence",
    "lift",
    "post_count",
    "antecedent_support",
    "consequent_support",
    "leverage",
    "conviction",
]


class RulesError(AnalysisError):
    """Thresholds or a window that cannot be used for association rules."""


def min_support_count(min_support: float, n_transactions: int) -> int:
    """The minimum number of posts an itemset needs: ``min_support`` as a fraction (< 1) or a count (>= 1)."""
    try:
        value = float(min_support)
    except (TypeError, ValueError):
        raise RulesError(
            f"minimum support {min_support!r} is not a number: use a fraction such as 0.01 or a post count such as 20"
        ) from None
    if not value > 0 or math.isinf(value):
        raise RulesError(f"minimum support {min_support} must be above 0: use a fraction such as 0.01 or a post count such as 20")
    if value >= 1:
        if value != int(value):
            raise RulesError(
                f"minimum support {min_support} is neither a fraction below 1 nor a whole number of posts: use e.g. 0.01 or 20"
            )
        return int(value)
    return max(1, math.ceil(value * n_transactions - 1e-9))


def _check_confidence(min_confidence: float) -> float:
    try:
        value = float(min_confidence)
    except (TypeError, ValueError):
        raise RulesError(f"minimum confidence {min_confidence!r} is not a number: use a fraction such as 0.5") from None
    if not 0 < value <= 1:
        raise RulesError(f"minimum confidence {min_confidence} must be above 0 and at most 1: use a fraction such as 0.5")
    return value


def _check_max_len(max_len: int | None) -> int | None:
    if max_len is None or max_len == 0:
        return None
    if int(max_len) < 2:
        raise RulesError(f"maximum itemset length {max_len} leaves no rules: use 2 or more (or 0 for no limit)")
    return int(max_len)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object" if c in ("antecedents", "consequents") else "float64") for c in RULE_COLUMNS})


def mine_codes(
    rows: np.ndarray,
    items: np.ndarray,
    names: Sequence[str],
    n_transactions: int,
    *,
    min_support: float = 0.05,
    min_confidence: float = 0.5,
    max_len: int | None = None,
    exclude_consequents: Iterable[str] = (),
    max_itemsets: int = 500_000,
) -> pd.DataFrame:
    """Rules from (transaction, item) code pairs: the core of :func:`mine_rules` and :func:`run_rules`.

    ``rows[i]`` is a transaction number in ``[0, n_transactions)``, ``items[i]`` an index into
    ``names``; pairs must be distinct. Transactions without any pair still count in the supports.
    More than ``max_itemsets`` frequent itemsets (posts that repeat one long list of hashtags make
    millions) stop the run with an error naming the fix, instead of exhausting memory.
    """
    from mlxtend.frequent_patterns import association_rules
    from scipy import sparse

    min_confidence = _check_confidence(min_confidence)
    max_len = _check_max_len(max_len)
    if n_transactions <= 0:
        return _empty()
    min_count = min_support_count(min_support, n_transactions)
    rows = np.asarray(rows, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    counts = np.bincount(items, minlength=len(names))
    frequent = np.flatnonzero(counts >= min_count)
    if len(frequent) == 0:
        return _empty()
    # prune to the frequent items, then to the transactions that hold one (others cannot support an itemset)
    new_index = np.full(len(names), -1, dtype=np.int64)
    new_index[frequent] = np.arange(len(frequent))
    keep = new_index[items] >= 0
    rows, cols = rows[keep], new_index[items[keep]]
    kept_rows, rows = np.unique(rows, return_inverse=True)
    n_kept = len(kept_rows)
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n_kept, len(frequent)))
    frame = pd.DataFrame.sparse.from_spmatrix(matrix, columns=[str(names[i]) for i in frequent])
    itemsets = _frequent_itemsets(frame, min_count, n_transactions, max_len, max_itemsets)
    del frame, matrix
    if itemsets.empty or itemsets["itemsets"].map(len).max() < 2:
        return _empty()
    candidates = int(sum(2 ** len(x) - 2 for x in itemsets["itemsets"]))
    if candidates > max_itemsets * 10:
        raise RulesError(
            f"{len(itemsets):,} frequent hashtag sets would give {candidates:,} candidate rules: "
            f"raise the minimum support or lower the maximum length (e.g. --max-len 3)"
        )
    with np.errstate(divide="ignore", invalid="ignore"):  # mlxtend's certainty metric divides by 0 for confidence-1 rules
        rules = association_rules(
            itemsets, num_itemsets=n_transactions, metric="confidence", min_threshold=min_confidence - CONFIDENCE_TOLERANCE
        )
    excluded = {str(x) for x in exclude_consequents}
    if excluded and not rules.empty:
        rules = rules[~rules["consequents"].map(lambda c: bool(excluded & set(c)))]
    rules = rules.reset_index(drop=True)
    rules["post_count"] = np.rint(rules["support"].to_numpy() * n_transactions).astype(np.int64)
    return rules.sort_values(["lift", "confidence", "support"], ascending=False, kind="stable").reset_index(drop=True)


def _frequent_itemsets(frame: pd.DataFrame, min_count: int, n_transactions: int, max_len: int | None, max_itemsets: int) -> pd.DataFrame:
    """mlxtend ``fpgrowth`` (its own tree and recursion), stopped after ``max_itemsets`` itemsets.

    Supports are ``count / n_transactions``: bit for bit what mlxtend gives on the full frame.
    """
    from mlxtend.frequent_patterns import fpcommon
    from mlxtend.frequent_patterns.fpgrowth import fpg_step

    n_rows = len(frame.index)
    # mlxtend takes ceil(min_support * rows) as its count: (min_count - 0.5) / rows gives exactly min_count
    tree, _, _ = fpcommon.setup_fptree(frame, (min_count - 0.5) / n_rows)
    colnames = dict(enumerate(frame.columns))
    counts: list[int] = []
    itemsets: list[frozenset] = []
    for count, itemset in fpg_step(tree, min_count, colnames, max_len, 0):
        if len(itemsets) >= max_itemsets:
            raise RulesError(
                f"more than {max_itemsets:,} hashtag sets reach the minimum support ({min_count:,} posts; posts that "
                f"repeat one long hashtag list cause this): raise the minimum support or set a maximum length (e.g. --max-len 3)"
            )
        counts.append(int(count))
        itemsets.append(frozenset(colnames[i] for i in itemset))
    return pd.DataFrame({"support": np.asarray(counts, dtype=np.int64) / float(n_transactions), "itemsets": itemsets})


def mine_rules(
    transactions: Iterable[Iterable[str]],
    *,
    min_support: float = 0.05,
    min_confidence: float = 0.5,
    max_len: int | None = None,
    exclude_consequents: Iterable[str] = (),
) -> pd.DataFrame:
    """Association rules from transactions (each an iterable of hashtags), with mlxtend's columns.

    With mlxtend's defaults (``min_support=0.05``, ``min_confidence=0.5``) this gives the same
    rules, supports, confidences and lifts as ``apriori`` / ``fpgrowth`` followed by
    ``association_rules(..., metric="confidence", min_threshold=0.5)`` on the dense one-hot frame.
    Columns: :data:`RULE_COLUMNS` (``antecedents`` / ``consequents`` are frozensets).
    """
    rows: list[int] = []
    labels: list[str] = []
    n = 0
    for n, basket in enumerate(transactions, start=1):
        for item in set(basket):
            rows.append(n - 1)
            labels.append(str(item))
    codes, names = pd.factorize(pd.Series(labels, dtype="object"))
    return mine_codes(
        np.asarray(rows, dtype=np.int64),
        codes,
        list(names),
        n,
        min_support=min_support,
        min_confidence=min_confidence,
        max_len=max_len,
        exclude_consequents=exclude_consequents,
    )


# --------------------------------------------------------------------------------------------
# runs over the store


@dataclasses.dataclass
class RulesRun:
    run_id: str
    ran_at: dt.datetime
    window_days: int
    window_start: dt.datetime | None
    window_end: dt.datetime
    posts: int
    min_support: float
    min_support_count: int
    min_confidence: float
    max_len: int | None
    excluded_consequents: list[str]
    rules: pd.DataFrame
    seconds: float
    tracked: str | None = None  # whose posts were mined (tracked_label); None: all posts

    def summary(self) -> str:
        window = f"the last {self.window_days} days" if self.window_days else "all posts"
        of = f" of {self.tracked}" if self.tracked else ""
        return (
            f"{len(self.rules):,} rules from {self.posts:,} posts{of} ({window}; support >= {self.min_support_count:,} posts, "
            f"confidence >= {self.min_confidence:g}) in {self.seconds:.2f} s; run {self.run_id}"
        )


def _window(window_days: int, now: dt.datetime) -> dt.datetime | None:
    try:
        days = int(window_days)
    except (TypeError, ValueError):
        raise RulesError(f"window {window_days!r} is not a number of days: use e.g. --window-days 30 (0 = all posts)") from None
    if days < 0:
        raise RulesError(f"window {window_days} days is negative: use e.g. --window-days 30 (0 = all posts)")
    return now - dt.timedelta(days=days) if days else None


def run_rules(
    con: duckdb.DuckDBPyConnection,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.5,
    window_days: int = 30,
    max_len: int | None = 3,
    exclude_tracked: bool = True,
    store: bool = True,
    max_itemsets: int = 500_000,
    hashtag: Any = None,
) -> RulesRun:
    """Mine the rules of the posts collected in the last ``window_days`` (0: all posts) and store the run.

    ``hashtag``: only the posts of that tracked item (a hashtag, an ``@account``, a ``"keyword"``
    or a ``(kind, name)`` pair: :func:`~tiktok_intel.conventions.tracked_posts_sql`, as trends and
    reports filter); the run is stored as that item's (:func:`latest_run` with the same item).

    A post is in the window when it was last collected at or after ``now - window_days``. With
    ``exclude_tracked`` the active tracked hashtags never appear as a consequent (every post of
    their feed carries them, so rules towards them say nothing). ``max_len`` (default 3: rules
    among up to three hashtags; None or 0: no limit) keeps posts that repeat one long hashtag list
    from producing millions of rules; ``max_itemsets`` stops a run that would anyway.
    """
    started = time.perf_counter()
    now = clock.now()
    start = _window(window_days, now)
    min_confidence = _check_confidence(min_confidence)
    max_len = _check_max_len(max_len)
    min_support_count(min_support, 1)  # validate before reading anything
    item = tracked_item(hashtag)
    excluded = (
        [r[0] for r in con.execute("SELECT name FROM tracked_hashtags WHERE active ORDER BY name").fetchall()] if exclude_tracked else []
    )
    with progress(total=3, desc="rules", unit="step") as bar:
        seen = "coalesce(last_seen_at, first_seen_at, created_at)"
        where, params = (f"{seen} >= ? AND {seen} <= ?", [start, now]) if start is not None else ("TRUE", [])
        if item is not None:
            posts_of, of_params = tracked_posts_sql(item)
            where, params = f"{where} AND post_id IN ({posts_of})", [*params, *of_params]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _rule_posts AS SELECT post_id, (row_number() OVER () - 1)::BIGINT AS i FROM posts WHERE {where}",
            params,
        )
        n = int(con.execute("SELECT count(*) FROM _rule_posts").fetchone()[0])
        min_count = min_support_count(min_support, max(n, 1))
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _rule_items AS
                       SELECT hashtag, (row_number() OVER (ORDER BY hashtag) - 1)::BIGINT AS j FROM (
                         SELECT h.hashtag FROM post_hashtags h JOIN _rule_posts p ON p.post_id = h.post_id
                         GROUP BY h.hashtag HAVING count(*) >= ?)""",
            [min_count],
        )
        names = [r[0] for r in con.execute("SELECT hashtag FROM _rule_items ORDER BY j").fetchall()]
        pairs = con.execute("""SELECT p.i, f.j FROM post_hashtags h JOIN _rule_posts p ON p.post_id = h.post_id
                               JOIN _rule_items f ON f.hashtag = h.hashtag""").fetchnumpy()
        con.execute("DROP TABLE IF EXISTS _rule_posts")
        con.execute("DROP TABLE IF EXISTS _rule_items")
        bar.update(1)
        rules = mine_codes(
            pairs["i"],
            pairs["j"],
            names,
            n,
            min_support=min_count,
            min_confidence=min_confidence,
            max_len=max_len,
            exclude_consequents=excluded,
            max_itemsets=max_itemsets,
        )
        bar.update(1)
        out = _output_frame(rules)
        run = RulesRun(
            run_id=f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
            ran_at=now,
            window_days=int(window_days),
            window_start=start,
            window_end=now,
            posts=n,
            min_support=float(min_support) if float(min_support) < 1 else (min_count / n if n else 0.0),
            min_support_count=min_count,
            min_confidence=min_confidence,
            max_len=max_len,
            excluded_consequents=excluded,
            rules=out,
            seconds=0.0,
            tracked=tracked_label(*item) if item else None,
        )
        if store:
            _store(con, run)
        bar.update(1)
    run.seconds = time.perf_counter() - started
    if store:
        con.execute("UPDATE rule_runs SET seconds = ? WHERE run_id = ?", [run.seconds, run.run_id])
    return run


def _output_frame(rules: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "antecedents": [sorted(x) for x in rules["antecedents"]],
            "consequents": [sorted(x) for x in rules["consequents"]],
            "support": rules["support"].astype(float),
            "confidence": rules["confidence"].astype(float),
            "lift": rules["lift"].astype(float),
            "post_count": rules["post_count"].astype("int64") if len(rules) else pd.Series(dtype="int64"),
            "antecedent_support": rules["antecedent support"].astype(float),
            "consequent_support": rules["consequent support"].astype(float),
            "leverage": rules["leverage"].astype(float),
            "conviction": rules["conviction"].astype(float),
        }
    )
    return out[OUTPUT_COLUMNS]


def _store(con: duckdb.DuckDBPyConnection, run: RulesRun) -> None:
    frame = run.rules.copy()
    frame.insert(0, "rule_no", np.arange(len(frame), dtype=np.int32))
    frame.insert(0, "run_id", run.run_id)
    with transaction(con):
        con.execute(
            "INSERT INTO rule_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run.run_id,
                run.ran_at,
                run.window_days,
                run.window_start,
                run.window_end,
                run.posts,
                run.min_support,
                run.min_support_count,
                run.min_confidence,
                run.max_len,
                run.excluded_consequents,
                len(frame),
                0.0,
                run.tracked,
            ],
        )
        if len(frame):
            con.register("_rules_frame", frame)
            try:
                con.execute("""INSERT INTO rules BY NAME SELECT run_id, rule_no, antecedents::VARCHAR[] AS antecedents,
                               consequents::VARCHAR[] AS consequents, antecedent_support, consequent_support, support, confidence,
                               lift, leverage, conviction, post_count FROM _rules_frame""")
            finally:
                con.unregister("_rules_frame")


def _tracked(hashtag: Any) -> str | None:
    """How runs over the posts of the tracked item ``hashtag`` are stored (``rule_runs.tracked``); None: all posts."""
    item = tracked_item(hashtag)
    return tracked_label(*item) if item else None


def latest_run(con: duckdb.DuckDBPyConnection, hashtag: Any = None) -> dict[str, Any] | None:
    """The last stored run over all posts, or over those of the tracked item ``hashtag`` (see
    :func:`run_rules`), as a dict of its ``rule_runs`` row; or None."""
    df = con.execute(
        "SELECT * FROM rule_runs WHERE tracked IS NOT DISTINCT FROM ? ORDER BY ran_at DESC, run_id DESC LIMIT 1", [_tracked(hashtag)]
    ).df()
    return None if df.empty else df.iloc[0].to_dict()


def tracked_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tracked items some stored run mined the posts of (``rule_runs.tracked``), in order."""
    return [r[0] for r in con.execute("SELECT DISTINCT tracked FROM rule_runs WHERE tracked IS NOT NULL ORDER BY 1").fetchall()]


def rule_runs(con: duckdb.DuckDBPyConnection, limit: int = 20) -> pd.DataFrame:
    """The latest runs: when, window, number of posts, thresholds, number of rules."""
    return con.execute("SELECT * FROM rule_runs ORDER BY ran_at DESC, run_id DESC LIMIT ?", [int(limit)]).df()


def _run_id(con: duckdb.DuckDBPyConnection, run_id: str | None, hashtag: Any = None) -> str | None:
    if run_id is not None:
        if not con.execute("SELECT count(*) FROM rule_runs WHERE run_id = ?", [run_id]).fetchone()[0]:
            raise RulesError(f"no rules run {run_id!r}: see the runs with `tiktok-intel rules --runs`")
        return run_id
    run = latest_run(con, hashtag)
    return None if run is None else run["run_id"]


def stored_rules(
    con: duckdb.DuckDBPyConnection, run_id: str | None = None, *, hashtag: Any = None, limit: int | None = None
) -> pd.DataFrame:
    """The rules of a run (default: the latest, over all posts or those of the tracked item
    ``hashtag``), strongest lift first, with :data:`OUTPUT_COLUMNS`."""
    rid = _run_id(con, run_id, hashtag)
    sql = f"SELECT {', '.join(OUTPUT_COLUMNS)} FROM rules WHERE run_id = ? ORDER BY rule_no"
    params: list[Any] = [rid]
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    return _lists(con.execute(sql, params).df())


def related_hashtags(
    con: duckdb.DuckDBPyConnection, name: str, *, run_id: str | None = None, hashtag: Any = None, limit: int | None = None
) -> pd.DataFrame:
    """The rules of a run (default: the latest, over all posts or those of the tracked item
    ``hashtag``) that involve hashtag ``name``, on either side.

    Columns: :data:`OUTPUT_COLUMNS` and ``side`` (``antecedent`` / ``consequent``).
    """
    tag = normalise_hashtag(name)
    if tag is None:
        raise RulesError("no hashtag given: name one, e.g. related_hashtags(con, 'val2026')")
    rid = _run_id(con, run_id, hashtag)
    sql = f"""SELECT {", ".join(OUTPUT_COLUMNS)},
                     CASE WHEN list_contains(antecedents, ?) THEN 'antecedent' ELSE 'consequent' END AS side
              FROM rules WHERE run_id = ? AND (list_contains(antecedents, ?) OR list_contains(consequents, ?))
              ORDER BY rule_no"""
    params: list[Any] = [tag, rid, tag, tag]
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    return _lists(con.execute(sql, params).df())


def _lists(df: pd.DataFrame) -> pd.DataFrame:
    for column in ("antecedents", "consequents"):
        if column in df:
            df[column] = [list(x) for x in df[column]]
    if "post_count" in df:
        df["post_count"] = df["post_count"].astype("Int64")
    return df
