"""A dashboard's own headings and introductions, in the page's language.

A markdown cell cannot follow ``?lang=``, so a dashboard notebook writes its narrative from code
cells after ``from_url(...)`` (which sets the language): ``ti.title("overview")`` is the page's
``<h1>`` and its introduction, ``ti.section("overview.growth")`` a section's ``<h2>`` and its line,
``ti.note("index.flows")`` a paragraph alone. Every text is a :data:`tiktok_intel.texts.CATALOGUE`
key: ``dash_<name>`` (the title the landing page lists too) and ``dash_<name>_intro``; ``<page>.<section>``
and ``<page>.<section>.intro``. The texts may use ``**bold**``, ``*emphasis*`` and ```code```.
They are real heading markup, so screen readers and the browser tests find them by role.
"""

from __future__ import annotations

import html
import re

from ..texts import CATALOGUE, t

_CODE = re.compile(r"(`[^`]+`)")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")
_EM = re.compile(r"\*([^*]+)\*")


def inline(text: str) -> str:
    """``text`` escaped, its ``**bold**``, ``*emphasis*`` and ```code``` as HTML (code is left as written)."""
    out = []
    for part in _CODE.split(html.escape(text, quote=False)):
        if _CODE.fullmatch(part):
            out.append(f"<code>{part[1:-1]}</code>")
        else:
            out.append(_EM.sub(r"<em>\1</em>", _STRONG.sub(r"<strong>\1</strong>", part)))
    return "".join(out)


def _block(level: int, key: str, intro: str | None, css: str):
    from IPython.display import HTML

    parts = [f"<h{level} class='{css}'>{inline(t(key))}</h{level}>"] if level else []
    if intro is not None and intro in CATALOGUE:
        parts.append(f"<p class='ti-intro'>{inline(t(intro))}</p>")
    return HTML("<div class='ti-page-text'>" + "".join(parts) + "</div>")


def title(name: str):
    """The page's ``<h1>`` (``dash_<name>``) and its introduction (``dash_<name>_intro``)."""
    return _block(1, f"dash_{name}", f"dash_{name}_intro", "ti-title")


def section(key: str):
    """A section's ``<h2>`` (``key``, e.g. ``overview.growth``) and its line (``<key>.intro``, when there is one)."""
    return _block(2, key, f"{key}.intro", "ti-section")


def note(key: str):
    """A paragraph alone (``key``)."""
    return _block(0, "", key, "")
