"""The interactive table editors use (itables' DataTables, offline) and downloads built on click."""

from __future__ import annotations

import base64
import io
import json
import re

import pandas as pd

from tiktok_intel import settings as settings_module
from tiktok_intel.dashboards import ui


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "author": [f"<img src=x onerror=alert({i})>" if i == 0 else f"user{i}" for i in range(n)],
            "views": list(range(n)),
            "growth": [i / 3 for i in range(n)],
            "published_at": pd.to_datetime(["2026-11-09 23:30:00"] * n),
            "url": [f"https://www.tiktok.com/@user{i}/video/{i}" for i in range(n)],
        }
    )


def test_every_row_is_there_to_sort_search_and_page_through(workspace):
    box = ui.interactive_table(_frame(450), css_class="ti-table ti-trending")
    table = box.table
    rows = json.loads(table._dt_args["data_json"])
    assert len(rows) == 450  # not capped at 200 rows, not downsampled
    assert {"ti-trending", "ti-interactive"} <= set(table._dom_classes)
    first = rows[0]
    assert "<img" not in first[0] and "&lt;img" in first[0]  # TikTok's text is escaped before DataTables shows it as HTML
    assert first[1] == 0 and rows[5][2][1] == 1.67  # numbers stay numbers ([shown, value]): they sort as numbers
    assert first[3] == "2026-11-10 00:30"  # local time
    assert re.fullmatch(r'<a href="https://www\.tiktok\.com/@user0/video/0"[^>]*>Öppna inlägg 0 av @user0 på TikTok</a>', first[4])
    assert table._dt_args["language"]["search"] == "Sök i tabellen:" and table._dt_args["pageLength"] == 20
    assert "Tider i Europe/Stockholm" in box.children[-1].value


def test_under_the_dashboards_server_a_table_carries_a_loader_not_the_library(workspace, monkeypatch):
    from itables.widget import ITable

    from tiktok_intel.dashboards import table_library

    monkeypatch.delenv(settings_module.env_name("dashboard_table_library"), raising=False)
    own = ui.interactive_table(_frame(3)).table
    assert isinstance(own, ITable) and len(own._esm) > 500_000 and own._css  # JupyterLab, plain Voilà: itables' own, library inside
    monkeypatch.setenv(settings_module.env_name("dashboard_table_library"), "tiktok-intel/table-library/")
    shared = ui.interactive_table(_frame(3)).table
    assert isinstance(shared, ITable) and len(shared._esm) < 2_000 and shared._css == ""
    assert '"tiktok-intel/table-library/"' in shared._esm and shared._dt_args == own._dt_args
    assert table_library.table_class() is table_library.table_class()  # one class, not one a table


def test_the_table_speaks_english_when_asked(workspace):
    settings_module.configure(settings_module.get_settings(), ui_language="en")
    table = ui.interactive_table(_frame(3)).table
    assert table._dt_args["language"]["search"] == "Search the table:"


def test_downloads_are_built_on_click_in_three_formats(workspace):
    box = ui.downloads(_frame(3), "trending")
    [button, links] = box.children
    assert links.value == ""  # nothing encoded until asked for
    button.click()
    found = dict(re.findall(r'download="([^"]+)" href="data:[^;]+;base64,([^"]+)"', links.value))
    assert set(found) == {"trending.csv", "trending-excel.csv", "trending.xlsx"}
    excel_csv = base64.b64decode(found["trending-excel.csv"]).decode("utf-8-sig")
    assert excel_csv.splitlines()[0] == "author;views;growth;published_at;published_at (Europe/Stockholm);url"
    assert ";0,333333333" in excel_csv  # decimal commas
    rfc = pd.read_csv(io.BytesIO(base64.b64decode(found["trending.csv"])), encoding="utf-8-sig")
    assert len(rfc) == 3 and "CSV för Excel" in links.value
