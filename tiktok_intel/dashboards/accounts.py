"""Accounts dashboard: the watched accounts (followers and their 1/7/30-day change), a chosen
account's followers, hearts and videos over time, its latest posts, and downloads."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..analyses import following
from ..texts import t
from . import data, ui, views

SERIES = ("followers", "hearts", "videos")


def account_figure(frame: pd.DataFrame, account: str, metric: str = "followers"):
    """The account's ``metric`` at each profile snapshot."""
    import plotly.express as px

    from ..analyses.charts import _empty

    title = t("account_over_time", account=account, metric=t("series_" + metric))
    if frame is None or frame.empty or frame[metric].isna().all():
        return _empty(title, t("no_profile_snapshots"))
    points = frame.dropna(subset=[metric]).copy()
    points[metric] = points[metric].astype(float)
    return px.line(points, x="collected_at", y=metric, markers=len(points) <= 60, title=title)


@ui.panel
def accounts_panel(db: str | None = None, metric: str = "followers", posts: int = 10, account: str = ""):
    """Every tracked account with its latest followers (or ``metric``) and change; a chosen one's
    (``account``, else the first) trend and latest posts, with CSV and Excel downloads and a link to the view."""
    import ipywidgets as w

    report = data.read(following.account_report, "followers", db=db)
    if report.empty:
        return ui.message(t("no_accounts_yet"))
    names = list(report["account"])
    wanted = str(account or "").strip().lstrip("@").lower()
    chosen = next((n for n in names if n.lower() == wanted), names[0])
    pick = w.Dropdown(options=[(f"@{n}", n) for n in names], value=chosen, description=t("account"))
    show_metric = w.ToggleButtons(
        options=[(t("series_" + s), s) for s in SERIES], value=metric if metric in SERIES else "followers", description=t("show")
    )
    share = views.share_link({})
    overview = w.VBox()
    detail = w.VBox()

    def show_overview() -> None:
        def body() -> None:
            frame = data.read(following.account_report, show_metric.value, db=db)
            with ui.filling(overview) as display:
                display(ui.interactive_table(frame, css_class="ti-table ti-accounts"))
                display(ui.downloads(frame, "accounts"))

        ui.guarded(overview, body)

    def show_detail(*_: Any) -> None:
        def body() -> None:
            share.update({"account": pick.value, "metric": show_metric.value})
            series = data.read(following.account_series, pick.value, db=db)
            latest = data.read(following.account_posts, pick.value, limit=int(posts), db=db)
            with ui.filling(detail) as display:
                display(ui.figure(account_figure(series, pick.value, show_metric.value)))
                display(ui.downloads(series, f"account_{pick.value}"))
                display(
                    ui.interactive_table(latest, empty=t("no_account_posts", account=pick.value), css_class="ti-table ti-account-posts")
                )

        ui.guarded(detail, body)

    def on_metric(*_: Any) -> None:
        show_overview()
        show_detail()

    pick.observe(show_detail, names="value")
    show_metric.observe(on_metric, names="value")
    on_metric()
    return w.VBox([show_metric, overview, pick, share, detail])
