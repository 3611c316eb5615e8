"""Facts the code relies on in many places, each defined here once (Python, and SQL where queries need it).

- **A hashtag's name** (:func:`hashtag`, :func:`hashtag_sql`): how the parsers store it, how the
  tracked list, the analyses and the search key it. Unicode NFC, surrounding whitespace and ``#``
  removed, lower case one character for one (DuckDB's ``lower``: ``İ`` -> ``i``, a final ``Σ`` ->
  ``σ``), NFC again (a lower-case letter may compose with the mark after it). ``tests/test_conventions.py``
  runs both forms over every code point and tricky names and asserts they agree.
- **Links** to a post, an author, a hashtag on TikTok (:func:`post_link`, :func:`post_link_sql`,
  :func:`author_link_sql`, :func:`hashtag_link`, :func:`hashtag_link_sql`).
- **A post's shown columns with their fallbacks**, for queries over ``posts p LEFT JOIN authors a``:
  its link (:func:`post_url_sql`: the stored one, else the canonical one), when it was published
  (:func:`published_sql`: TikTok's creation time, else when first collected) and its author's name
  (:func:`author_sql`: the author's current name, else the one the post was collected with).
- **Which hosts media may come from** (:func:`host_allowed`).
- **The posts of a tracked item** (:func:`tracked_item`, :func:`tracked_label`, :func:`tracked_posts_sql`):
  what trends, reports, search, alert rules and the dashboards filter by.

Redaction of secrets is :func:`tiktok_intel.raw.redact`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

# ------------------------------------------------------------------------------------ hashtag names

#: What Python's ``str.strip()`` removes (``str.isspace``), for SQL's ``trim``; a test checks it is all of them.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
#: The one character whose Python lower case is two (``"İ".lower()`` is ``"i̇"``): DuckDB's, and ours, is one.
_ONE_FOR_ONE = {"\u0130": "i"}


def hashtag(name: object) -> str | None:
    """``"#Valet2026 "`` -> ``"valet2026"``; empty -> None. The definition of a hashtag's name
    (see the module's docstring); :func:`hashtag_sql` is the same in SQL."""
    if name is None:
        return None
    text = str(name)
    if text.isascii():
        return text.strip().lstrip("#").strip().lower() or None
    text = unicodedata.normalize("NFC", text).strip().lstrip("#").strip()
    text = unicodedata.normalize("NFC", "".join(_ONE_FOR_ONE.get(ch) or ch.lower() for ch in text))
    return text or None


#: The longest hashtag name (TikTok's own limit); longer is not a hashtag, in the tracked list or in the store.
HASHTAG_MAX_LENGTH = 100
#: Unicode categories no hashtag holds: controls, format characters (the bidirectional overrides
#: such as U+202E, zero-width spaces and joiners, U+FEFF), surrogates, private use, and separators
#: (a space inside a name makes two hashtags). Unassigned code points are left alone: whether one
#: is assigned depends on the Unicode version, and the readers must agree (``tests/test_hostile_items.py``).
_NOT_IN_HASHTAGS = frozenset({"Cc", "Cf", "Cs", "Co", "Zs", "Zl", "Zp"})


def hashtag_problem(name: str) -> str | None:
    """Why the normalised name ``name`` (:func:`hashtag`) cannot be a hashtag, or None: too long, or
    holding a control, format (RTL override, zero-width) or separator character. The tracked list
    (:func:`tiktok_intel.tracking.normalise`, which also wants letters, digits and underscore only)
    and the parsers (which store TikTok's hashtags, emoji included) both refuse these."""
    if len(name) > HASHTAG_MAX_LENGTH:
        return f"hashtag of {len(name)} characters (at most {HASHTAG_MAX_LENGTH})"
    if name.isascii():
        bad = next((ch for ch in name if not ch.isprintable() or ch == " "), None)
    else:
        bad = next((ch for ch in name if unicodedata.category(ch) in _NOT_IN_HASHTAGS), None)
    if bad is not None:
        return f"hashtag holding {bad!r} (U+{ord(bad):04X}, {unicodedata.category(bad)})"
    return None


def hashtag_sql(expr: str) -> str:
    """:func:`hashtag` in SQL over the text expression ``expr`` (NULL for an empty name).

    ``trim`` with a set of characters costs ten times the rest, so it runs only for a name that
    starts or ends with one of them (about 0.2 µs a name in all)."""
    x = f"nfc_normalize({expr})"
    stripped = (
        f"CASE WHEN contains('{WHITESPACE}#', left({x}, 1)) OR contains('{WHITESPACE}', right({x}, 1)) "
        f"THEN trim(ltrim(trim({x}, '{WHITESPACE}'), '#'), '{WHITESPACE}') ELSE {x} END"
    )
    return f"nullif(nfc_normalize(lower({stripped})), '')"


# ------------------------------------------------------------------------------------ links

#: TikTok's web address, as the links people open name it (the ``web_base_url`` setting is where requests go).
TIKTOK = "https://www.tiktok.com"


def post_link(unique_id: str | None, post_id: str) -> str:
    """The canonical TikTok link of a post (works with any or no author name in it)."""
    return f"{TIKTOK}/@{unique_id or ''}/video/{post_id}"


def post_link_sql(unique_id: str, post_id: str) -> str:
    """:func:`post_link` in SQL, over two expressions."""
    return f"'{TIKTOK}/@' || coalesce({unique_id}, '') || '/video/' || {post_id}"


def author_link_sql(unique_id: str) -> str:
    """An author's profile link in SQL (NULL without a name)."""
    return f"CASE WHEN {unique_id} IS NOT NULL THEN '{TIKTOK}/@' || {unique_id} END"


def hashtag_link(name: str) -> str:
    return f"{TIKTOK}/tag/{name}"


def hashtag_link_sql(name: str) -> str:
    return f"'{TIKTOK}/tag/' || {name}"


# ------------------------------------------------------------------------------------ a post's shown columns


def post_url_sql(p: str = "p", post_id: str | None = None) -> str:
    """A post's link: the one stored with it, else the canonical one (``post_id``: the expression
    naming the post when ``p`` may be missing from an outer join)."""
    return f"coalesce({p}.url, {post_link_sql(f'{p}.author_unique_id', post_id or f'{p}.post_id')})"


def published_sql(p: str = "p") -> str:
    """When a post was published: TikTok's creation time, else when it was first collected."""
    return f"coalesce({p}.created_at, {p}.first_seen_at)"


def author_sql(p: str = "p", a: str = "a") -> str:
    """A post's author's name: the author's current one (``authors``), else the one it was collected with."""
    return f"coalesce({a}.unique_id, {p}.author_unique_id)"


# ------------------------------------------------------------------------------------ media hosts


def host_allowed(url: str, hosts: Iterable[str]) -> bool:
    """True when ``url`` is http(s) on one of ``hosts`` or a subdomain of one."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        return False
    for allowed in hosts:
        allowed = allowed.lower().strip().lstrip(".")
        if allowed and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


# ------------------------------------------------------------------------ accounts and keywords

#: The kinds of tracked item (``tiktok_intel.tracking``): hashtags in ``tracked_hashtags``, the rest in ``tracked_items``.
TRACKED_KINDS = ("hashtag", "account", "keyword")
#: TikTok usernames: 2 to 24 letters, digits, underscores and periods.
ACCOUNT_MAX_LENGTH = 24
KEYWORD_MAX_LENGTH = 100
_ACCOUNT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.")
_PROFILE_PREFIXES = ("https://www.tiktok.com/@", "http://www.tiktok.com/@", "https://tiktok.com/@", "www.tiktok.com/@", "tiktok.com/@")


def account(name: object) -> str | None:
    """``" @SVTNyheter "`` or ``"https://www.tiktok.com/@svtnyheter?lang=sv"`` -> ``"svtnyheter"`` (the
    unique id, lower case, as ``author_names`` keys it); empty -> None."""
    if name is None:
        return None
    text = unicodedata.normalize("NFC", str(name)).strip()
    lowered = text.lower()
    for prefix in _PROFILE_PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix) - 1 :].split("?", 1)[0].split("/", 1)[0]
            break
    return text.lstrip("@").strip().lower() or None


def account_problem(name: str) -> str | None:
    """Why the normalised ``name`` cannot be a TikTok username, or None."""
    if len(name) < 2 or len(name) > ACCOUNT_MAX_LENGTH:
        return f"{len(name)} characters long: TikTok usernames have 2 to {ACCOUNT_MAX_LENGTH}"
    bad = next((ch for ch in name if ch not in _ACCOUNT_CHARS), None)
    if bad is not None:
        return f"contains {bad!r}: usernames hold only letters a-z, digits, '_' and '.'"
    if name.endswith("."):
        return "ends with '.', which no username does"
    return None


def keyword(text: object) -> str | None:
    """A search keyword as it is tracked: NFC, lower case, inner whitespace one space; empty -> None."""
    if text is None:
        return None
    words = unicodedata.normalize("NFC", str(text)).lower().split()
    return " ".join(words) or None


def keyword_problem(text: str) -> str | None:
    """Why the normalised keyword ``text`` cannot be searched for, or None."""
    if len(text) > KEYWORD_MAX_LENGTH:
        return f"{len(text)} characters long (at most {KEYWORD_MAX_LENGTH})"
    bad = next((ch for ch in text if unicodedata.category(ch) in _NOT_IN_HASHTAGS - {"Zs"}), None)
    if bad is not None:
        return f"holds {bad!r} (U+{ord(bad):04X}, {unicodedata.category(bad)})"
    return None


# ------------------------------------------------------------------------ the posts of a tracked item


def tracked_item(value: object) -> tuple[str, str] | None:
    """The ``(kind, name)`` a filter names: ``"klimat"`` or ``"#klimat"`` a hashtag, ``"@svtnyheter"``
    (or a profile link) an account, ``'"vattenbrist"'`` (in double quotes, as a run's summary shows
    it) a keyword; a ``(kind, name)`` pair as it is. Names normalised as each kind is tracked, not
    validated (a name nothing was collected under matches no post); empty: None."""
    if value is None:
        return None
    if isinstance(value, tuple | list) and len(value) == 2:
        kind, name = value
        if kind not in TRACKED_KINDS:
            raise ValueError(f"unknown kind of tracked item {kind!r}: one of {', '.join(TRACKED_KINDS)}")
        found = {"hashtag": hashtag, "account": account, "keyword": keyword}[kind](name)
        return (kind, found) if found else None
    text = unicodedata.normalize("NFC", str(value)).strip()
    if len(text) > 1 and text[0] == text[-1] == '"':
        found = keyword(text[1:-1])
        return ("keyword", found) if found else None
    if text.startswith("@") or "tiktok.com/@" in text.lower():
        found = account(text)
        return ("account", found) if found else None
    found = hashtag(text)
    return ("hashtag", found) if found else None


def tracked_label(kind: str, name: str) -> str:
    """How a filter names a tracked item (:func:`tracked_item` reads it back): ``#klimat``, ``@svtnyheter``, ``"vattenbrist"``."""
    return {"hashtag": f"#{name}", "account": f"@{name}"}.get(kind, f'"{name}"')


def tracked_posts_sql(value: object) -> tuple[str, list[str]] | None:
    """``(SELECT post_id ... with ? marks, its parameters)``: the posts of the tracked item ``value``
    names (:func:`tracked_item`), or None for no filter. A hashtag's: tagged with it or listed in its
    feed (``post_hashtags``, ``feed_appearances``); an account's: its own posts and those its profile
    listed (``posts``, ``listings``); a keyword's: those its searches listed (``listings``)."""
    item = tracked_item(value)
    if item is None:
        return None
    kind, name = item
    if kind == "hashtag":
        return "SELECT post_id FROM post_hashtags WHERE hashtag = ? UNION SELECT post_id FROM feed_appearances WHERE hashtag = ?", [
            name,
            name,
        ]
    if kind == "account":
        return (
            "SELECT post_id FROM posts WHERE lower(author_unique_id) = ? UNION SELECT post_id FROM listings WHERE kind = 'account' AND tracked = ?",
            [name, name],
        )
    return "SELECT post_id FROM listings WHERE kind = 'keyword' AND tracked = ?", [name]
