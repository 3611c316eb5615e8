"""Building blocks the panels share: messages, tables, figures, cards, download links, error guard.

Everything a user sees goes through :func:`safe_text`, which removes secret setting values, and
every panel is wrapped by :func:`panel`, which turns errors into one clear message (the traceback
goes to the server log, never to the page).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import io
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pandas as pd

from ..analyses.exports import XLSX, to_csv_bytes, to_excel_bytes
from ..errors import TikTokIntelError
from ..raw import redact
from ..settings import get_settings

log = logging.getLogger("tiktok_intel.dashboards")

#: Largest cover shown inline (bytes of the file on disk); larger ones are shown as a link only.
MAX_COVER_BYTES = 5_000_000
THUMBNAIL_SIZE = (180, 320)


def safe_text(text: object) -> str:
    """``text`` with every secret setting value (and secret URL parameter) replaced by ``***`` (:func:`~tiktok_intel.raw.redact`)."""
    try:
        secrets = get_settings().secrets()
    except TikTokIntelError:
        secrets = []
    return redact("" if text is None else str(text), secrets)


def esc(value: object) -> str:
    """HTML-escaped, secret-free text; empty for None / NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(safe_text(value))


def message(text: str, kind: str = "info"):
    """A one-paragraph notice (kind: info, warning, error, success)."""
    import ipywidgets as w

    colours = {
        "info": ("#e8f1fb", "#1c4f82"),
        "warning": ("#fff4e0", "#7a4a00"),
        "error": ("#fdecea", "#8a1c12"),
        "success": ("#e9f7ec", "#1d5e2c"),
    }
    bg, fg = colours.get(kind, colours["info"])
    return w.HTML(
        f'<div class="ti-message ti-{kind}" style="background:{bg};color:{fg};padding:8px 12px;'
        f'border-radius:6px;margin:4px 0">{esc(text)}</div>'
    )


def error_message(exc: BaseException):
    """The message widget for an error: its own text for ours, a generic line for anything else."""
    if isinstance(exc, TikTokIntelError):
        kind = "info" if type(exc).__name__ == "EmptyWorkspaceError" else "warning"
        return message(str(exc), kind)
    log.exception("dashboard panel failed")
    return message(f"This panel could not be shown ({type(exc).__name__}); the details are in the server log.", "error")


def status_colour(status: str) -> str:
    """The colour a run's status is written in (completed green, failed red, running amber)."""
    return {"completed": "#1d5e2c", "failed": "#8a1c12", "running": "#7a4a00"}.get(status, "#555")


COPY_NOTICE_CLASS = "ti-copy-notice"


def with_copy_notice(fn: Callable[[], Any]) -> tuple[Any, Any]:
    """``fn()``'s result, and the notice to show above it when it read the read copy because a flow
    held the database (else ``None``): one place, so every panel tells the viewer how old its data is."""
    from . import data

    with data.noting_copies() as seen:
        result = fn()
    if not seen:
        return result, None
    notice = message(data.copy_notice(min(seen)), "warning")
    notice.add_class(COPY_NOTICE_CLASS)
    return result, notice


def panel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: the panel's widget (under a notice when it shows the read copy), or a message
    widget when building it raised."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        import ipywidgets as w

        try:
            widget, notice = with_copy_notice(lambda: fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - the edge: a page shows a message, never a traceback
            return error_message(exc)
        return widget if notice is None else w.VBox([notice, widget])

    return wrapper


@contextlib.contextmanager
def filling(box) -> Iterator[Callable[[Any], None]]:
    """``with filling(box) as show: show(a); show(b)`` replaces ``box``'s children with ``a, b`` at the end.

    Widgets go in a box rather than an ``Output`` so panels work (and are tested) without a kernel.
    """
    items: list[Any] = []
    yield items.append
    box.children = tuple(items)


def guarded(box, fn: Callable[[], Any]) -> None:
    """Run ``fn`` (an event handler's body) so that an error becomes the one message in ``box``, and
    data read from the read copy gets its notice at the top of ``box`` (one, however often it runs)."""
    try:
        _, notice = with_copy_notice(fn)
    except Exception as exc:  # noqa: BLE001
        box.children = (error_message(exc),)
        return
    if notice is not None:
        box.children = (notice, *(c for c in box.children if COPY_NOTICE_CLASS not in getattr(c, "_dom_classes", ())))


def heading(text: str, level: int = 3):
    import ipywidgets as w

    return w.HTML(f"<h{level} style='margin:12px 0 4px 0'>{esc(text)}</h{level}>")


def _cell(value: object, column: str) -> str:
    if isinstance(value, (list, tuple)):
        return esc(", ".join("#" + str(v) if column == "hashtags" else str(v) for v in value))
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
        if isinstance(value, list):
            return _cell(value, column)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if column == "url" and isinstance(value, str) and value.startswith("https://"):
        return f'<a href="{esc(value)}" target="_blank" rel="noopener">open</a>'
    if isinstance(value, pd.Timestamp):
        return esc(value.strftime("%Y-%m-%d %H:%M"))
    return esc(value)


def table_html(df: pd.DataFrame, *, columns: Iterable[str] | None = None, max_rows: int = 200, css_class: str = "ti-table") -> str:
    """A plain HTML table (values escaped, URLs as links, at most ``max_rows`` rows)."""
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    head = "".join(f"<th style='text-align:left;padding:3px 8px;border-bottom:2px solid #ccc'>{esc(c)}</th>" for c in df.columns)
    rows = []
    for record in df.head(max_rows).itertuples(index=False):
        cells = "".join(f"<td style='padding:3px 8px;border-bottom:1px solid #eee'>{_cell(v, c)}</td>" for v, c in zip(record, df.columns))
        rows.append(f"<tr>{cells}</tr>")
    more = f"<p><em>{len(df) - max_rows:,} more rows in the download.</em></p>" if len(df) > max_rows else ""
    return (
        f"<div style='overflow-x:auto'><table class='{css_class}' style='border-collapse:collapse;font-size:13px'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def table(df: pd.DataFrame, *, empty: str = "Nothing to show.", **kwargs: Any):
    """An HTML widget with the table, or a message when ``df`` is empty."""
    import ipywidgets as w

    if df is None or df.empty:
        return message(empty)
    return w.HTML(table_html(df, **kwargs))


def figure(fig):
    """A plotly figure as an Output widget holding its plotly mime bundle (rendered offline by the
    plotly extension; no kernel needed to build it). The figure is kept as ``.figure`` for tests."""
    import ipywidgets as w
    import plotly.io as pio

    bundle = pio.renderers["plotly_mimetype"].to_mimebundle(fig)
    out = w.Output()
    out.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)
    out.figure = fig
    out.add_class("ti-figure")
    return out


# ------------------------------------------------------------------------------------- downloads


def download_link(data: bytes, filename: str, mime: str, label: str) -> str:
    """An ``<a download>`` link carrying ``data`` as a data URI (works offline, no server route)."""
    payload = base64.b64encode(data).decode("ascii")
    return (
        f'<a class="ti-download" download="{html.escape(filename)}" href="data:{mime};base64,{payload}" '
        f'style="margin-right:12px">{html.escape(label)}</a>'
    )


def downloads(df: pd.DataFrame, stem: str):
    """CSV and Excel download links for ``df`` (nothing to download: a note)."""
    import ipywidgets as w

    if df is None or df.empty:
        return w.HTML("")
    links = download_link(to_csv_bytes(df), f"{stem}.csv", "text/csv", "Download CSV") + download_link(
        to_excel_bytes(df), f"{stem}.xlsx", XLSX, "Download Excel"
    )
    return w.HTML(f"<div class='ti-downloads'>{links}</div>")


# ------------------------------------------------------------------------------------- cards


def cover_data_uri(relative: str | None) -> str | None:
    """A small JPEG thumbnail of a stored cover as a data URI, or None when missing or unreadable."""
    if not relative or not isinstance(relative, str):
        return None
    from ..media import media_path

    path = media_path(relative)
    try:
        base = get_settings().media_dir.resolve()
        resolved = path.resolve()
        if base not in resolved.parents or not resolved.is_file() or resolved.stat().st_size > MAX_COVER_BYTES:
            return None
        from PIL import Image

        with Image.open(resolved) as image:
            image = image.convert("RGB")
            image.thumbnail(THUMBNAIL_SIZE)
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=80)
        return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    except (OSError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - PIL raises many kinds for a broken file
        return None


def _num(value: object) -> str:
    try:
        if value is None or pd.isna(value):
            return "-"
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "-"


def post_card(row: dict[str, Any], *, extra: str = "") -> str:
    """One post as an HTML card: cover thumbnail, description, author, stats, hashtags, link."""
    uri = cover_data_uri(row.get("cover_path"))
    cover = (
        f'<img class="ti-cover" src="{uri}" style="width:90px;height:160px;object-fit:cover;border-radius:4px" alt="cover">'
        if uri
        else '<div class="ti-cover ti-nocover" style="width:90px;height:160px;background:#ddd;border-radius:4px;'
        'display:flex;align-items:center;justify-content:center;color:#666;font-size:11px">no cover</div>'
    )
    tags = row.get("hashtags")
    if hasattr(tags, "tolist"):
        tags = tags.tolist()
    tags_html = " ".join(f"<span style='color:#1c4f82'>#{esc(t)}</span>" for t in (tags or []))
    author = esc(row.get("author") or "unknown author")
    published = row.get("published_at")
    when = esc(pd.Timestamp(published).strftime("%Y-%m-%d %H:%M")) if published is not None and not pd.isna(published) else ""
    stats = " · ".join(f"{_num(row.get(k))} {k}" for k in ("views", "likes", "comments", "shares"))
    url = esc(row.get("url") or "")
    return (
        f'<div class="ti-card" data-post-id="{esc(row.get("post_id"))}" style="display:flex;gap:12px;border:1px solid #ddd;'
        f'border-radius:8px;padding:8px;margin:6px 0;max-width:760px">{cover}<div style="flex:1">'
        f'<div class="ti-desc" style="font-size:14px;margin-bottom:4px">{esc(row.get("description") or "(no description)")}</div>'
        f'<div style="font-size:12px;color:#444">@{author} {when}</div>'
        f'<div class="ti-stats" style="font-size:12px;color:#444">{stats}</div>'
        f'<div style="font-size:12px">{tags_html}</div>{extra}'
        f'<div><a class="ti-watch" href="{url}" target="_blank" rel="noopener">Watch on TikTok</a></div></div></div>'
    )


def cards(rows: Iterable[dict[str, Any]]):
    import ipywidgets as w

    return w.HTML("".join(post_card(r) for r in rows))


def read_upload(value: Any) -> tuple[str, bytes] | None:
    """(name, bytes) of the first file of an ipywidgets ``FileUpload`` value (7.x dict or 8.x tuple)."""
    if not value:
        return None
    item = value[0] if isinstance(value, (tuple, list)) else next(iter(value.values()))
    content = item["content"]
    return str(item.get("name") or (item.get("metadata") or {}).get("name") or "upload"), bytes(content)
