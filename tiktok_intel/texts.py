"""The one catalogue of what the dashboards say, in Swedish and English, and the locale's formats.

``TIKTOK_INTEL_UI_LANGUAGE`` (setting ``ui_language``: ``sv`` or ``en``, default ``sv``) picks the
language; a dashboard page may ask for the other one with ``?lang=en`` in its address
(:func:`use`). Every label and message a panel shows is :func:`t` of a key of :data:`CATALOGUE`;
numbers and dates go through :func:`number`, :func:`decimal`, :func:`percent` and :func:`date`
(Babel: ``1 234`` and ``12,5`` in Swedish, ``1,234`` and ``12.5`` in English).

A panel another branch adds adopts it by adding its keys here (both languages: a test checks that
every key has both) and calling ``t("key", name=value)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .errors import SettingsError

LANGUAGES = ("sv", "en")
#: Babel locales of the languages.
LOCALES = {"sv": "sv_SE", "en": "en_GB"}

#: key -> {language: text}; ``{name}`` fields are filled by :func:`t`.
CATALOGUE: dict[str, dict[str, str]] = {
    # shared
    "times_in": {"sv": "Tider i {zone}.", "en": "Times in {zone}."},
    "nothing": {"sv": "Inget att visa.", "en": "Nothing to show."},
    "download_csv": {"sv": "Ladda ner CSV", "en": "Download CSV"},
    "download_csv_excel": {"sv": "CSV för Excel", "en": "CSV for Excel"},
    "download_excel": {"sv": "Ladda ner Excel", "en": "Download Excel"},
    "prepare_downloads": {"sv": "Förbered nedladdning", "en": "Prepare download"},
    "downloads_ready": {"sv": "Klart: {rows} rader.", "en": "Ready: {rows} rows."},
    "share_link": {"sv": "Länk till den här vyn", "en": "Link to this view"},
    "copy_link": {"sv": "Kopiera länk", "en": "Copy link"},
    "copied": {"sv": "Kopierad", "en": "Copied"},
    "panel_failed": {
        "sv": "Den här panelen kunde inte visas ({kind}); detaljerna finns i serverns logg.",
        "en": "This panel could not be shown ({kind}); the details are in the server log.",
    },
    "copy_notice": {
        "sv": "Ett schemalagt flöde skriver till databasen: visar data från {when} (ladda om för det senaste).",
        "en": "A scheduled flow is writing to the database: showing the data as of {when} (refresh for the latest).",
    },
    # filters
    "window": {"sv": "Period", "en": "Window"},
    "metric": {"sv": "Mått", "en": "Metric"},
    "rank_by": {"sv": "Rangordna", "en": "Rank by"},
    "change": {"sv": "ökning", "en": "change"},
    "growth_pct": {"sv": "tillväxt %", "en": "growth %"},
    "hashtag": {"sv": "Hashtag", "en": "Hashtag"},
    "all_hashtags": {"sv": "alla hashtaggar", "en": "all hashtags"},
    "from": {"sv": "Från", "en": "From"},
    "to": {"sv": "Till", "en": "To"},
    "details": {"sv": "Detaljer", "en": "Details"},
    "period": {"sv": "Period", "en": "Period"},
    "search": {"sv": "Sök", "en": "Search"},
    "author": {"sv": "Konto", "en": "Author"},
    "min_views": {"sv": "Minst visningar", "en": "Min views"},
    "any": {"sv": "alla", "en": "any"},
    "search_placeholder": {"sv": "ord, #hashtaggar, @konton", "en": "words, #hashtags, @authors"},
    "search_by_image": {"sv": "Sök med bild", "en": "Search by image"},
    # cards
    "no_description": {"sv": "(ingen beskrivning)", "en": "(no description)"},
    "unknown_author": {"sv": "okänt konto", "en": "unknown author"},
    "no_cover": {"sv": "ingen bild", "en": "no cover"},
    "cover_alt": {"sv": "Omslagsbild till inlägget av @{author}: {text}", "en": "Cover of the post by @{author}: {text}"},
    "watch": {"sv": "Se inlägget av @{author} på TikTok", "en": "Watch @{author}'s post on TikTok"},
    "open_link": {"sv": "Öppna {what} på TikTok", "en": "Open {what} on TikTok"},
    "views": {"sv": "visningar", "en": "views"},
    "likes": {"sv": "gilla", "en": "likes"},
    "comments": {"sv": "kommentarer", "en": "comments"},
    "shares": {"sv": "delningar", "en": "shares"},
    # trends
    "no_trending_posts": {
        "sv": "Inga trendande inlägg för de här filtren. Trender över {window} kräver två insamlingar med minst "
        "{days} dag(ar) emellan; prova en kortare period eller färre filter.",
        "en": "No trending posts for these filters. Trends over {window} need two collections at least "
        "{days} day(s) apart; try a shorter window or fewer filters.",
    },
    "no_trending_authors": {"sv": "Inga trendande konton över {window} än.", "en": "No trending authors over {window} yet."},
    # search
    "results_for": {"sv": "{count} träffar {what}", "en": "{count} results {what}"},
    "result_for": {"sv": "1 träff {what}", "en": "1 result {what}"},
    "for_query": {"sv": "för “{query}”", "en": "for “{query}”"},
    "for_filters": {"sv": "för de här filtren", "en": "for these filters"},
    "no_match": {
        "sv": "Inga inlägg matchar {what}. Prova färre ord eller filter.",
        "en": "No posts match {what}. Try fewer words or filters.",
    },
    # overview
    "posts": {"sv": "inlägg", "en": "posts"},
    "authors": {"sv": "konton", "en": "authors"},
    "hashtags": {"sv": "hashtaggar", "en": "hashtags"},
    "tracked hashtags": {"sv": "bevakade hashtaggar", "en": "tracked hashtags"},
    "new_per": {"sv": "Nya per {period}", "en": "New per {period}"},
    "day": {"sv": "dag", "en": "day"},
    "week": {"sv": "vecka", "en": "week"},
    "month": {"sv": "månad", "en": "month"},
    "year": {"sv": "år", "en": "year"},
    "flow": {"sv": "flöde", "en": "flow"},
    "status": {"sv": "status", "en": "status"},
    "started": {"sv": "startade", "en": "started"},
    "ended": {"sv": "slutade", "en": "ended"},
    "next_run": {"sv": "nästa körning", "en": "next run"},
    "report": {"sv": "rapport", "en": "report"},
    "runs_caption": {"sv": "Flödenas senaste och nästa körning", "en": "The flows' last and next runs"},
    "not_scheduled": {"sv": "inte schemalagt", "en": "not scheduled"},
    "never_run": {"sv": "aldrig kört", "en": "never run"},
    "no_report": {"sv": "ingen körd rapport", "en": "no executed report"},
    "open_report": {"sv": "Öppna rapport", "en": "Open report"},
    # the index: each dashboard's title and what it shows (index.DASHBOARDS is read from here)
    "dash_overview": {"sv": "Översikt", "en": "Overview"},
    "dash_overview_what": {
        "sv": "Hur mycket som samlats in, tillväxt per dag / vecka / månad / år, flödenas senaste och kommande körningar.",
        "en": "How much is collected, growth per day / week / month / year, the flows' last and next runs.",
    },
    "dash_hashtags": {"sv": "Hashtaggar", "en": "Hashtags"},
    "dash_hashtags_what": {
        "sv": "Bevakningslistan (lägg till, inaktivera), varje hashtaggs popularitet över tid och dess trendande inlägg.",
        "en": "The tracked list (add, deactivate), each hashtag's popularity over time and its trending posts.",
    },
    "dash_trends": {"sv": "Trender", "en": "Trends"},
    "dash_trends_what": {
        "sv": "Trendande inlägg och konton över 1 / 7 / 30 dagar, med filter, detaljer och nedladdningar.",
        "en": "Trending posts and authors over 1 / 7 / 30 days, with filters, details and downloads.",
    },
    "dash_related_hashtags": {"sv": "Relaterade hashtaggar", "en": "Related hashtags"},
    "dash_related_hashtags_what": {
        "sv": "Hashtaggar som hör ihop: associationsregler och deras nätverk.",
        "en": "Hashtags that go together: association rules and their network.",
    },
    "dash_search": {"sv": "Sök", "en": "Search"},
    "dash_search_what": {
        "sv": "Hitta inlägg med ord, hashtaggar, konton eller en bild; nästan identiska bilder.",
        "en": "Find posts by words, hashtags, authors or an image; near-duplicate images.",
    },
    "dash_accounts": {"sv": "Konton", "en": "Accounts"},
    "dash_accounts_what": {
        "sv": "Bevakade kontons följare, hjärtan och videor över tid, deras senaste inlägg, nedladdningsbara.",
        "en": "Watched accounts' followers, hearts and videos over time, their latest posts, downloadable.",
    },
    "by_meaning": {"sv": "efter innebörd", "en": "by meaning"},
    "by_meaning_tip": {"sv": "vad bilderna visar (CLIP-modell), inte orden", "en": "what the pictures show (CLIP model), not the words"},
    "near_identical": {"sv": "nästan identiska", "en": "near-identical"},
    "similar": {"sv": "liknande", "en": "similar"},
    "image_mode_tip": {"sv": "kopior, eller liknande innehåll", "en": "copies, or similar content"},
    "everywhere": {"sv": "överallt", "en": "everywhere"},
    "found_in": {"sv": "Hittat i", "en": "Found in"},
    "dash_reports": {"sv": "Rapporter", "en": "Reports"},
    "dash_reports_what": {
        "sv": "De schemalagda jobbens körda rapporter, nyast först; topplistor över inlägg, konton och inlägg i flödet, nedladdningsbara.",
        "en": "The scheduled jobs' executed reports, newest first; top posts, top authors and top posts in feed, downloadable.",
    },
    "data": {"sv": "Data", "en": "Data"},
    "posts_collected": {"sv": "inlägg senast insamlade {when}", "en": "posts last collected {when}"},
    "hashtags_monitored": {"sv": "hashtaggar senast bevakade {when}", "en": "hashtags last monitored {when}"},
    "last_run": {"sv": "senaste schemalagda körning", "en": "last scheduled run"},
    "no_data_index": {
        "sv": "Inget insamlat än: lägg till hashtaggar på sidan Hashtaggar, eller kör <code>tiktok-intel collect</code>.",
        "en": "No data collected yet: add hashtags on the Hashtags dashboard, or run <code>tiktok-intel collect</code>.",
    },
    # the interactive tables (DataTables' own words)
    "dt_search": {"sv": "Sök i tabellen:", "en": "Search the table:"},
    "dt_info": {"sv": "Rad _START_–_END_ av _TOTAL_", "en": "Rows _START_–_END_ of _TOTAL_"},
    "dt_info_empty": {"sv": "Inga rader", "en": "No rows"},
    "dt_info_filtered": {"sv": "(filtrerat från _MAX_)", "en": "(filtered from _MAX_)"},
    "dt_length": {"sv": "Visa _MENU_ rader", "en": "Show _MENU_ rows"},
    "dt_zero": {"sv": "Inga rader matchar sökningen", "en": "No rows match the search"},
    # the Overview's watch panels (dashboards/watch.py)
    "no_recheck": {
        "sv": "Inget inlägg kontrollerat igen än: flödet recheck frågar TikTok var 6:e timme (eller kör `tiktok-intel recheck`).",
        "en": "No post rechecked yet: the recheck flow asks TikTok every 6 hours (or run `tiktok-intel recheck`).",
    },
    "status_available": {"sv": "finns kvar", "en": "still there"},
    "status_removed": {"sv": "Borttaget", "en": "Removed"},
    "status_private": {"sv": "Gjort privat", "en": "Made private"},
    "status_region_blocked": {"sv": "Blockerat i regionen", "en": "Blocked in the region"},
    "all_still_there": {"sv": "Alla kontrollerade inlägg finns kvar ({seen}).", "en": "Every rechecked post is still there ({seen})."},
    "first_seen_gone": {"sv": "borta sedan {when}", "en": "first seen gone {when}"},
    "last_seen_available": {"sv": "senast synligt {when}", "en": "last seen available {when}"},
    "transcript": {"sv": "Transkription", "en": "Transcript"},
    "gone_count": {
        "sv": "{n} inlägg visas inte längre (senaste kontroller: {seen})",
        "en": "{n} posts no longer shown (latest checks: {seen})",
    },
    "no_alert_yet": {
        "sv": "Inga larm skickade än: skriv regler i larmfilen (`tiktok-intel alerts list` visar dem).",
        "en": "No alert sent yet: write rules in the alerts file (`tiktok-intel alerts list` shows them).",
    },
    "alerts_all_delivered": {"sv": "Alla larm levererades.", "en": "Every alert was delivered."},
    "alerts_failed": {
        "sv": "{n} larmleveranser misslyckades: de försöks igen vid nästa körning.",
        "en": "{n} alert deliveries failed: tried again on the next run.",
    },
    "alert_failed": {
        "sv": "{n} larmleverans misslyckades: den försöks igen vid nästa körning.",
        "en": "{n} alert delivery failed: tried again on the next run.",
    },
    "latest_alerts": {"sv": "Senaste larmen", "en": "Latest alerts"},
    "min_ago": {"sv": "för {n} min sedan", "en": "{n} min ago"},
    "h_ago": {"sv": "för {n} h sedan", "en": "{n} h ago"},
    "days_ago": {"sv": "för {n} dagar sedan", "en": "{n} days ago"},
}

_override: str | None = None


def language() -> str:
    """The dashboards' language: the page's ``?lang=`` (:func:`use`), else the setting ``ui_language``."""
    if _override is not None:
        return _override
    from .settings import get_settings

    chosen = str(get_settings().ui_language).strip().lower()
    if chosen not in LANGUAGES:
        raise SettingsError(f"TIKTOK_INTEL_UI_LANGUAGE={chosen!r} is not a language of the dashboards: use sv or en")
    return chosen


def use(lang: str | None) -> str:
    """Speak ``lang`` in this process (a dashboard kernel serves one page); unknown or None: the setting."""
    global _override
    lang = (lang or "").strip().lower()
    _override = lang if lang in LANGUAGES else None
    return language()


def t(key: str, lang: str | None = None, **fields: Any) -> str:
    """The catalogue's text for ``key`` in the language, its ``{fields}`` filled; an unknown key is itself."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return key.format(**fields) if fields else key
    text = entry[lang or language()]
    return text.format(**fields) if fields else text


def locale(lang: str | None = None) -> str:
    return LOCALES[lang or language()]


def number(value: Any, lang: str | None = None) -> str:
    """A whole number for the language: ``1 234`` (sv), ``1,234`` (en); missing: ``-``."""
    from babel.numbers import format_decimal

    try:
        if value is None or value != value:
            return "-"
        return format_decimal(int(value), locale=locale(lang))
    except (TypeError, ValueError):
        return "-"


def decimal(value: Any, digits: int = 1, lang: str | None = None) -> str:
    """A decimal number: ``12,5`` (sv), ``12.5`` (en); large ones whole, with groups."""
    from babel.numbers import format_decimal

    try:
        if value is None or value != value:
            return ""
        value = float(value)
    except (TypeError, ValueError):
        return ""
    if abs(value) >= 1000:
        return format_decimal(round(value), locale=locale(lang))
    return format_decimal(value, format="#,##0." + "#" * max(1, digits), locale=locale(lang))


def percent(value: Any, lang: str | None = None) -> str:
    """A percentage already in percent (``12.5`` -> ``12,5 %`` / ``12.5%``)."""
    text = decimal(value, 1, lang)
    if not text:
        return ""
    return f"{text}\u00a0%" if (lang or language()) == "sv" else f"{text}%"


def date(value: dt.date | dt.datetime, lang: str | None = None) -> str:
    """A date for the language (``10 nov. 2026`` / ``10 Nov 2026``)."""
    from babel.dates import format_date

    return format_date(value, format="medium", locale=locale(lang))
