"""The tracked hashtag list: normalisation, validation, add / remove / list, and the `track` CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import T0

from tiktok_intel import clock, tracking
from tiktok_intel.cli import main
from tiktok_intel.errors import HashtagError


@pytest.mark.parametrize(
    "given, expected",
    [
        ("valet2026", "valet2026"),
        ("#SVTnyheter", "svtnyheter"),
        ("  #Klimat ", "klimat"),
        ("Miljö", "miljö"),
        ("ÅÄÖ_2026", "åäö_2026"),
        ("mil" + "jo\u0308", "miljö"),  # decomposed ö is the same hashtag as composed ö
        ("Ελλάδα", "ελλάδα"),
        ("日本", "日本"),
    ],
)
def test_normalise_accepts_hashtags_and_normalises_them(given, expected):
    assert tracking.normalise(given) == expected


@pytest.mark.parametrize(
    "bad, hint",
    [
        ("", "not a hashtag"),
        ("#", "not a hashtag"),
        ("två ord", "' '"),
        ("val-2026", "'-'"),
        ("klimat!", "'!'"),
        ("🔥fire", "🔥"),
        ("a" * 101, "at most 100"),
        ("#a#b", "'#'"),
    ],
)
def test_normalise_rejects_bad_names_with_one_line_naming_the_fix(bad, hint):
    with pytest.raises(HashtagError) as info:
        tracking.normalise(bad)
    message = str(info.value)
    assert "\n" not in message and hint in message
    assert "letters" in message or "hashtag" in message


def test_add_normalises_dedupes_and_reports_what_is_new(con):
    with clock.frozen(T0):
        assert tracking.add(con, ["valet2026", "#VALET2026", "'#SVTnyheter'".strip("'"), "klimat"]) == ["valet2026", "svtnyheter", "klimat"]
        assert tracking.add(con, ["klimat", "miljö"]) == ["miljö"]
    assert tracking.active(con) == ["klimat", "miljö", "svtnyheter", "valet2026"]


def test_add_validates_every_name_before_adding_any(con):
    with pytest.raises(HashtagError):
        tracking.add(con, ["valet2026", "not valid"])
    assert tracking.active(con) == []


def test_remove_deactivates_and_keeps_history_and_re_add_reactivates(con):
    with clock.frozen(T0):
        tracking.add(con, ["valet2026", "klimat"])
    later = T0 + dt.timedelta(days=2)
    with clock.frozen(later):
        assert tracking.remove(con, ["#Klimat"]) == ["klimat"]
    row = con.execute("SELECT active, added_at, removed_at FROM tracked_hashtags WHERE name = 'klimat'").fetchone()
    assert row == (False, T0, later)
    assert tracking.active(con) == ["valet2026"]
    with pytest.raises(HashtagError, match="not tracked: klimat"):
        tracking.remove(con, ["klimat"])
    with clock.frozen(later + dt.timedelta(days=1)):
        assert tracking.add(con, ["klimat"]) == ["klimat"]
    assert con.execute("SELECT active, removed_at FROM tracked_hashtags WHERE name = 'klimat'").fetchone() == (True, None)


def test_list_shows_posts_last_collected_and_last_stats(con):
    with clock.frozen(T0):
        tracking.add(con, ["valet2026", "klimat"])
    con.execute("INSERT INTO post_hashtags VALUES ('1', 'valet2026'), ('2', 'valet2026'), ('2', 'klimat')")
    con.execute("INSERT INTO hashtag_stats VALUES ('valet2026', ?, 10, 100), ('valet2026', ?, 12, 150)", [T0, T0 + dt.timedelta(hours=1)])
    con.execute("UPDATE tracked_hashtags SET last_collected_at = ? WHERE name = 'valet2026'", [T0 + dt.timedelta(hours=2)])
    with clock.frozen(T0 + dt.timedelta(days=1)):
        tracking.remove(con, ["klimat"])
    rows = {r.name: r for r in tracking.list_tracked(con)}
    assert rows["valet2026"].posts == 2 and rows["valet2026"].video_count == 12 and rows["valet2026"].view_count == 150
    assert rows["valet2026"].stats_at == T0 + dt.timedelta(hours=1)
    assert rows["valet2026"].last_collected_at == T0 + dt.timedelta(hours=2)
    assert rows["klimat"].active is False and rows["klimat"].posts == 1 and rows["klimat"].video_count is None
    assert [r.name for r in tracking.list_tracked(con, include_inactive=False)] == ["valet2026"]
    table = tracking.format_table(list(rows.values()))
    assert "valet2026" in table and "150" in table and "last collected" in table


def test_track_cli(workspace, capsys):
    db = str(workspace.db_target)
    assert main(["--db", db, "track", "add", "valet2026", "#SVTnyheter", "klimat"]) == 0
    assert "tracking valet2026, svtnyheter, klimat" in capsys.readouterr().out
    assert main(["--db", db, "track", "add", "Klimat"]) == 0
    assert "already tracked: klimat" in capsys.readouterr().out
    assert main(["--db", db, "track", "remove", "klimat"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "track", "list"]) == 0
    out = capsys.readouterr().out
    assert "svtnyheter" in out and "klimat" in out and " no " in out
    assert main(["--db", db, "track", "add", "bad name"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tiktok-intel: ") and err.count("\n") == 1 and "letters, digits and underscore" in err
    assert main(["--db", db, "track", "remove", "nosuch"]) == 1
    assert "not tracked: nosuch" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["track", "--help"],
        ["track", "add", "--help"],
        ["track", "remove", "--help"],
        ["track", "list", "--help"],
        ["collect", "--help"],
        ["monitor", "--help"],
        ["offline-tiktok", "--help"],
    ],
)
def test_every_collection_subcommand_has_help(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage:" in capsys.readouterr().out
