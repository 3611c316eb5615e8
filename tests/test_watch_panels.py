"""The Overview page's watch panels: removed posts with their last stored copy, and alert deliveries (failed ones first)."""

from __future__ import annotations

import datetime as dt

import ipywidgets as w
import pytest
from test_dashboard_panels import find, texts
from test_search_text import add_posts

from tiktok_intel import dashboards as ti
from tiktok_intel.collect.recheck import record

T = dt.datetime(2026, 11, 20, 8, 0)


@pytest.fixture(autouse=True)
def english(workspace):
    """The panels in English (the default language is Swedish), as the texts below are."""
    from tiktok_intel import settings as settings_module

    settings_module.configure(settings_module.get_settings(), ui_language="en")


def test_empty_workspace_panels_say_how_to_start(workspace, con):
    con.close()
    assert "No post rechecked yet" in texts(ti.removed_posts_panel(None))
    assert "No alert sent yet" in texts(ti.alerts_panel(None))


def test_removed_posts_show_their_last_copy_escaped(workspace, con):
    add_posts(
        con, [{"post_id": "1", "author": "svt", "views": 1234, "description": "<b>Valet</b> #val2026"}, {"post_id": "2", "author": "x"}]
    )
    assert "Every rechecked post is still there" not in texts(ti.removed_posts_panel(None))
    record(con, [("1", "removed", "statusCode 10204: item doesn't exist"), ("2", "available", "")], at=T)
    con.close()
    panel = ti.removed_posts_panel(None)
    for prepare in find(panel, w.Button, description="Prepare download"):  # the files are built on click
        prepare.click()
    text = texts(panel)
    assert 'data-post-id="1"' in text and 'data-post-id="2"' not in text
    assert "&lt;b&gt;Valet&lt;/b&gt;" in text and "<b>Valet</b>" not in text  # TikTok's text is escaped
    # 08:00 UTC is 09:00 in Stockholm (CET), the zone the desk reads
    assert (
        "Removed" in text and "first seen gone 2026-11-20 09:00" in text and "Times in Europe/Stockholm" in text and "1,234 views" in text
    )
    assert "https://www.tiktok.com/@svt/video/1" in text and "removed-posts.csv" in text


def test_failed_deliveries_are_listed_first(workspace, con):
    for n, (status, error) in enumerate((("sent", None), ("failed", "slack webhook desk answered HTTP 500: nope"))):
        con.execute(
            "INSERT INTO alert_deliveries VALUES (?, 'gone', 'desk', ?, ?, '{}', 1, ?, 1, ?, NULL)",
            [f"d{n}", T + dt.timedelta(minutes=n), f"gone: 1 new item #{n}", status, error],
        )
    con.close()
    text = texts(ti.alerts_panel(None))
    assert "1 alert delivery failed: tried again on the next run." in text and "answered HTTP 500" in text
    assert text.index("ti-failed-alerts") < text.index("Latest alerts")
