"""Time for people (one zone, default Europe/Stockholm), the catalogue in two languages with the
locale's formats, the CSV for Excel, and views read from a page's address."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from tiktok_intel import localtime, texts
from tiktok_intel import settings as settings_module
from tiktok_intel.analyses import exports, reports, time_range, trends
from tiktok_intel.cli.output import print_frame
from tiktok_intel.dashboards import views


def _posts(con, *first_seen: str) -> None:
    for n, when in enumerate(first_seen):
        con.execute(
            "INSERT INTO posts (post_id, first_seen_at, last_seen_at, created_at) VALUES (?, ?, ?, ?)",
            [str(7000 + n), when, when, when],
        )


def test_a_post_first_seen_2330_utc_on_9_november_counts_on_10_november(con):
    _posts(con, "2026-11-09 23:30:00", "2026-11-09 22:30:00")
    days = reports.overview(con, "day")
    assert dict(zip(days["period"], days["posts"])) == {dt.date(2026, 11, 9): 1, dt.date(2026, 11, 10): 1}
    published = trends.new_posts_per_day(con)  # by day of publication: local too
    assert dict(zip(pd.to_datetime(published["day"]).dt.date, published["posts"])) == {dt.date(2026, 11, 9): 1, dt.date(2026, 11, 10): 1}


def test_across_the_change_of_the_clocks_the_buckets_stay_whole_days(con):
    # 25 October 2026: Stockholm goes from CEST (+2) to CET (+1); that day has 25 hours
    _posts(con, "2026-10-24 22:30:00", "2026-10-25 22:30:00", "2026-10-25 23:30:00", "2026-10-23 21:59:00")
    days = reports.overview(con, "day")
    assert list(days["period"]) == [dt.date(2026, 10, 23), dt.date(2026, 10, 24), dt.date(2026, 10, 25), dt.date(2026, 10, 26)]
    assert list(days["posts"]) == [1, 0, 2, 1]  # 00:30 CEST and 23:30 CET are both 25 October; 00:30 CET the 26th
    start, end = localtime.day_bounds(dt.date(2026, 10, 25))
    assert end - start == dt.timedelta(hours=25)
    weeks = reports.overview(con, "week")
    assert all(pd.Timestamp(p).day_of_week == 0 for p in weeks["period"])  # local Mondays


def test_a_named_day_is_a_local_day(workspace):
    lo, hi = time_range("2026-11-10", "2026-11-10")
    assert (lo, hi) == (dt.datetime(2026, 11, 9, 23), dt.datetime(2026, 11, 10, 23))
    lo, hi = time_range("2026-07-01", None)
    assert lo == dt.datetime(2026, 6, 30, 22)  # summer time: +2
    settings_module.configure(settings_module.get_settings(), timezone="UTC")
    assert time_range("2026-11-10", "2026-11-10") == (dt.datetime(2026, 11, 10), dt.datetime(2026, 11, 11))


def test_the_date_filter_of_search_is_a_local_day(workspace):
    from tiktok_intel.search.text import _as_time

    assert _as_time("2026-11-10", "--since", end=False) == dt.datetime(2026, 11, 9, 23)
    assert _as_time("2026-11-10", "--until", end=True) == dt.datetime(2026, 11, 10, 23)


def test_an_unknown_zone_is_one_line(workspace):
    settings_module.configure(settings_module.get_settings(), timezone="Mars/Olympus")
    with pytest.raises(Exception, match="unknown time zone 'Mars/Olympus'.*Europe/Stockholm"):
        localtime.local_sql("first_seen_at")


def test_cli_tables_show_local_times_and_say_the_zone(workspace):
    frame = pd.DataFrame({"post_id": ["1"], "published_at": pd.to_datetime(["2026-11-09 23:30:00"])})
    out = io.StringIO()
    print_frame(frame, "table", file=out)
    assert "2026-11-10T00:30:00" in out.getvalue() and "(times in Europe/Stockholm)" in out.getvalue()
    out = io.StringIO()
    print_frame(frame, "csv", file=out)
    assert "2026-11-09T23:30:00" in out.getvalue()  # machine formats keep the store's UTC


def test_exports_keep_utc_and_add_the_local_time_beside_it(workspace):
    frame = pd.DataFrame({"post_id": ["1"], "published_at": pd.to_datetime(["2026-11-09 23:30:00"]), "views": [3]})
    csv = exports.to_csv_bytes(frame).decode("utf-8-sig").splitlines()
    assert csv[0] == "post_id,published_at,published_at (Europe/Stockholm),views"
    assert csv[1] == "1,2026-11-09 23:30:00,2026-11-10 00:30:00,3"


def test_csv_for_excel_has_semicolons_decimal_commas_and_no_formulas(workspace):
    frame = pd.DataFrame({"text": ['=HYPERLINK("x")', "+46 70", "a;b", "@home"], "growth": [12.5, 0.25, None, 3.0], "n": [1, 2, 3, 4]})
    text = exports.to_excel_csv_bytes(frame).decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "text;growth;n"
    assert lines[1] == '\'=HYPERLINK(""x"")\';12,5;1'.replace('\'=HYPERLINK(""x"")\'', '"\'=HYPERLINK(""x"")"')
    assert lines[2] == "'+46 70;0,25;2" and lines[3] == '"a;b";;3' and lines[4] == "'@home;3;4"
    assert exports.to_excel_csv_bytes(frame).startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 (å ä ö)


def test_every_catalogue_entry_has_both_languages():
    for key, entry in texts.CATALOGUE.items():
        assert set(entry) == set(texts.LANGUAGES), key
        for lang in texts.LANGUAGES:
            assert entry[lang].strip(), (key, lang)
    fields = {k: sorted(__import__("string").Formatter().parse(v["sv"])) for k, v in texts.CATALOGUE.items()}
    for key, entry in texts.CATALOGUE.items():  # the same {fields} in both
        names = lambda s: sorted(f for _, f, _, _ in __import__("string").Formatter().parse(s) if f)  # noqa: E731
        assert names(entry["sv"]) == names(entry["en"]), key
    assert fields


def test_numbers_and_dates_in_the_language(workspace):
    assert texts.language() == "sv"  # the default
    assert texts.number(1234567).replace("\u00a0", " ") == "1 234 567"
    assert texts.decimal(12.5) == "12,5" and texts.percent(12.5).replace("\u00a0", " ") == "12,5 %"
    assert texts.t("download_csv_excel") == "CSV för Excel"
    settings_module.configure(settings_module.get_settings(), ui_language="en")
    assert texts.number(1234567) == "1,234,567" and texts.decimal(12.5) == "12.5" and texts.t("download_csv") == "Download CSV"
    assert texts.date(dt.date(2026, 11, 10)) == "10 Nov 2026"
    settings_module.configure(settings_module.get_settings(), ui_language="fi")
    with pytest.raises(Exception, match="TIKTOK_INTEL_UI_LANGUAGE='fi'.*sv or en"):
        texts.language()


def test_a_view_reads_its_filters_from_the_address_typed_like_the_defaults(workspace):
    environ = {"QUERY_STRING": "hashtag=klimat&window=30d&limit=50&token=secret&db=/etc/passwd&lang=en"}
    got = views.from_url(environ, window="7d", hashtag="", limit=20, metric="views")
    assert got == {"window": "30d", "hashtag": "klimat", "limit": 50, "metric": "views"}  # db and token never taken
    assert texts.language() == "en"
    assert views.from_url({"QUERY_STRING": "limit=many"}, limit=20) == {"limit": 20}
    texts.use(None)
    assert texts.language() == "sv"
    html = views.share_html({"hashtag": "klimat", "window": "30d", "start": dt.date(2026, 11, 1), "end": None})
    assert "href='?hashtag=klimat&amp;window=30d&amp;start=2026-11-01'" in html and "Kopiera länk" in html
    evil = views.share_html({"hashtag": "'><script>alert(1)</script>"})
    assert "<script>" not in evil
