"""Building blocks the panels share: messages, tables, figures, cards, download links, error guard.

Everything a user sees goes through :func:`safe_text`, which removes secret setting values, and
every panel is wrapped by :func:`panel`, which turns errors into one clear message (the traceback
goes to the server log, never to the page).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import html
import io
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pandas as pd

from ..analyses.exports import XLSX, to_csv_bytes, to_excel_bytes, to_excel_csv_bytes
from ..errors import TikTokIntelError
from ..raw import redact
from ..settings import get_settings
from ..texts import CATALOGUE, number, t

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


def error_text(exc: TikTokIntelError) -> str:
    """What one of our errors says on a page: its catalogue text in the page's language when it carries
    a key (:class:`~tiktok_intel.errors.TikTokIntelError`), else its own (English) message."""
    if exc.key is not None and exc.key in CATALOGUE:
        return t(exc.key, **exc.fields)
    return str(exc)


def error_message(exc: BaseException):
    """The message widget for an error: its own text for ours (:func:`error_text`), a generic line for anything else."""
    if isinstance(exc, TikTokIntelError):
        kind = "info" if type(exc).__name__ == "EmptyWorkspaceError" else "warning"
        return message(error_text(exc), kind)
    log.exception("dashboard panel failed")
    return message(t("panel_failed", kind=type(exc).__name__), "error")


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


#: A table's column -> the catalogue key of its heading: one mapping for every table the dashboards
#: show (:func:`table`, :func:`interactive_table`). Headings only: the rows kept as ``.frame`` and
#: every download keep the column names, the same in both languages and from the command line.
COLUMN_KEYS: dict[str, str] = {
    **{
        c: f"col_{c}"
        for c in (
            "author",
            "author_id",
            "unique_id",
            "nickname",
            "account",
            "description",
            "published_at",
            "created_at",
            "collected_at",
            "measured_at",
            "change_1d",
            "change_7d",
            "change_30d",
            "hashtag",
            "url",
            "rank",
            "found",
            "score",
            "post_id",
            "period",
            "posts_total",
            "posts_growth",
            "rule",
            "support",
            "confidence",
            "lift",
            "post_count",
            "collections",
            "best_rank",
            "mean_rank",
            "first_listed",
            "last_listed",
            "snapshots",
            "channel",
            "subject",
            "attempts",
            "last_error",
            "items",
            "kind",
            "tracked",
            "active",
            "added",
        )
    },
    "last collected": "col_last_collected",
    "views": "views",
    "view_count": "views",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "posts": "posts",
    "authors": "authors",
    "hashtags": "hashtags",
    "followers": "series_followers",
    "hearts": "series_hearts",
    "videos": "videos_word",
    "video_count": "videos_word",
    "change": "change",
    "growth": "growth_pct",
    "growth_pct": "growth_pct",
    "status": "status",
}


def column_label(column: object) -> str:
    """A column's heading in the page's language (:data:`COLUMN_KEYS`); a column without one: its name."""
    key = COLUMN_KEYS.get(str(column))
    return t(key) if key else str(column)


def column_labels(columns: Iterable[object]) -> list[str]:
    """The headings of ``columns``, each shown once (a second column with the same heading keeps its name)."""
    labels: list[str] = []
    for column in columns:
        label = column_label(column)
        labels.append(label if label not in labels else str(column))
    return labels


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
        from ..texts import decimal

        return esc(decimal(value, 2))
    if isinstance(value, int) and not isinstance(value, bool):
        return esc(number(value))
    if column == "url" and isinstance(value, str) and value.startswith("https://"):
        return f'<a href="{esc(value)}" target="_blank" rel="noopener">{esc(link_text(value))}</a>'
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return esc(when(value))
    return esc(value)


def link_text(url: str) -> str:
    """What a TikTok link opens, said in its text (for screen readers and a list of links):
    ``Öppna inlägg 73… av @konto på TikTok``, ``Öppna @konto på TikTok``, ``Öppna klimat på TikTok``."""
    parts = url.split("?", 1)[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] in ("video", "photo") and len(parts) >= 3 and parts[-3].startswith("@"):
        return t("open_post_link", id=parts[-1], author=parts[-3])
    return t("open_link", what=parts[-1] or url)


def when(value: object, *, zone_name: bool = False) -> str:
    """A stored time (naive UTC) as people read it: local ``YYYY-MM-DD HH:MM`` (setting ``timezone``),
    `` Europe/Stockholm`` after it with ``zone_name``; empty for a missing one (:mod:`tiktok_intel.localtime`)."""
    from ..localtime import format_time

    return format_time(value, zone_name=zone_name)


def zone_note() -> str:
    """The label under a table or card list whose times are local: ``Times in Europe/Stockholm.``"""
    from ..localtime import label

    return f"<p class='ti-zone' style='font-size:11px;color:#555;margin:2px 0'>{esc(t('times_in', zone=label()))}</p>"


def table_html(df: pd.DataFrame, *, columns: Iterable[str] | None = None, max_rows: int = 200, css_class: str = "ti-table") -> str:
    """A plain HTML table (values escaped, URLs as links, at most ``max_rows`` rows)."""
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    head = "".join(
        f"<th scope='col' style='text-align:left;padding:3px 8px;border-bottom:2px solid #ccc'>{esc(label)}</th>"
        for label in column_labels(df.columns)
    )
    rows = []
    for record in df.head(max_rows).itertuples(index=False):
        cells = "".join(f"<td style='padding:3px 8px;border-bottom:1px solid #eee'>{_cell(v, c)}</td>" for v, c in zip(record, df.columns))
        rows.append(f"<tr>{cells}</tr>")
    more = f"<p><em>{esc(t('more_rows', n=number(len(df) - max_rows)))}</em></p>" if len(df) > max_rows else ""
    return (
        f"<div style='overflow-x:auto'><table class='{css_class}' style='border-collapse:collapse;font-size:13px'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def table(df: pd.DataFrame, *, empty: str | None = None, **kwargs: Any):
    """An HTML widget with the table (its times local, labelled), or a message when ``df`` is empty."""
    import ipywidgets as w

    if df is None or df.empty:
        return message(empty or t("nothing"))
    shown = df[[c for c in kwargs["columns"] if c in df.columns]] if kwargs.get("columns") is not None else df
    timed = any(pd.api.types.is_datetime64_any_dtype(shown[c].dtype) for c in shown.columns)
    return w.HTML(table_html(df, **kwargs) + (zone_note() if timed else ""))


def _shown(value: object, column: str) -> object:
    """A cell of an interactive table: numbers stay numbers (they sort as numbers), times are local
    text (they sort as text), everything else escaped HTML, links with a text saying where they go."""
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool):
        return esc(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value, 2)  # shown with two decimals, sorted by value
    return _cell(value, column)


def interactive_table(
    df: pd.DataFrame, *, columns: Iterable[str] | None = None, css_class: str = "ti-table", empty: str | None = None, page_length: int = 20
):
    """An interactive table editors can sort, search within and page through (every row: itables'
    DataTables, bundled, so it works offline), its times local and labelled; a message when ``df``
    is empty. The rows shown are kept as ``.frame`` (for downloads and tests)."""
    import ipywidgets as w

    from .table_library import table_class

    if df is None or df.empty:
        return message(empty or t("nothing"))
    frame = df[[c for c in columns if c in df.columns]] if columns is not None else df
    timed = any(pd.api.types.is_datetime64_any_dtype(frame[c].dtype) for c in frame.columns)
    shown = pd.DataFrame({i: [_shown(v, str(c)) for v in frame.iloc[:, i]] for i, c in enumerate(frame.columns)})
    shown.columns = column_labels(frame.columns)  # the rows' cells by the column's name, its heading in the page's language
    language = {
        "search": t("dt_search"),
        "info": t("dt_info"),
        "infoEmpty": t("dt_info_empty"),
        "infoFiltered": t("dt_info_filtered"),
        "lengthMenu": t("dt_length"),
        "zeroRecords": t("dt_zero"),
    }
    table = table_class()(  # itables' table; under the dashboards server its library is loaded once a page
        shown,
        allow_html=True,  # every text cell was escaped above (esc): TikTok's text never runs as HTML
        maxBytes=0,  # never downsampled: every row is there to page through
        pageLength=int(page_length),
        lengthMenu=[10, 20, 50, 100, -1],
        showIndex=False,
        classes="display compact",
        language=language,
    )
    for name in (*css_class.split(), "ti-interactive"):
        table.add_class(name)
    box = w.VBox([table] + ([w.HTML(zone_note())] if timed else []))
    box.frame = frame
    box.table = table
    return box


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


def download_links(df: pd.DataFrame, stem: str) -> str:
    """The three download links for ``df``: the RFC 4180 CSV, the "CSV för Excel" (``;``, decimal
    commas) and the Excel workbook; formulas neutralised and secrets removed in each."""
    return (
        download_link(to_csv_bytes(df), f"{stem}.csv", "text/csv", t("download_csv"))
        + download_link(to_excel_csv_bytes(df), f"{stem}-excel.csv", "text/csv", t("download_csv_excel"))
        + download_link(to_excel_bytes(df), f"{stem}.xlsx", XLSX, t("download_excel"))
    )


def on_demand(build: Callable[[], str], *, label: str, css_class: str):
    """A button whose click builds HTML (``build()``) and shows it beside it: files are made when
    asked for, not on every render. ``.prepare()`` does what the click does (tests)."""
    import ipywidgets as w

    button = w.Button(description=label, icon="download", layout=w.Layout(width="auto"))
    button.add_class("ti-prepare-downloads")
    links = w.HTML()
    box = w.HBox([button, links])
    box.add_class(css_class)

    def prepare(*_: Any) -> None:
        try:
            links.value = build()
        except Exception as exc:  # noqa: BLE001 - the edge: a line, never a traceback
            links.value = error_message(exc).value

    button.on_click(prepare)
    box.prepare = prepare
    return box


def downloads(df: pd.DataFrame, stem: str):
    """A "prepare download" button for ``df``: the files are built when it is clicked, not on every
    render (nothing to download: nothing shown). ``.prepare()`` does what the click does."""
    import ipywidgets as w

    if df is None or df.empty:
        return w.HTML("")
    frame = df.copy()
    return on_demand(
        lambda: f"<div class='ti-download-links'>{download_links(frame, stem)}</div>",
        label=t("prepare_downloads"),
        css_class="ti-downloads",
    )


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
        return number(int(value))
    except (TypeError, ValueError):
        return "-"


def transcript_html(row: dict[str, Any]) -> str:
    """What is said in the post (its transcript), folded, when there is one."""
    text = row.get("transcript")
    if not isinstance(text, str) or not text.strip():
        return ""
    return (
        f'<details class="ti-transcript" style="font-size:12px;margin:2px 0"><summary>{esc(t("transcript"))} ({esc(row.get("transcript_source") or "")})'
        f'</summary><div style="white-space:pre-wrap">{esc(text[:4000])}</div></details>'
    )


def post_card(row: dict[str, Any], *, extra: str = "") -> str:
    """One post as an HTML card: cover thumbnail, description, author, stats, hashtags, link."""
    uri = cover_data_uri(row.get("cover_path"))
    name = str(row.get("author") or t("unknown_author"))
    described = str(row.get("description") or "").strip()
    alt = t("cover_alt", author=name, text=(described[:120] + ("…" if len(described) > 120 else "")) or t("no_description"))
    cover = (
        f'<img class="ti-cover" src="{uri}" style="width:90px;height:160px;object-fit:cover;border-radius:4px" alt="{esc(alt)}">'
        if uri
        else '<div class="ti-cover ti-nocover" style="width:90px;height:160px;background:#ddd;border-radius:4px;'
        f'display:flex;align-items:center;justify-content:center;color:#666;font-size:11px">{esc(t("no_cover"))}</div>'
    )
    tags = row.get("hashtags")
    if hasattr(tags, "tolist"):
        tags = tags.tolist()
    tags_html = " ".join(f"<span style='color:#1c4f82'>#{esc(t)}</span>" for t in (tags or []))
    author = esc(name)
    published = row.get("published_at")
    shown = esc(when(published, zone_name=True))
    stats = " · ".join(f"{_num(row.get(k))} {esc(t(k))}" for k in ("views", "likes", "comments", "shares"))
    url = esc(row.get("url") or "")
    extra = transcript_html(row) + _top_comments_html(row.get("top_comments")) + extra
    return (
        f'<div class="ti-card" data-post-id="{esc(row.get("post_id"))}" style="display:flex;gap:12px;border:1px solid #ddd;'
        f'border-radius:8px;padding:8px;margin:6px 0;max-width:760px">{cover}<div style="flex:1">'
        f'<div class="ti-desc" style="font-size:14px;margin-bottom:4px">{esc(row.get("description") or t("no_description"))}</div>'
        f'<div style="font-size:12px;color:#444">@{author} {shown}</div>'
        f'<div class="ti-stats" style="font-size:12px;color:#444">{stats}</div>'
        f'<div style="font-size:12px">{tags_html}</div>{extra}'
        f'<div><a class="ti-watch" href="{url}" target="_blank" rel="noopener">{esc(t("watch", author=name))}</a></div></div></div>'
    )


def _top_comments_html(comments: Any) -> str:
    """The card's top comments (author, likes, text; escaped: TikTok's text is untrusted)."""
    if hasattr(comments, "tolist"):
        comments = comments.tolist()
    if not comments:
        return ""
    items = "".join(
        f"<li><b>@{esc(c.get('author') or '?')}</b> ({_num(c.get('likes'))} {esc(t('likes'))}): {esc(c.get('text') or '')}</li>"
        for c in comments
        if isinstance(c, dict)
    )
    return f'<ul class="ti-comments" style="font-size:12px;margin:4px 0;padding-left:18px">{items}</ul>'


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
