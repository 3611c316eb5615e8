"""Hashtags dashboard: the tracked list (add, deactivate), popularity over time, trending posts per hashtag."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import tracking
from ..analyses import trends
from ..analyses.hashtags import hashtag_popularity
from ..conventions import hashtag as hashtag_name
from ..errors import TikTokIntelError
from ..settings import get_settings
from ..texts import t
from . import data, ui, views


def _tracked_frame(con) -> pd.DataFrame:
    stats = {r.name: r for r in tracking.list_tracked(con)}
    return pd.DataFrame(
        [
            {
                "kind": r.kind,
                "hashtag": r.name if r.kind == "hashtag" else r.shown,
                "active": t("yes") if r.active else t("no"),
                "added": r.added_at,
                "last collected": r.last_collected_at,
                "posts": r.posts,
                "videos": stats[r.name].video_count if r.kind == "hashtag" and r.name in stats else None,
                "views": stats[r.name].view_count if r.kind == "hashtag" and r.name in stats else None,
            }
            for r in tracking.list_items(con)
        ]
    )


def _shown_tracked(frame: pd.DataFrame) -> pd.DataFrame:
    """The tracked list as shown: its kinds in the page's language, the tracked names under ``tracked``
    (its heading: :data:`.ui.COLUMN_KEYS`)."""
    if frame.empty:
        return frame
    return frame.assign(kind=[t("kind_" + k) for k in frame["kind"]]).rename(columns={"hashtag": "tracked"})


#: The deactivate list's value of a tracked keyword (hashtags: the name; accounts: ``@name``).
KEYWORD_PREFIX = "keyword:"


def _item_value(kind: str, name: str) -> str:
    return name if kind == "hashtag" else f"@{name}" if kind == "account" else KEYWORD_PREFIX + name


def add_keyword(text: str, db: str | None = None) -> str:
    """Track the search keyword ``text``; the message to show (one-line errors as for hashtags)."""
    if not get_settings().dashboard_editing:
        raise data.DashboardError(t(EDITING_OFF))
    kind, name = tracking.parse_item(text, "keyword")
    if not data.write(tracking.add_items, [(kind, name)], db=db):
        raise tracking.HashtagError(t("already_tracked", names=f'"{name}"'))
    return t("now_tracking_keyword", name=name)


#: Why the tracked list cannot be edited here (the catalogue's key): the setting, or its default off 127.0.0.1 (the launcher decides).
EDITING_OFF = "editing_off"


def add_hashtags(text: str, db: str | None = None) -> str:
    """Track the hashtags named in ``text`` (comma or space separated); the message to show.

    Raises :class:`~tiktok_intel.errors.HashtagError` for a bad name, and for names all tracked already.
    """
    if not get_settings().dashboard_editing:
        raise data.DashboardError(t(EDITING_OFF))
    names = [n for n in text.replace(",", " ").split() if n.strip()]
    if not names:
        raise tracking.InvalidHashtagError(t("type_hashtag_first"))
    accounts = [n for n in names if n.startswith("@")]
    if accounts:  # @accounts (with any hashtags beside them)
        wanted_items = list(dict.fromkeys(tracking.parse_item(n) for n in names))
        added_items = data.write(tracking.add_items, [(None, n) for n in names], db=db)
        shown = [("#" + n) if k == "hashtag" else "@" + n for k, n in added_items]
        already = [("#" + n) if k == "hashtag" else "@" + n for k, n in wanted_items if (k, n) not in added_items]
        if not added_items:
            raise tracking.HashtagError(t("already_tracked", names=", ".join(already)))
        note = t("already_tracked_note", names=", ".join(already)) if already else ""
        return t("now_tracking", names=", ".join(shown), note=note)
    wanted = tracking.normalise_all(names)
    added = data.write(tracking.add, wanted, db=db)
    already = [n for n in wanted if n not in added]
    if not added:
        raise tracking.HashtagError(t("already_tracked", names=", ".join("#" + n for n in already)))
    note = t("already_tracked_note", names=", ".join("#" + n for n in already)) if already else ""
    return t("now_tracking", names=", ".join("#" + n for n in added), note=note)


def deactivate_hashtag(name: str, db: str | None = None) -> str:
    """Stop tracking ``name`` (its history is kept); the message to show."""
    if not get_settings().dashboard_editing:
        raise data.DashboardError(t(EDITING_OFF))
    if name.startswith("@") or name.startswith(KEYWORD_PREFIX):  # an account or a keyword
        item = (None, name) if name.startswith("@") else ("keyword", name[len(KEYWORD_PREFIX) :])
        kind, shown = data.write(tracking.remove_items, [item], db=db)[0]
        return t("stopped_tracking", names="@" + shown if kind == "account" else repr(shown))
    removed = data.write(tracking.remove, [name], db=db)
    return t("stopped_tracking", names=", ".join("#" + n for n in removed))


@ui.panel
def tracked_panel(db: str | None = None):
    """The tracked list, with a box to add hashtags and a button to deactivate one (when editing is allowed)."""
    import ipywidgets as w

    editing = bool(get_settings().dashboard_editing)
    listing = w.VBox()
    status = w.VBox()
    box = w.Text(placeholder="valet2026, #svtnyheter", description=t("hashtag"), layout=w.Layout(width="320px"))
    add = w.Button(description=t("add"), button_style="primary", icon="plus")
    keyword_box = w.Text(placeholder="vattenbrist", description=t("keyword"), layout=w.Layout(width="320px"))
    add_kw = w.Button(description=t("add_keyword"), button_style="primary", icon="search")
    pick = w.Dropdown(options=[], description=t("active"))
    stop = w.Button(description=t("deactivate"), button_style="warning")

    def refresh() -> None:
        def body() -> None:
            try:
                frame = data.read(_tracked_frame, db=db)
            except data.EmptyWorkspaceError:
                frame = pd.DataFrame()
            active = frame.loc[frame["active"] == t("yes")] if len(frame) else frame
            pick.options = (
                [(label, _item_value(kind, label.lstrip("@"))) for kind, label in zip(active["kind"], active["hashtag"])]
                if len(frame)
                else []
            )
            with ui.filling(listing) as display:
                display(
                    ui.table(
                        _shown_tracked(frame),
                        empty=t("no_tracked_add" if editing else "no_tracked"),
                        css_class="ti-table ti-tracked",
                    )
                )

        ui.guarded(listing, body)

    def say(text: str, kind: str) -> None:
        with ui.filling(status) as display:
            display(ui.message(text, kind))

    def on_add(_: Any) -> None:
        try:
            say(add_hashtags(box.value, db=db), "success")
            box.value = ""
        except TikTokIntelError as exc:
            say(ui.error_text(exc), "warning")
        except Exception as exc:  # noqa: BLE001
            with ui.filling(status) as display:
                display(ui.error_message(exc))
        refresh()

    def on_stop(_: Any) -> None:
        if not pick.value:
            say(t("choose_to_deactivate"), "warning")
            return
        try:
            say(deactivate_hashtag(pick.value, db=db), "success")
        except TikTokIntelError as exc:
            say(ui.error_text(exc), "warning")
        refresh()

    def on_add_keyword(_: Any) -> None:
        try:
            say(add_keyword(keyword_box.value, db=db), "success")
            keyword_box.value = ""
        except TikTokIntelError as exc:
            say(ui.error_text(exc), "warning")
        refresh()

    add.on_click(on_add)
    add_kw.on_click(on_add_keyword)
    stop.on_click(on_stop)
    refresh()
    parts: list[Any] = [listing]
    if editing:
        parts += [w.HBox([box, add]), w.HBox([keyword_box, add_kw]), w.HBox([pick, stop])]
    else:
        parts.append(ui.message(t(EDITING_OFF)))
    parts.append(status)
    return w.VBox(parts)


#: Most snapshots a hashtag's line may have and still show one marker each.
MARKERS_UP_TO = 60


def popularity_figure(frame: pd.DataFrame, metric: str = "view_count"):
    """A line per hashtag of its monitoring snapshots (``metric``: view_count or video_count) over time."""
    import plotly.express as px

    title = t("views_per_hashtag" if metric == "view_count" else "videos_per_hashtag")
    if frame is None or frame.empty:
        return charts_empty(title, t("no_snapshots"))
    data_ = frame.dropna(subset=[metric]).copy()
    data_[metric] = data_[metric].astype(float)
    # a marker per snapshot while they can be told apart; a month of 30-minute snapshots is 1,440 a line
    markers = bool(len(data_)) and data_.groupby("hashtag").size().max() <= MARKERS_UP_TO
    fig = px.line(data_, x="collected_at", y=metric, color="hashtag", markers=markers, title=title)
    return fig.update_layout(xaxis_title=t("collected_at"), yaxis_title=t("views" if metric == "view_count" else "videos_word"))


def charts_empty(title: str, text: str):
    from ..analyses.charts import _empty

    return _empty(title, text)


@ui.panel
def popularity_panel(db: str | None = None, metric: str = "view_count"):
    """Each tracked hashtag's views (or videos) over time, from the 30-minute monitoring snapshots."""
    import ipywidgets as w

    choose = w.ToggleButtons(
        options=[(t("views"), "view_count"), (t("videos_word"), "video_count")],
        value=metric if metric in ("view_count", "video_count") else "view_count",
        description=t("show"),
    )
    out = w.VBox()
    share = views.share_link({"metric": choose.value})

    def show(*_: Any) -> None:
        def body() -> None:
            frame = data.read(hashtag_popularity, db=db)
            share.update({"metric": choose.value})
            with ui.filling(out) as display:
                display(ui.figure(popularity_figure(frame, choose.value)))

        ui.guarded(out, body)

    choose.observe(show, names="value")
    show()
    return w.VBox([choose, share, out])


@ui.panel
def hashtag_trending_panel(db: str | None = None, window: str = "1d", limit: int = 10, hashtag: str = ""):
    """The trending posts of a chosen tracked hashtag over a window (``hashtag``: the one chosen first)."""
    import ipywidgets as w

    tags = data.read(lambda con: tracking.active(con), db=db)
    if not tags:
        return ui.message(t("no_tracked_for_trending"))
    wanted = hashtag_name(hashtag) or ""
    pick = w.Dropdown(options=[("#" + tag, tag) for tag in tags], value=wanted if wanted in tags else tags[0], description=t("hashtag"))
    win = w.ToggleButtons(options=list(trends.WINDOWS), value=window if window in trends.WINDOWS else "1d", description=t("window"))
    out = w.VBox()
    share = views.share_link({})

    def show(*_: Any) -> None:
        def body() -> None:
            share.update({"hashtag": pick.value, "window": win.value})
            frame = data.read(trends.top_trending_posts, win.value, "views", hashtag=pick.value, limit=int(limit), db=db)
            with ui.filling(out) as display:
                display(
                    ui.interactive_table(
                        frame,
                        columns=["author", "description", "views", "change", "growth", "published_at", "url"],
                        css_class="ti-table ti-hashtag-trending",
                        empty=t("no_trending_for_tag", tag=pick.value, window=win.value, days=win.value[:-1]),
                    )
                )
                display(ui.downloads(frame, f"trending-{pick.value}-{win.value}"))

        ui.guarded(out, body)

    pick.observe(show, names="value")
    win.observe(show, names="value")
    show()
    return w.VBox([w.HBox([pick, win]), share, out])
