"""Search dashboard: text search with filters, search by an uploaded image, near-duplicate groups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from .. import search as search_pkg
from ..errors import TikTokIntelError
from ..search.fetch import open_image
from ..search.where import IN_CHOICES, timestamp
from ..settings import get_settings
from ..texts import fixed, number, t
from . import data, ui
from . import views as views_module

#: The hits table's columns (an interactive table under the cards: sortable, searchable, paged).
HIT_COLUMNS = ["rank", "author", "description", "published_at", "views", "likes", "found", "score", "url"]


class Results(tuple):
    """What a search shows: ``(count, cards)`` (the cards as HTML), and ``.frame``: the hits as rows
    for the interactive table (:data:`HIT_COLUMNS`; TikTok's text is escaped when it is shown)."""

    frame: pd.DataFrame

    def __new__(cls, count: int, cards: str, frame: pd.DataFrame) -> Results:
        made = super().__new__(cls, (count, cards))
        made.frame = frame
        return made


def _results(ids: list[str], db: str | None, extra: dict[str, str] | None = None, notes: dict[str, dict] | None = None) -> Results:
    """The cards of ``ids`` (in their order, each with its ``extra`` HTML) and their table rows
    (each with its ``notes``: ``found``, ``score``)."""
    details = data.read(data.post_details, ids, db=db)
    by_id = {r["post_id"]: r for r in details.to_dict("records")}
    shown = [i for i in ids if i in by_id]
    cards = "".join(ui.post_card(by_id[i], extra=(extra or {}).get(i, "")) for i in shown)
    rows = [
        {
            "rank": n,
            **{k: by_id[i].get(k) for k in ("author", "description", "published_at", "views", "likes", "url")},
            "found": (notes or {}).get(i, {}).get("found", ""),
            "score": (notes or {}).get(i, {}).get("score"),
        }
        for n, i in enumerate(shown, start=1)
    ]
    frame = pd.DataFrame(rows, columns=HIT_COLUMNS)
    if len(frame):
        frame["published_at"] = pd.to_datetime(frame["published_at"])
    return Results(len(ids), cards, frame)


def _cards_for(ids: list[str], db: str | None, extra: dict[str, str] | None = None) -> str:
    return _results(ids, db, extra)[1]


def hits_table(found: Results, stem: str = "search-hits"):
    """The hits of a search as an interactive table (links saying whose post they open), with downloads."""
    import ipywidgets as w

    return w.VBox([ui.interactive_table(found.frame, columns=HIT_COLUMNS, css_class="ti-table ti-hits"), ui.downloads(found.frame, stem)])


def match_label(match: Any) -> str:
    """Where a hit matched, in the page's language: "caption", "image text", "speech 0:12"."""
    label = t("place_" + match.place) if match.place in IN_CHOICES else match.label
    return f"{label} {timestamp(match.at_s)}" if match.at_s is not None else label


def text_results(
    query: str,
    *,
    hashtag: str = "",
    author: str = "",
    since: Any = None,
    until: Any = None,
    min_views: int | None = None,
    limit: int = 20,
    db: str | None = None,
    places: Any = None,
) -> Results:
    """(number of hits, their cards as HTML, each saying where it matched) for a text search, and
    ``.frame`` (the hits as table rows); errors are :class:`~tiktok_intel.search.QueryError`.
    ``places``: only there (``search.where.IN_CHOICES``)."""
    hits = data.read(
        search_pkg.search_text,
        query,
        hashtag=hashtag or None,
        author=author or None,
        since=since or None,
        until=until or None,
        min_views=min_views,
        limit=int(limit),
        refresh=False,
        db=db,
        places=places or None,
    )
    extra = {h.post_id: where_html(h) + (_score_note(t("text_score", score=fixed(h.score, 2))) if h.score else "") for h in hits}
    notes = {
        h.post_id: {
            "found": "; ".join(f"{match_label(m)}: {m.snippet}" for m in getattr(h, "matches", ())),
            "score": round(float(h.score), 2) if h.score else None,
        }
        for h in hits
    }
    return _results([h.post_id for h in hits], db, extra, notes)


def where_html(hit: Any) -> str:
    """Where a hit matched ("speech 0:12", "image text", "caption"), each with its snippet; a speech
    match's time links to the video (TikTok documents no start-time parameter: the title says where to go)."""
    url = getattr(hit, "url", "") or ""
    parts = []
    for m in getattr(hit, "matches", ()):
        label = f"<b>{ui.esc(match_label(m))}</b>"
        if m.at_s is not None and url:
            title = ui.esc(t("speech_link", at=timestamp(m.at_s)))
            label = f'<a href="{ui.esc(url)}" target="_blank" rel="noopener noreferrer" title="{title}">{label}</a>'
        parts.append(f'<div class="ti-where" style="font-size:12px;color:#555">{label}: {ui.esc(m.snippet)}</div>')
    return "".join(parts)


def _score_note(text: str) -> str:
    return f"<div class='ti-score' style='font-size:12px;color:#555'>{ui.esc(text)}</div>"


def meaning_results(
    query: str,
    *,
    hashtag: str = "",
    author: str = "",
    since: Any = None,
    until: Any = None,
    min_views: int | None = None,
    limit: int = 20,
    db: str | None = None,
) -> Results:
    """(hits, cards) for a search by meaning (the CLIP model): each card says its cosine. No model: one clear error."""
    from ..search import clip, semantic

    model = clip.load()
    filters = dict(hashtag=hashtag or None, author=author or None, since=since or None, until=until or None, min_views=min_views)
    hits = data.read(semantic.search_meaning, query, limit=int(limit), model=model, **filters, db=db)
    extra = {h.post_id: _score_note(t("similarity_ranking", score=fixed(h.score, 3), kind=h.kind)) for h in hits}
    notes = {h.post_id: {"found": h.kind, "score": round(float(h.score), 3)} for h in hits}
    return _results([h.post_id for h in hits], db, extra, notes)


def similar_results(content: bytes, *, limit: int = 20, db: str | None = None, name: str = "") -> Results:
    """(hits, cards) for posts whose pictures show content like the uploaded image (not only copies)."""
    from ..search import clip, semantic

    image = _uploaded_image(content, name)
    model = clip.load()
    hits = data.read(semantic.search_similar, image, limit=int(limit), model=model, db=db)
    extra = {h.post_id: _score_note(t("similarity", score=fixed(h.score, 3), kind=h.kind)) for h in hits}
    notes = {h.post_id: {"found": h.kind, "score": round(float(h.score), 3)} for h in hits}
    return _results([h.post_id for h in hits], db, extra, notes)


def megabytes(n: int) -> str:
    """``10_000_000`` -> ``'10 MB'``, ``2_500_000`` -> ``'2.5 MB'``."""
    return f"{n / 1e6:.3g} MB" if n >= 100_000 else f"{n / 1e3:.3g} kB"


def upload_limit_note() -> str:
    """What the image upload takes, shown next to it before anything is uploaded."""
    return t("upload_limit", size=megabytes(int(get_settings().dashboard_upload_max_bytes)))


def _uploaded_image(content: bytes, name: str = ""):
    """The uploaded bytes as an image; too large, empty or not an image: a clear error."""
    limit_bytes = int(get_settings().dashboard_upload_max_bytes)
    if len(content) > limit_bytes:
        size = megabytes(len(content))
        size = t("bytes", n=number(len(content))) if size == megabytes(limit_bytes) else size  # not "10 MB, at most 10 MB"
        raise search_pkg.ImageInputError(t("upload_too_large", name=name + " " if name else "", size=size, limit=megabytes(limit_bytes)))
    if not content:
        raise search_pkg.ImageInputError(t("upload_empty", name=name + " " if name else ""))
    label = t("the_file", name=name) if name else t("the_uploaded_file")
    return open_image(bytes(content), name=label)  # not an image: a clear error, in the page's language


def image_results(content: bytes, *, max_distance: int = 10, limit: int = 20, db: str | None = None, name: str = "") -> Results:
    """(number of matching posts, their cards) for an uploaded image's bytes; too large or not an image: a clear error."""
    image = _uploaded_image(content, name)
    hits = data.read(search_pkg.search_image, image, max_distance=int(max_distance), limit=int(limit) * 3, db=db)
    ids: list[str] = []
    extra: dict[str, str] = {}
    notes: dict[str, dict] = {}
    for h in hits:
        if h.post_id not in extra:
            ids.append(h.post_id)
            said = t("image_distance", bits=h.distance, kind=h.kind)
            extra[h.post_id] = f"<div style='font-size:12px;color:#555'>{ui.esc(said)}</div>"
            notes[h.post_id] = {"found": h.kind, "score": h.distance}
    ids = ids[: int(limit)]
    return _results(ids, db, extra, notes)


def _date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else None


@ui.panel
def search_panel(db: str | None = None, query: str = "", hashtag: str = "", limit: int = 20):
    """A text box with filters (hashtag, author, dates, minimum views) and an image upload; results as cards."""
    import ipywidgets as w

    data.read(lambda con: None, db=db)  # an empty workspace says so here, not at the first search
    box = w.Text(value=query, placeholder=t("search_placeholder"), description=t("search"), layout=w.Layout(width="420px"))
    go = w.Button(description=t("search"), button_style="primary", icon="search")
    tag = w.Text(value=hashtag, placeholder=t("any"), description=t("hashtag"))
    who = w.Text(placeholder=t("any"), description=t("author"))
    since = w.DatePicker(description=t("from"))
    until = w.DatePicker(description=t("to"))
    views = w.IntText(value=0, description=t("min_views"))
    meaning = w.Checkbox(value=False, description=t("by_meaning"), indent=False, tooltip=t("by_meaning_tip"))
    share = views_module.share_link({"query": query, "hashtag": hashtag})
    place = w.Dropdown(options=[(t("everywhere"), "")] + [(t("place_" + p), p) for p in IN_CHOICES], value="", description=t("found_in"))
    note = upload_limit_note()
    upload = w.FileUpload(accept="image/*", multiple=False, description=t("search_by_image"), tooltip=note)
    image_mode = w.ToggleButtons(
        options=[(t("near_identical"), "near-identical"), (t("similar"), "similar")], value="near-identical", tooltip=t("image_mode_tip")
    )
    upload_note = w.HTML(f"<span class='ti-upload-limit' style='font-size:12px;color:#555'>{ui.esc(note)}</span>")
    out = w.VBox()

    def show(found: Results, what: str) -> None:
        count, cards = found
        with ui.filling(out) as display:
            if count:
                said = t("result_for", what=what) if count == 1 else t("results_for", count=ui.number(count), what=what)
                display(w.HTML(f"<p class='ti-hit-count'>{ui.esc(said)}</p>"))
                display(hits_table(found))
                display(w.HTML(ui.zone_note() + cards))
            else:
                display(ui.message(t("no_match", what=what)))

    def on_search(_: Any) -> None:
        def body() -> None:
            if meaning.value:
                found = meaning_results(
                    box.value,
                    hashtag=tag.value,
                    author=who.value,
                    since=_date(since.value),
                    until=_date(until.value),
                    min_views=int(views.value) or None,
                    limit=limit,
                    db=db,
                )
                show(found, t("showing", query=box.value))
                return
            found = text_results(
                box.value,
                hashtag=tag.value,
                author=who.value,
                since=_date(since.value),
                until=_date(until.value),
                min_views=int(views.value) or None,
                limit=limit,
                db=db,
                places=place.value or None,
            )
            share.update({"query": box.value, "hashtag": tag.value, "author": who.value})
            show(found, t("for_query", query=box.value) if box.value.strip() else t("for_filters"))

        _run(body)

    def on_upload(change: Any) -> None:
        def body() -> None:
            got = ui.read_upload(upload.value)
            if got is None:
                return
            name, content = got
            if image_mode.value == "similar":
                show(similar_results(content, limit=limit, db=db, name=name), t("like_image", name=name))
                return
            show(image_results(content, limit=limit, db=db, name=name), t("the_image", name=name))

        _run(body)

    def _run(body) -> None:
        try:
            body()
        except TikTokIntelError as exc:
            with ui.filling(out) as display:
                display(ui.message(ui.error_text(exc), "warning"))
        except Exception as exc:  # noqa: BLE001
            with ui.filling(out) as display:
                display(ui.error_message(exc))

    go.on_click(on_search)
    upload.observe(on_upload, names="value")
    if query.strip() or hashtag.strip():
        on_search(None)
    return w.VBox(
        [
            w.HBox([box, go, meaning]),
            w.HBox([tag, who]),
            w.HBox([since, until]),
            w.HBox([views, place]),
            w.HBox([upload, image_mode, upload_note]),
            share,
            out,
        ]
    )


@ui.panel
def duplicates_panel(db: str | None = None, max_distance: int = 8, min_accounts: int = 2, max_groups: int = 20):
    """Groups of near-identical images posted by different accounts (re-uploads, coordinated posting)."""
    import ipywidgets as w

    groups = data.read(search_pkg.find_duplicates, max_distance=int(max_distance), min_accounts=int(min_accounts), db=db)
    if not groups:
        return ui.message(t("no_dup_groups"))
    said = t("dup_group" if len(groups) == 1 else "dup_groups", n=number(len(groups)))
    parts = [f"<p class='ti-dup-count'>{ui.esc(said)}</p>"]
    for n, group in enumerate(groups[: int(max_groups)], start=1):
        ids = [p.post_id for p in group.posts]
        parts.append(
            f"<div class='ti-dup-group' style='border-left:4px solid #1c4f82;padding-left:8px;margin:10px 0'>"
            f"<b>{ui.esc(t('group_n', n=n))}</b>: {ui.esc(t('group_posts', posts=number(group.size), accounts=number(group.accounts)))}"
            f"{_cards_for(ids, db)}</div>"
        )
    from .networks import network_downloads

    return w.VBox([w.HTML("".join(parts)), network_downloads("duplicates", db)])
