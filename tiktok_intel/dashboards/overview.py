"""Overview dashboard: counts, growth per period, the flows' last runs and next scheduled times."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ..analyses import charts, reports
from ..texts import t
from . import data, ui


@ui.panel
def counts_panel(db: str | None = None):
    """Posts, authors, hashtags and tracked hashtags, as four tiles."""
    import ipywidgets as w

    values = data.read(data.counts, db=db)
    tiles = "".join(
        f"<div class='ti-tile' data-what='{html.escape(k)}' style='display:inline-block;min-width:140px;margin:4px 8px 4px 0;"
        f"padding:10px 14px;border:1px solid #ddd;border-radius:8px'><div style='font-size:26px;font-weight:600'>{ui.esc(ui.number(v))}</div>"
        f"<div style='color:#555'>{html.escape(t(k))}</div></div>"
        for k, v in values.items()
    )
    parts = [w.HTML(f"<div class='ti-counts'>{tiles}</div>")]
    if values["posts"] == 0:
        parts.append(ui.message(t("no_posts_yet")))
    return w.VBox(parts)


@ui.panel
def growth_panel(db: str | None = None, period: str = "day"):
    """New posts, authors and hashtags per day / week / month / year, with a period switch."""
    import ipywidgets as w

    choose = w.ToggleButtons(
        options=[(t(p), p) for p in reports.PERIODS], value=period if period in reports.PERIODS else "day", description=t("period")
    )
    out = w.VBox()

    def show(*_: Any) -> None:
        def body() -> None:
            frame = data.read(reports.overview, choose.value, db=db)
            with ui.filling(out) as display:
                display(ui.figure(charts.overview_chart(frame, title=t("new_per", period=t(choose.value)))))
                display(
                    ui.table(
                        frame.iloc[::-1],
                        empty=t("nothing_collected"),
                        max_rows=30,
                        columns=["period", "posts", "authors", "hashtags", "posts_total", "posts_growth"],
                    )
                )

        ui.guarded(out, body)

    choose.observe(show, names="value")
    show()
    return w.VBox([choose, out])


def _zone() -> str:
    from ..localtime import label

    return label()


def _next_times() -> dict[str, str]:
    """Next scheduled time per flow and per valid job of the jobs file, in its time zone (``tiktok_intel.schedules``)."""
    from .. import jobs

    # the notebooks are not opened: a page render does not pay papermill's import (~1 s)
    return {row["flow"]: row["next"][0].strftime("%Y-%m-%d %H:%M") for row in jobs.table(count=1, check_notebooks=False)}


@ui.panel
def runs_panel(db: str | None = None):
    """The last run of each flow (status, times, a link to its executed report) and the next scheduled times."""
    import ipywidgets as w

    runs = data.read(data.last_runs, db=db)
    nxt = _next_times()
    flows = list(dict.fromkeys(list(runs["flow"]) + sorted(nxt)))
    if not flows:
        return ui.message(t("no_flow_yet"))
    rows: list[Any] = []
    heads = "".join(
        f"<th scope='col' style='text-align:left;padding:2px 8px;min-width:{width}px'>{html.escape(t(key))}</th>"
        for key, width in (("flow", 140), ("status", 100), ("started", 150), ("ended", 150), ("next_run", 150))
    )
    header = w.HTML(
        f"<table class='ti-runs-head' style='border-collapse:collapse'><caption style='text-align:left;font-size:11px;color:#555'>"
        f"{html.escape(t('runs_caption'))}. {html.escape(t('times_in', zone=_zone()))}</caption><thead><tr>{heads}"
        f"<th scope='col' style='text-align:left;padding:2px 8px'>{html.escape(t('report'))}</th></tr></thead></table>"
    )
    rows.append(header)
    for flow in flows:
        match = runs[runs["flow"] == flow]
        run = match.iloc[0].to_dict() if len(match) else {}
        status = run.get("status") or t("never_run")
        colour = ui.status_colour(status)
        cell = "padding:2px 8px;min-width:{}px"
        line = w.HTML(
            f"<table class='ti-run' data-flow='{html.escape(flow)}' style='border-collapse:collapse'><tbody><tr>"
            f"<th scope='row' style='text-align:left;font-weight:normal;{cell.format(140)}'>{ui.esc(flow)}</th>"
            f"<td style='color:{colour};{cell.format(100)}'>{ui.esc(status)}</td>"
            f"<td style='{cell.format(150)}'>{ui.esc(ui.when(run.get('started_at')))}</td>"
            f"<td style='{cell.format(150)}'>{ui.esc(ui.when(run.get('ended_at')))}</td>"
            f"<td style='{cell.format(150)}'>{ui.esc(nxt.get(flow, t('not_scheduled')))}</td></tr></tbody></table>"
        )
        report = data.report_html(run.get("notebook_path"))
        if report is not None:
            button = w.Button(description=t("open_report"), layout=w.Layout(width="120px"))
            link = w.HTML()

            def make(report: Path = report, link: Any = link, button: Any = button):
                def click(_: Any) -> None:
                    try:
                        link.value = ui.download_link(report.read_bytes(), report.name, "text/html", t("download_file", name=report.name))
                    except OSError as exc:
                        link.value = ui.esc(t("report_unreadable", why=exc.strerror))

                return click

            button.on_click(make())
            rows.append(w.HBox([line, button, link]))
        else:
            note = t("no_report") if run else ""
            rows.append(w.HBox([line, w.HTML(f"<span style='color:#777'>{note}</span>")]))
    return w.VBox(rows)
