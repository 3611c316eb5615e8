"""Shareable views: a dashboard's filters from its address, and a link back to them.

Voilà hands a page's address to its kernel as ``QUERY_STRING`` in the environment: at once in a
kernel started for the page, after :func:`~.preheat.ready` (``wait_for_request()``) in a
pre-heated one. :func:`from_url` reads it after ``ready()`` and overrides a notebook's parameter
defaults with what the address says, so ``trends.ipynb?hashtag=klimat&window=30d`` opens filtered;
``lang=sv|en`` picks the page's language (:func:`tiktok_intel.texts.use`). :func:`share_link` is
the "copy link to this view" line a panel shows, rebuilt whenever its filters change.

A panel another branch adds adopts it by taking its filters as parameters (the notebook passes
``from_url(...)``'s values) and calling ``share_link(...)`` with its current ones.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

#: Longest value taken from the address (a filter, not a document).
MAX_VALUE_CHARS = 200


def query(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The page's URL query (``QUERY_STRING``) as a dict; the last of repeated names wins; values cut
    to :data:`MAX_VALUE_CHARS`; ``token`` (the server's, in a first link) never kept."""
    text = (os.environ if environ is None else environ).get("QUERY_STRING", "") or ""
    pairs = parse_qsl(text[:4000], keep_blank_values=True)
    return {k: v[:MAX_VALUE_CHARS] for k, v in pairs if k and k != "token"}


def _as(value: str, like: Any) -> Any:
    """``value`` (text from the address) as the type of the default ``like``; unreadable: ``like``."""
    try:
        if isinstance(like, bool):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(like, int):
            return int(value)
        if isinstance(like, float):
            return float(value)
    except ValueError:
        return like
    return value


def from_url(environ: Mapping[str, str] | None = None, **defaults: Any) -> dict[str, Any]:
    """The notebook's ``defaults`` (its parameters), each replaced by the address's value of the same
    name, typed like the default; unknown names in the address are ignored. Also applies
    ``lang=`` to the page (:func:`tiktok_intel.texts.use`). Call it after ``ready()``."""
    from ..texts import use

    given = query(environ)
    if "lang" in given:
        use(given["lang"])
    return {name: (_as(given[name], default) if name in given else default) for name, default in defaults.items()}


def link(filters: Mapping[str, Any]) -> str:
    """The relative link (``?hashtag=klimat&window=30d``) for ``filters``; empty values left out, dates ISO."""
    from ..texts import language

    parts: dict[str, str] = {}
    for name, value in filters.items():
        if value is None or value == "" or value is False:
            continue
        parts[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
    given = query()
    if "lang" in given:  # a page opened in the other language shares it in that language
        parts.setdefault("lang", language())
    return "?" + urlencode(parts) if parts else "?"


def share_html(filters: Mapping[str, Any]) -> str:
    """The "link to this view" line: a link (the page's own address with ``filters``) and a copy
    button (the browser's clipboard; where it is not allowed, the link is selected to copy by hand)."""
    from ..texts import t

    href = html.escape(link(filters), quote=True)
    copy = (
        "(function(b){var a=b.parentNode.querySelector('a.ti-share');var u=new URL(a.getAttribute('href'),location.href).href;"
        "var done=function(){b.textContent=b.dataset.done;};"
        "if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(u).then(done);}"
        "else{var r=document.createRange();r.selectNodeContents(a);var s=getSelection();s.removeAllRanges();s.addRange(r);}})(this)"
    )
    return (
        f"<div class='ti-share-line' style='font-size:12px;margin:4px 0'>"
        f"<a class='ti-share' href='{href}' target='_top'>{html.escape(t('share_link'))}</a> "
        f"<button type='button' class='ti-copy-link' data-done='{html.escape(t('copied'), quote=True)}' onclick=\"{copy}\" "
        f"style='margin-left:8px;font-size:12px'>{html.escape(t('copy_link'))}</button></div>"
    )


def share_link(filters: Mapping[str, Any]):
    """:func:`share_html` as a widget; ``.update(filters)`` rebuilds it when a panel's filters change."""
    import ipywidgets as w

    widget = w.HTML(share_html(filters))
    widget.add_class("ti-share-box")
    widget.update = lambda new: setattr(widget, "value", share_html(new))
    return widget
