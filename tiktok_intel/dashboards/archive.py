"""Executed reports: every scheduled notebook's executed copy (built-in jobs, and your published
jobs), newest first, with its status; each opens as HTML in the page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .. import schedules
from ..texts import t
from . import data, ui

#: Largest executed report shown inside the page; larger ones are offered as a download only.
MAX_INLINE_REPORT_BYTES = 8_000_000


def iframe_html(html_text: str) -> str:
    """An executed report's HTML inside a sandboxed frame (its scripts run, but not against the dashboard)."""
    return (
        f"<iframe class='ti-report-frame' sandbox='allow-scripts' srcdoc=\"{html.escape(ui.safe_text(html_text), quote=True)}\" "
        "style='width:100%;height:720px;border:1px solid #ccc;border-radius:4px'></iframe>"
    )


def _opener(path: Path, shown: Any) -> Any:
    import ipywidgets as w

    def click(_: Any) -> None:
        def body() -> None:
            report = path.read_bytes()  # once: for the download link and the frame
            link = ui.download_link(report, path.name, "text/html", t("download_file", name=path.name))
            if len(report) > MAX_INLINE_REPORT_BYTES:
                shown.children = (
                    ui.message(t("report_too_large", size=f"{len(report) / 1e6:.0f}")),
                    w.HTML(link),
                )
                return
            shown.children = (
                w.HTML(f"<b>{ui.esc(path.parent.parent.name)}</b> {ui.esc(path.parent.name)} &nbsp; {link}"),
                w.HTML(iframe_html(report.decode("utf-8", errors="replace"))),
            )

        ui.guarded(shown, body)

    return click


@ui.panel
def report_archive_panel(db: str | None = None, job: str = "", limit: int = 50):
    """The executed reports, newest first: job, started, status, and an Open button that shows the report here."""
    import ipywidgets as w

    frame = data.read(data.executed_reports, flows=[j.name for j in schedules.JOBS], job=job, limit=int(limit), db=db)
    if frame.empty:
        return ui.message(t("no_executed_report"))
    shown = w.VBox()
    rows: list[Any] = [
        w.HTML(
            "<div style='display:grid;grid-template-columns:170px 150px 100px 1fr;font-weight:600'>"
            f"<div>{ui.esc(t('job'))}</div><div>{ui.esc(t('started'))}</div><div>{ui.esc(t('status'))}</div><div></div></div>"
        )
    ]
    for run in frame.to_dict("records"):
        colour = ui.status_colour(run["status"])
        started = ui.esc(ui.when(run["started_at"]))
        line = w.HTML(
            f"<div class='ti-executed-report' data-flow='{html.escape(run['flow'])}' style='display:grid;"
            f"grid-template-columns:170px 150px 100px;'><div>{ui.esc(run['flow'])}</div><div>{started}</div>"
            f"<div style='color:{colour}' title='{ui.esc(run['error'] or '')}'>{ui.esc(run['status'])}</div></div>"
        )
        report = data.report_html(run["notebook_path"])
        if report is None:
            rows.append(w.HBox([line, w.HTML(f"<span style='color:#777'>{ui.esc(t('report_file_missing'))}</span>")]))
            continue
        button = w.Button(description=t("open"), layout=w.Layout(width="90px"))
        button.on_click(_opener(report, shown))
        rows.append(w.HBox([line, button]))
    return w.VBox([w.VBox([*rows, w.HTML(ui.zone_note())]), shown])
