"""Association rules: golden mlxtend output, thresholds at their boundaries, runs over the store."""

from __future__ import annotations

import ast
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tiktok_intel import clock
from tiktok_intel.analyses import rules
from tiktok_intel.analyses.rules import RulesError, min_support_count, mine_rules

T = dt.datetime(2026, 11, 24, 8, 0)


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    def key(value):
        items = ast.literal_eval(value.replace("frozenset(", "").rstrip(")")) if isinstance(value, str) else value
        return tuple(sorted(items))

    out = df.assign(_a=df["antecedents"].map(key), _c=df["consequents"].map(key))
    return out.set_index(["_a", "_c"]).sort_index()


@pytest.mark.parametrize("size, n_posts, n_rules", [("small", 22, 52), ("large", 919, 23)])
def test_reproduces_golden_mlxtend_rules(shared_fixtures, size, n_posts, n_rules):
    pairs = pd.read_csv(shared_fixtures / "rules" / f"posts_hashtags_{size}.csv", dtype=str)
    baskets = pairs.groupby("post_id", sort=False)["challenge_title"].apply(list)
    assert len(baskets) == n_posts
    got = _keyed(mine_rules(baskets.tolist(), min_support=0.05, min_confidence=0.5))
    golden = _keyed(pd.read_csv(shared_fixtures / "rules" / f"rules_{size}_mlxtend.csv"))
    assert len(golden) == n_rules
    assert list(got.index) == list(golden.index)
    for column in ("support", "confidence", "lift", "antecedent support", "consequent support", "leverage", "conviction"):
        np.testing.assert_allclose(got[column].to_numpy(), golden[column].to_numpy(), rtol=0, atol=1e-12, err_msg=column)
    assert (got["post_count"] == np.rint(golden["support"] * n_posts)).all()


def _boundary_baskets():
    # 54 posts: 'a' in 50 of them, 'b' in 5 (all with 'a'): a -> b has confidence 5/50 = 0.1 exactly,
    # which float division of the supports gives as 0.0999...
    return [["a", "b"]] * 5 + [["a"]] * 45 + [["c"]] * 4


def test_rule_at_exactly_min_confidence_is_kept():
    assert (5 / 54) / (50 / 54) < 0.1  # the trap is real for these numbers
    got = mine_rules(_boundary_baskets(), min_support=5, min_confidence=0.1)
    pairs = {(tuple(a), tuple(c)) for a, c in zip(got.antecedents, got.consequents)}
    assert (("a",), ("b",)) in pairs and (("b",), ("a",)) in pairs
    above = mine_rules(_boundary_baskets(), min_support=5, min_confidence=0.1001)
    assert [(tuple(a), tuple(c)) for a, c in zip(above.antecedents, above.consequents)] == [(("b",), ("a",))]


def test_support_as_post_count_and_fraction_boundary():
    assert min_support_count(0.07, 100) == 7  # 0.07 * 100 is 7.000000000000001 in floats
    assert min_support_count(7, 100) == 7 and min_support_count(0.5, 3) == 2
    baskets = [["x", "y"]] * 7 + [["z"]] * 93
    by_fraction = mine_rules(baskets, min_support=0.07, min_confidence=0.5)
    by_count = mine_rules(baskets, min_support=7, min_confidence=0.5)
    assert len(by_fraction) == 2 and by_fraction.equals(by_count)
    assert by_fraction.support.tolist() == [0.07, 0.07] and by_fraction.post_count.tolist() == [7, 7]
    assert mine_rules(baskets, min_support=8, min_confidence=0.5).empty
    assert mine_rules(baskets, min_support=0.08, min_confidence=0.5).empty


def test_bad_thresholds_name_the_fix():
    with pytest.raises(RulesError, match="whole number of posts"):
        min_support_count(2.5, 100)
    with pytest.raises(RulesError, match="above 0"):
        min_support_count(0, 100)
    with pytest.raises(RulesError, match="at most 1"):
        mine_rules([["a"]], min_confidence=1.5)
    with pytest.raises(RulesError, match="2 or more"):
        mine_rules([["a"]], max_len=1)


def test_max_len_and_no_transactions():
    baskets = [["a", "b", "c"]] * 10 + [["a"]] * 2
    all_rules = mine_rules(baskets, min_support=0.5, min_confidence=0.5)
    assert max(len(a) + len(c) for a, c in zip(all_rules.antecedents, all_rules.consequents)) == 3
    pairs_only = mine_rules(baskets, min_support=0.5, min_confidence=0.5, max_len=2)
    assert len(pairs_only) == 6 and all(len(a) + len(c) == 2 for a, c in zip(pairs_only.antecedents, pairs_only.consequents))
    assert mine_rules([], min_support=0.1).empty
    assert list(mine_rules([], min_support=0.1).columns) == rules.RULE_COLUMNS


def _store_posts(con, baskets, seen_at):
    start = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    for i, basket in enumerate(baskets, start=start):
        con.execute("INSERT INTO posts (post_id, first_seen_at, last_seen_at) VALUES (?, ?, ?)", [f"p{i}", seen_at, seen_at])
        for tag in basket:
            con.execute("INSERT INTO post_hashtags VALUES (?, ?)", [f"p{i}", tag])


@pytest.fixture
def store(con):
    # the tracked hashtag 'val2026' is on every post of its feed
    _store_posts(
        con, [["val2026", "sverige", "politik"]] * 6 + [["val2026", "sverige"]] * 2 + [["val2026", "mat"]] * 2, T - dt.timedelta(days=2)
    )
    _store_posts(con, [["old", "tag"]] * 30, T - dt.timedelta(days=60))
    con.execute("INSERT INTO tracked_hashtags (name, added_at) VALUES ('val2026', ?)", [T - dt.timedelta(days=90)])
    return con


def test_run_over_window_excludes_tracked_consequents_and_stores_the_run(store):
    with clock.frozen(T):
        run = rules.run_rules(store, min_support=0.2, min_confidence=0.5, window_days=30)
    assert run.posts == 10 and run.min_support_count == 2 and run.excluded_consequents == ["val2026"]
    assert not any("val2026" in c for c in run.rules.consequents)
    assert any("val2026" in a for a in run.rules.antecedents)
    assert not any("old" in a + c for a, c in zip(run.rules.antecedents, run.rules.consequents))
    row = store.execute("SELECT posts, window_days, window_start, window_end, rules, min_support_count FROM rule_runs").fetchone()
    assert row == (10, 30, T - dt.timedelta(days=30), T, len(run.rules), 2)
    stored = rules.stored_rules(store)
    assert list(stored.columns[:5]) == ["antecedents", "consequents", "support", "confidence", "lift"]
    assert len(stored) == len(run.rules) and stored.antecedents.tolist() == run.rules.antecedents.tolist()
    with clock.frozen(T):
        everything = rules.run_rules(store, min_support=0.2, min_confidence=0.5, window_days=0, exclude_tracked=False)
    assert everything.posts == 40 and everything.window_start is None
    assert any(c == ["val2026"] for c in everything.rules.consequents)
    assert any(a == ["old"] and c == ["tag"] for a, c in zip(everything.rules.antecedents, everything.rules.consequents))


def test_support_never_above_one_across_runs_and_related_hashtags(store):
    for day in range(3):
        with clock.frozen(T + dt.timedelta(hours=day)):
            rules.run_rules(store, min_support=2, min_confidence=0.3, window_days=30)
    assert store.execute("SELECT count(*) FROM rule_runs").fetchone()[0] == 3
    assert store.execute("SELECT max(support), max(confidence) FROM rules").fetchone()[0] <= 1.0
    related = rules.related_hashtags(store, "#Politik")
    assert len(related) > 0
    assert all("politik" in a or "politik" in c for a, c in zip(related.antecedents, related.consequents))
    assert set(related.side) == {"antecedent", "consequent"}
    latest = rules.latest_run(store)["run_id"]
    assert len(related) == len(rules.related_hashtags(store, "politik", run_id=latest))
    # only the latest run's rules: three runs stored, the same rules are not counted three times
    assert (
        len(related)
        == store.execute(
            "SELECT count(*) FROM rules WHERE run_id = ? AND (list_contains(antecedents, 'politik') OR list_contains(consequents, 'politik'))",
            [latest],
        ).fetchone()[0]
    )
    with pytest.raises(RulesError, match="--runs"):
        rules.stored_rules(store, run_id="nope")


def test_empty_store_gives_an_empty_run(con):
    run = rules.run_rules(con, min_support=0.1)
    assert run.posts == 0 and run.rules.empty and "0 rules from 0 posts" in run.summary()
    with pytest.raises(RulesError, match="days"):
        rules.run_rules(con, window_days=-1)


def _pair_rules(baskets, min_count, min_confidence):
    """Single-hashtag rules a -> c of ``baskets``, counted by hand: {(a, c): (support, confidence, posts)}."""
    n = len(baskets)
    tags = sorted({t for b in baskets for t in b})
    count = {t: sum(t in b for b in baskets) for t in tags}
    out = {}
    for a in tags:
        for c in tags:
            both = sum(a in b and c in b for b in baskets)
            if a != c and count[a] >= min_count and both >= min_count and both / count[a] >= min_confidence - 1e-9:
                out[(a, c)] = (round(both / n, 9), round(both / count[a], 9), both)
    return out


def _as_pairs(frame):
    return {
        (a[0], c[0]): (round(s, 9), round(conf, 9), int(k))
        for a, c, s, conf, k in zip(frame.antecedents, frame.consequents, frame.support, frame.confidence, frame.post_count)
    }


def test_rules_over_the_posts_of_one_account_or_keyword(con):
    seen = T - dt.timedelta(days=1)
    own = [["nyheter", "sverige"]] * 4 + [["nyheter", "väder"]] * 3 + [["sport"]] * 2  # @svtnyheter's
    listed = [["mat", "recept"]] * 3 + [["mat"]] * 2  # the keyword "vatten brist" listed these
    rest = [["sverige", "mat"]] * 6 + [["väder", "sport"]] * 5
    baskets = own + listed + rest
    for i, basket in enumerate(baskets):
        author = "SVTnyheter" if i < len(own) else "annan"
        con.execute(
            "INSERT INTO posts (post_id, author_unique_id, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)", [f"q{i}", author, seen, seen]
        )
        for tag in basket:
            con.execute("INSERT INTO post_hashtags VALUES (?, ?)", [f"q{i}", tag])
        if len(own) <= i < len(own) + len(listed):
            con.execute(
                "INSERT INTO listings (kind, tracked, post_id, collected_at) VALUES ('keyword', 'vatten brist', ?, ?)", [f"q{i}", seen]
            )
    settings = {"min_support": 2, "min_confidence": 0.5, "window_days": 0, "max_len": 2, "exclude_tracked": False}
    with clock.frozen(T):
        everything = rules.run_rules(con, **settings)
    with clock.frozen(T + dt.timedelta(minutes=1)):
        account = rules.run_rules(con, **settings, hashtag="@svtnyheter")
    with clock.frozen(T + dt.timedelta(minutes=2)):
        keyword = rules.run_rules(con, **settings, hashtag=("keyword", "Vatten brist"))

    assert everything.posts == len(baskets) and _as_pairs(everything.rules) == _pair_rules(baskets, 2, 0.5)
    assert account.posts == len(own) and _as_pairs(account.rules) == _pair_rules(own, 2, 0.5)
    assert keyword.posts == len(listed) and _as_pairs(keyword.rules) == _pair_rules(listed, 2, 0.5)
    assert _as_pairs(account.rules) != _as_pairs(everything.rules) and ("sverige", "nyheter") in _as_pairs(account.rules)
    assert account.tracked == "@svtnyheter" and "posts of @svtnyheter" in account.summary()

    # stored as that item's runs: the latest over all posts is still the all-posts one
    runs = dict(con.execute("SELECT run_id, tracked FROM rule_runs").fetchall())
    assert runs == {everything.run_id: None, account.run_id: "@svtnyheter", keyword.run_id: '"vatten brist"'}
    assert rules.latest_run(con)["run_id"] == everything.run_id
    assert rules.latest_run(con, "@SVTnyheter")["run_id"] == account.run_id
    assert rules.latest_run(con, "#sverige") is None
    assert rules.tracked_runs(con) == ['"vatten brist"', "@svtnyheter"]
    assert _as_pairs(rules.stored_rules(con, hashtag="@svtnyheter")) == _as_pairs(account.rules)
    related = rules.related_hashtags(con, "mat", hashtag='"vatten brist"')
    assert {(a[0], c[0]) for a, c in zip(related.antecedents, related.consequents)} == {
        k for k in _pair_rules(listed, 2, 0.5) if "mat" in k
    }
