"""`tiktok-intel trends|rules|report`: names, columns and formats scripts rely on."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from tiktok_intel import cli, clock
from tiktok_intel.store import open_db

PROJECT = Path(__file__).resolve().parents[1]
T = dt.datetime(2026, 11, 24, 8, 0)
DAY = dt.timedelta(days=1)
POST_COLUMNS = [
    "post_id",
    "views",
    "views_change_1d",
    "views_change_7d",
    "views_change_30d",
    "views_growth_1d",
    "views_growth_7d",
    "views_growth_30d",
]


@pytest.fixture
def db(workspace):
    users = _snapshot(PROJECT / "data")
    con = open_db(workspace.db_target)
    con.execute("INSERT INTO tracked_hashtags (name, added_at) VALUES ('val2026', ?)", [T - 60 * DAY])
    # p1: snapshots 1 d and 7 d old; p2: first seen 2 days ago (no 7 d / 30 d value)
    for at, views in [(T - 7 * DAY, 100), (T - DAY, 400), (T, 1000)]:
        con.execute("INSERT INTO post_stats VALUES ('p1', ?, ?, 1, 1, 1, 0)", [at, views])
    for at, views in [(T - 2 * DAY, 50), (T, 60)]:
        con.execute("INSERT INTO post_stats VALUES ('p2', ?, ?, 1, 1, 1, 0)", [at, views])
    for i, (pid, views) in enumerate([("p1", 1000), ("p2", 60)] + [(f"q{i}", i) for i in range(8)]):
        con.execute(
            "INSERT INTO posts (post_id, author_id, author_unique_id, created_at, views, first_seen_at, last_seen_at) "
            "VALUES (?, 'a1', 'alice', ?, ?, ?, ?)",
            [pid, T - DAY, views, T - DAY, T],
        )
        tags = ["val2026", "sverige", "politik"] if i % 2 == 0 else ["val2026", "sverige"]
        for tag in tags:
            con.execute("INSERT INTO post_hashtags VALUES (?, ?)", [pid, tag])
        con.execute("INSERT INTO feed_appearances VALUES ('val2026', ?, ?, ?, 'r1')", [pid, T, i + 1])
    con.close()
    yield workspace
    # the default database (data/ in the folder commands run in) was never made, and the
    # checkout's own data/ (a demo's workspace, perhaps) is as it was
    assert not (Path.cwd() / "data" / "tiktok.duckdb").exists()
    assert _snapshot(PROJECT / "data") == users


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    if not folder.is_dir():
        return {}
    return {str(f.relative_to(folder)): (f.stat().st_size, f.stat().st_mtime_ns) for f in folder.rglob("*") if f.is_file()}


def run(capsys, *argv):
    from tiktok_intel.settings import get_settings

    code = cli.main(["--db", get_settings().db_target, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_trends_csv_has_the_documented_columns_and_empty_cells(db, capsys):
    with clock.frozen(T):
        code, out, err = run(capsys, "trends", "--refresh", "--format", "csv")
    assert code == 0 and "posts trends" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    header = out.splitlines()[0].split(",")
    assert header[:8] == POST_COLUMNS and header[-1] == "url"
    assert {"likes_change_7d", "comments_growth_30d", "shares"} <= set(header)
    by_id = {r["post_id"]: r for r in rows}
    assert set(by_id) == {"p1", "p2"}  # every post with snapshots
    assert by_id["p1"]["views"] == "1000" and by_id["p1"]["views_change_1d"] == "600" and by_id["p1"]["views_change_7d"] == "900"
    assert by_id["p1"]["views_change_30d"] == "" and by_id["p1"]["views_growth_30d"] == ""
    assert float(by_id["p1"]["views_growth_1d"]) == pytest.approx(150.0)
    assert by_id["p2"]["views_change_1d"] == "10" and by_id["p2"]["views_change_7d"] == ""
    assert by_id["p1"]["url"] == "https://www.tiktok.com/@alice/video/p1"


def test_trends_json_table_and_options(db, capsys):
    code, out, _ = run(capsys, "trends", "--format", "json", "--window", "7d", "--limit", "1")  # first listing refreshes
    data = json.loads(out)
    assert code == 0 and len(data) == 1 and data[0]["post_id"] == "p1" and data[0]["views_change_7d"] == 900
    assert json.loads(run(capsys, "trends", "--format", "json")[1])[1]["views_change_7d"] is None
    code, out, _ = run(capsys, "trends", "--hashtag", "#val2026")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["post_id", "views", "views_change_1d"] and "p1" in out
    code, out, _ = run(capsys, "trends", "--kind", "authors", "--refresh", "--format", "csv")
    assert code == 0 and out.startswith("author_id,unique_id,followers,followers_change_1d")
    code, _, err = run(capsys, "trends", "--metric", "followers")
    assert code == 1 and err.startswith("tiktok-intel: unknown metric for posts 'followers': use one of views")
    with pytest.raises(SystemExit):
        run(capsys, "trends", "--window", "2d")
    capsys.readouterr()


def test_rules_columns_and_window(db, capsys):
    with clock.frozen(T):
        code, out, err = run(capsys, "rules", "--min-support", "0.3", "--min-confidence", "0.5", "--window-days", "0", "--format", "csv")
    assert code == 0 and "rules from 10 posts (all posts" in err
    header = out.splitlines()[0].split(",")
    assert header[:5] == ["antecedents", "consequents", "support", "confidence", "lift"]
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all("val2026" not in r["consequents"] for r in rows)  # tracked: not a consequent
    assert all(0 < float(r["support"]) <= 1 for r in rows)
    with clock.frozen(T + 90 * DAY):
        code, out, err = run(capsys, "rules", "--window-days", "30", "--format", "json")
    assert code == 0 and json.loads(out) == [] and "from 0 posts" in err
    with clock.frozen(T):
        code, out, _ = run(capsys, "rules", "--min-support", "3", "--window-days", "0", "--include-tracked", "--format", "json")
    assert any(r["consequents"] == ["val2026"] for r in json.loads(out))
    code, out, _ = run(capsys, "rules", "--related", "politik", "--format", "json")
    assert code == 0 and all("politik" in r["antecedents"] + r["consequents"] for r in json.loads(out))
    code, out, _ = run(capsys, "rules", "--runs", "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 4  # header + 3 runs
    code, _, err = run(capsys, "rules", "--min-support", "2.5")
    assert code == 1 and "whole number of posts" in err and len(err.splitlines()) == 1


def test_reports(db, capsys):
    code, out, _ = run(capsys, "report", "top-posts", "--limit", "2", "--format", "json")
    data = json.loads(out)
    assert code == 0 and [r["post_id"] for r in data] == ["p1", "p2"] and data[0]["hashtags"] == ["politik", "sverige", "val2026"]
    code, out, _ = run(capsys, "report", "top-authors", "--metric", "views", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("rank,author_id,unique_id,nickname,posts,views")
    code, out, _ = run(capsys, "report", "feed", "--hashtag", "val2026", "--limit", "3")
    assert code == 0 and out.splitlines()[0].split()[:4] == ["rank", "post_id", "hashtag", "collections"]
    code, out, _ = run(capsys, "report", "overview", "--period", "month", "--format", "json")
    assert code == 0 and json.loads(out)[0]["posts_total"] == 10
    code, _, err = run(capsys, "report", "top-posts", "--start", "2026-12-01", "--end", "2026-11-01")
    assert code == 1 and "swap --start and --end" in err


def test_help_lists_the_commands(capsys):
    for argv in (["trends", "--help"], ["rules", "--help"], ["report", "--help"], ["report", "overview", "--help"]):
        with pytest.raises(SystemExit) as done:
            cli.main(argv)
        assert done.value.code == 0
        assert "usage: tiktok-intel" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in ("trends", "rules", "report", "process"))
