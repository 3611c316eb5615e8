"""The one catalogue of what the dashboards say, in Swedish and English, and the locale's formats.

``TIKTOK_INTEL_UI_LANGUAGE`` (setting ``ui_language``: ``sv`` or ``en``, default ``sv``) picks the
language; a dashboard page may ask for the other one with ``?lang=en`` in its address
(:func:`use`). Every label and message a panel shows is :func:`t` of a key of :data:`CATALOGUE`;
numbers and dates go through :func:`number`, :func:`decimal`, :func:`fixed`, :func:`percent` and :func:`date`
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
    "all_posts": {"sv": "alla inlägg", "en": "all posts"},
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
    # the dashboards' own headings and introductions (dashboards/page.py: ti.title, ti.section, ti.note;
    # **bold**, *emphasis* and `code` are shown as such)
    "dash_index": {"sv": "TikTok intel – instrumentpaneler", "en": "TikTok intel dashboards"},
    "dash_index_intro": {
        "sv": "Vad som samlas in för de bevakade hashtaggarna, vad som trendar och hur hashtaggar hänger ihop. Varje sida läser "
        "arbetsytan när den öppnas; ladda om sidan i webbläsaren för att se nyare data.",
        "en": "What is being collected for the tracked hashtags, what is trending, and how hashtags relate. Each dashboard reads "
        "the workspace when it opens; use the browser's reload to see newer data.",
    },
    "index.flows": {
        "sv": "Data samlas in av schemalagda flöden (insamling, bevakning, trender, regler, rapporter). En instrumentpanel "
        "blockerar dem aldrig: den läser en kort stund och släpper sedan databasen.",
        "en": "Data is collected by scheduled flows (collection, monitoring, trends, rules, reports). A dashboard never "
        "blocks them: it reads for a moment and lets go of the database.",
    },
    "dash_overview_intro": {
        "sv": "Hur mycket arbetsytan innehåller, hur snabbt den växer och hur det går för de schemalagda flödena.",
        "en": "How much the workspace holds, how fast it grows, and how the scheduled flows are doing.",
    },
    "overview.workspace": {"sv": "I arbetsytan", "en": "In the workspace"},
    "overview.workspace.intro": {
        "sv": "Inlägg, konton och hashtaggar som samlats in hittills, och hur många hashtaggar som bevakas.",
        "en": "Posts, authors and hashtags collected so far, and how many hashtags are tracked.",
    },
    "overview.growth": {"sv": "Tillväxt", "en": "Growth"},
    "overview.growth.intro": {
        "sv": "Inlägg, konton och hashtaggar som samlades in för första gången under varje period.",
        "en": "New posts, authors and hashtags first collected in each period.",
    },
    "overview.flows": {"sv": "Schemalagda flöden", "en": "Scheduled flows"},
    "overview.flows.intro": {
        "sv": "Varje flödes senaste körning, dess status och körda rapport, och när det körs nästa gång.",
        "en": "The last run of each flow, its status and its executed report, and when it runs next.",
    },
    "overview.removed": {"sv": "Borttagna inlägg", "en": "Removed posts"},
    "overview.removed.intro": {
        "sv": "Inlägg som TikTok inte längre visar (borttagna, gjorda privata, blockerade i regionen), upptäckta av flödet "
        "recheck, med den senast sparade kopian av varje inlägg.",
        "en": "Posts TikTok no longer shows (removed, made private, blocked in the region), found by the recheck flow, with "
        "the last copy kept of each.",
    },
    "overview.alerts": {"sv": "Larm", "en": "Alerts"},
    "overview.alerts.intro": {
        "sv": "Larm som inte gick att leverera (vart och ett försöks igen) och de senast skickade larmen.",
        "en": "Alert deliveries that failed (each is tried again), and the latest alerts sent.",
    },
    "dash_hashtags_intro": {
        "sv": "De bevakade hashtaggarna, hur populär var och en är över tid och vad som trendar under dem.",
        "en": "The hashtags being tracked, how popular each is over time, and what is trending under each.",
    },
    "hashtags.tracked": {"sv": "Bevakade hashtaggar", "en": "Tracked hashtags"},
    "hashtags.tracked.intro": {
        "sv": "Lägg till en hashtag (`#` behövs inte; bokstäver, siffror och understreck) eller sluta bevaka en. Det som redan "
        "samlats in för den sparas.",
        "en": "Add a hashtag (the `#` is optional; letters, digits and underscore) or stop tracking one. Stopping keeps "
        "everything collected for it.",
    },
    "hashtags.popularity": {"sv": "Popularitet över tid", "en": "Popularity over time"},
    "hashtags.popularity.intro": {
        "sv": "Visningar och antal videor som TikTok anger för varje hashtag, mätt var 30:e minut.",
        "en": "Views and video counts TikTok reports for each hashtag, snapshotted every 30 minutes.",
    },
    "hashtags.trending": {"sv": "Trendande inlägg per hashtag", "en": "Trending posts per hashtag"},
    "hashtags.trending.intro": {
        "sv": "Inläggen vars visningar har ökat mest under perioden.",
        "en": "The posts whose views grew most over the window.",
    },
    "dash_trends_intro": {
        "sv": "Inlägg och konton som växer snabbast de senaste 1, 7 eller 30 dagarna. Ökning är skillnaden mot mätningen "
        "från då; tillväxt är den ökningen i procent.",
        "en": "Posts and authors growing fastest over the last 1, 7 or 30 days. Change is the difference from the snapshot "
        "that old; growth is that change in percent.",
    },
    "trends.posts": {"sv": "Trendande inlägg", "en": "Trending posts"},
    "trends.posts.intro": {
        "sv": "Filtrera, välj ett inlägg för att se detaljerna och ladda ner tabellen som CSV eller Excel.",
        "en": "Filter, pick a post for its details, download the table as CSV or Excel.",
    },
    "trends.authors": {"sv": "Trendande konton", "en": "Trending authors"},
    "trends.authors.intro": {
        "sv": "Konton vars följare (eller hjärtan, videor) har ökat mest.",
        "en": "Authors whose followers (or hearts, videos) grew most.",
    },
    "dash_related_hashtags_intro": {
        "sv": "Vilka hashtaggar som hör ihop. En regel *A → B* säger att inlägg med A ofta också har B: **stöd** är andelen "
        "inlägg med båda, **konfidens** andelen av A:s inlägg som också har B, **lyft** hur mycket oftare än slumpen.",
        "en": "Which hashtags go together. A rule *A → B* says posts with A often also carry B: **support** is the share of "
        "posts with both, **confidence** the share of A's posts that carry B, **lift** how much more often than chance.",
    },
    "related_hashtags.rules": {"sv": "Regler och deras nätverk", "en": "Rules and their network"},
    "related_hashtags.rules.intro": {
        "sv": "Höj gränsvärdena för att bara behålla de starkaste reglerna; grafen länkar ihop hashtaggar enligt reglerna som visas.",
        "en": "Raise the minimums to keep the strongest rules; the graph links hashtags by the rules shown.",
    },
    "dash_search_intro": {
        "sv": "Hitta inlägg på ord i beskrivningen, hashtaggar, konto eller texten i bilderna, eller med en bild: ladda upp en "
        "bild för att hitta inlägg med samma eller nästan identiska omslagsbild.",
        "en": "Find posts by words in their description, hashtags, author or the text in their images, or by an image: "
        "upload a picture to find posts with the same or a near-identical cover.",
    },
    "search.posts": {"sv": "Sök inlägg", "en": "Search posts"},
    "search.duplicates": {"sv": "Nästan identiska bilder", "en": "Near-duplicate images"},
    "search.duplicates.intro": {
        "sv": "Samma (eller nästan samma) bild publicerad av olika konton: omuppladdningar och samordnad publicering.",
        "en": "The same (or a nearly identical) image posted by different accounts: re-uploads and coordinated posting.",
    },
    "dash_accounts_intro": {
        "sv": "Kontona redaktionen följer: följare, hjärtan och videor över tid (en profilmätning vid varje insamling), med "
        "förändringen över 1, 7 och 30 dagar, och varje kontos senaste inlägg.",
        "en": "The accounts the desk follows: followers, hearts and videos over time (a profile snapshot each collection), "
        "with the change over 1, 7 and 30 days, and each account's latest posts.",
    },
    "accounts.watched": {"sv": "Bevakade konton", "en": "Watched accounts"},
    "accounts.watched.intro": {
        "sv": "Bevaka ett konto med `tiktok-intel track add @svtnyheter` eller i bevakningslistan på sidan Hashtaggar.",
        "en": "Track an account with `tiktok-intel track add @svtnyheter` or in the Hashtags dashboard's tracked list.",
    },
    "dash_reports_intro": {
        "sv": "**Körda rapporter**: den körda kopian av varje schemalagd notebook (de inbyggda jobben och dina egna jobb som "
        "publiceras med `tiktok-intel jobs add ... --publish`), nyast först, med status. *Öppna* visar en här; den kan "
        "laddas ner som HTML.",
        "en": "**Executed reports**: every scheduled notebook's executed copy (the built-in jobs, and your own jobs published "
        "with `tiktok-intel jobs add ... --publish`), newest first, with its status. *Open* shows one here; it can be "
        "downloaded as HTML.",
    },
    "reports.top": {"sv": "Topplistor", "en": "Top lists"},
    "reports.top.intro": {
        "sv": "Rapporterna redaktionen efterfrågar: toppinlägg, toppkonton och de inlägg som oftast listas i en hashtaggs "
        "flöde, för ett datumintervall och en hashtag. Ladda ner tabellen som CSV eller Excel.",
        "en": "The reports editors ask for: top posts, top authors and the posts listed most often in a hashtag's feed, for "
        "a date range and hashtag. Download the table as CSV or Excel.",
    },
    "posts_collected": {"sv": "inlägg senast insamlade {when}", "en": "posts last collected {when}"},
    "hashtags_monitored": {"sv": "hashtaggar senast bevakade {when}", "en": "hashtags last monitored {when}"},
    "last_run": {"sv": "senaste schemalagda körning", "en": "last scheduled run"},
    "no_data_index": {
        "sv": "Inget insamlat än: lägg till hashtaggar på sidan Hashtaggar, eller kör <code>tiktok-intel collect</code>.",
        "en": "No data collected yet: add hashtags on the Hashtags dashboard, or run <code>tiktok-intel collect</code>.",
    },
    # the tables' column headings (dashboards/ui.py COLUMN_KEYS maps a column to its key; downloads keep the column names)
    "col_author": {"sv": "konto", "en": "author"},
    "col_author_id": {"sv": "konto-id", "en": "author id"},
    "col_unique_id": {"sv": "användarnamn", "en": "username"},
    "col_nickname": {"sv": "visningsnamn", "en": "display name"},
    "col_account": {"sv": "konto", "en": "account"},
    "col_description": {"sv": "beskrivning", "en": "description"},
    "col_published_at": {"sv": "publicerat", "en": "published"},
    "col_created_at": {"sv": "skapat", "en": "created"},
    "col_collected_at": {"sv": "insamlat", "en": "collected"},
    "col_measured_at": {"sv": "mätt", "en": "measured"},
    "col_change_1d": {"sv": "ökning 1 dag", "en": "change 1 day"},
    "col_change_7d": {"sv": "ökning 7 dagar", "en": "change 7 days"},
    "col_change_30d": {"sv": "ökning 30 dagar", "en": "change 30 days"},
    "col_hashtag": {"sv": "hashtag", "en": "hashtag"},
    "col_url": {"sv": "länk", "en": "link"},
    "col_rank": {"sv": "plats", "en": "rank"},
    "col_found": {"sv": "hittat i", "en": "found in"},
    "col_score": {"sv": "poäng", "en": "score"},
    "col_post_id": {"sv": "inläggs-id", "en": "post id"},
    "col_period": {"sv": "period", "en": "period"},
    "col_posts_total": {"sv": "inlägg totalt", "en": "posts in total"},
    "col_posts_growth": {"sv": "tillväxt inlägg %", "en": "post growth %"},
    "col_rule": {"sv": "regel", "en": "rule"},
    "col_support": {"sv": "stöd", "en": "support"},
    "col_confidence": {"sv": "konfidens", "en": "confidence"},
    "col_lift": {"sv": "lyft", "en": "lift"},
    "col_post_count": {"sv": "antal inlägg", "en": "post count"},
    "col_collections": {"sv": "insamlingar", "en": "collections"},
    "col_best_rank": {"sv": "bästa plats", "en": "best rank"},
    "col_mean_rank": {"sv": "snittplats", "en": "mean rank"},
    "col_first_listed": {"sv": "först listat", "en": "first listed"},
    "col_last_listed": {"sv": "senast listat", "en": "last listed"},
    "col_snapshots": {"sv": "mätningar", "en": "snapshots"},
    "col_channel": {"sv": "kanal", "en": "channel"},
    "col_subject": {"sv": "ämne", "en": "subject"},
    "col_attempts": {"sv": "försök", "en": "attempts"},
    "col_last_error": {"sv": "senaste fel", "en": "last error"},
    "col_items": {"sv": "antal", "en": "items"},
    # errors of the shared library a dashboard shows (their ``key``: tiktok_intel/errors.py; the command line prints
    # their English message, naming its options)
    "err_busy": {
        "sv": "Databasen är upptagen: ett schemalagt flöde skriver till den. Försök igen om en minut (ladda om sidan).",
        "en": "The database is busy: a scheduled flow is writing to it. Try again in a minute (use the refresh button).",
    },
    "err_busy_no_copy": {
        "sv": "Databasen har använts av en annan process (ett flöde eller en notebook som skriver) i mer än {wait} s och det "
        "finns ingen läskopia än: ladda om sidan när den är klar.",
        "en": "The database has been in use by another process (a flow or a notebook writing) for more than {wait} s and no "
        "read copy has been published yet: reload the page when it has finished.",
    },
    "err_empty_workspace": {
        "sv": "Inget har samlats in i den här arbetsytan än. Bevaka en hashtag och samla in: `tiktok-intel track add valet2026`, "
        "sedan `tiktok-intel collect` (eller `tiktok-intel demo` för exempeldata).",
        "en": "Nothing has been collected in this workspace yet. Track a hashtag and collect: `tiktok-intel track add valet2026`, "
        "then `tiktok-intel collect` (or `tiktok-intel demo` for sample data).",
    },
    "err_limit": {
        "sv": "Antalet träffar måste vara minst 1 (nu {limit}).",
        "en": "The number of results must be at least 1 (got {limit}).",
    },
    "err_min_views": {
        "sv": "Minst visningar måste vara 0 eller mer (nu {min_views}).",
        "en": "Min views must be 0 or more (got {min_views}).",
    },
    "err_since_after_until": {
        "sv": "Från-datumet ligger efter till-datumet: byt plats på dem.",
        "en": "The From date is after the To date: swap them.",
    },
    "err_no_words": {
        "sv": "Sökningen ”{query}” innehåller inga ord: sök på ord, #hashtaggar eller kontonamn.",
        "en": "The search “{query}” has no words in it: search for words, #hashtags or author names.",
    },
    "err_nothing_to_search": {
        "sv": "Inget att söka efter: skriv några ord, eller fyll i minst ett filter (hashtag, konto, datum, minst visningar).",
        "en": "Nothing to search for: type some words, or fill in at least one filter (hashtag, author, dates, min views).",
    },
    "err_meaning_needs_words": {
        "sv": "Sökning efter innebörd behöver ord: beskriv vad bilden visar, t.ex. ”brinnande bil”.",
        "en": "Search by meaning needs words: describe what the picture shows, e.g. “brinnande bil”.",
    },
    "err_index_busy": {
        "sv": "En annan process uppdaterar sökindexet: vänta tills den är klar och sök igen.",
        "en": "Another process is updating the search index: wait for it to finish and search again.",
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
    # the Hashtags dashboard (dashboards/hashtags.py)
    "yes": {"sv": "ja", "en": "yes"},
    "no": {"sv": "nej", "en": "no"},
    "add": {"sv": "Lägg till", "en": "Add"},
    "keyword": {"sv": "Sökord", "en": "Keyword"},
    "add_keyword": {"sv": "Lägg till sökord", "en": "Add keyword"},
    "active": {"sv": "Aktiva", "en": "Active"},
    "deactivate": {"sv": "Inaktivera", "en": "Deactivate"},
    "show": {"sv": "Visa", "en": "Show"},
    "videos_word": {"sv": "videor", "en": "videos"},
    "collected_at": {"sv": "insamlat", "en": "collected_at"},
    "col_kind": {"sv": "typ", "en": "kind"},
    "col_tracked": {"sv": "bevakas", "en": "hashtag"},
    "col_active": {"sv": "aktiv", "en": "active"},
    "col_added": {"sv": "tillagd", "en": "added"},
    "col_last_collected": {"sv": "senast insamlad", "en": "last collected"},
    "kind_hashtag": {"sv": "hashtag", "en": "hashtag"},
    "kind_account": {"sv": "konto", "en": "account"},
    "kind_keyword": {"sv": "sökord", "en": "keyword"},
    "editing_off": {
        "sv": "Redigering av bevakningslistan är avstängd (inställningen TIKTOK_INTEL_DASHBOARD_EDITING; av som standard när "
        "instrumentpanelerna nås utanför 127.0.0.1): använd `tiktok-intel track add`.",
        "en": "Editing the tracked list is turned off (setting TIKTOK_INTEL_DASHBOARD_EDITING; off by default when the "
        "dashboards are served beyond 127.0.0.1): use `tiktok-intel track add`.",
    },
    "type_hashtag_first": {"sv": "Skriv en hashtag först, t.ex. valet2026.", "en": "Type a hashtag first, e.g. valet2026."},
    "already_tracked": {"sv": "Bevakas redan: {names}.", "en": "Already tracked: {names}."},
    "already_tracked_note": {"sv": " (bevakas redan: {names})", "en": " (already tracked: {names})"},
    "now_tracking": {
        "sv": "Bevakar nu {names}{note}. Nästa insamling hämtar inläggen.",
        "en": "Now tracking {names}{note}. The next collection fetches its posts.",
    },
    "now_tracking_keyword": {
        "sv": 'Bevakar nu sökordet "{name}". Nästa insamling söker efter det på TikTok.',
        "en": 'Now tracking the keyword "{name}". The next collection searches TikTok for it.',
    },
    "stopped_tracking": {
        "sv": "Slutade bevaka {names}; det som samlats in för den finns kvar.",
        "en": "Stopped tracking {names}; what was collected for it is kept.",
    },
    "no_tracked_add": {"sv": "Inga hashtaggar bevakas än: lägg till en nedan.", "en": "No hashtags tracked yet: add one below."},
    "no_tracked": {"sv": "Inga hashtaggar bevakas än.", "en": "No hashtags tracked yet."},
    "choose_to_deactivate": {"sv": "Välj en bevakad hashtag att inaktivera.", "en": "Choose a tracked hashtag to deactivate."},
    "views_per_hashtag": {"sv": "Visningar per hashtag (bevakningens mätningar)", "en": "Views per hashtag (monitoring snapshots)"},
    "videos_per_hashtag": {"sv": "Videor per hashtag (bevakningens mätningar)", "en": "Videos per hashtag (monitoring snapshots)"},
    "no_snapshots": {
        "sv": "inga mätningar än: flödet monitor tar en var 30:e minut",
        "en": "no monitoring snapshots yet: the monitor flow takes one every 30 minutes",
    },
    "no_tracked_for_trending": {
        "sv": "Inga bevakade hashtaggar än: lägg till en ovan för att se dess trendande inlägg.",
        "en": "No tracked hashtags yet: add one above to see its trending posts.",
    },
    "no_trending_for_tag": {
        "sv": "Inga trendande inlägg för #{tag} över {window} än: trender kräver två insamlingar med minst {days} dag(ar) emellan.",
        "en": "No trending posts for #{tag} over {window} yet: trends need two collections at least {days} day(s) apart.",
    },
    # the Related hashtags dashboard (dashboards/related.py)
    "cannot_sort": {
        "sv": "kan inte sortera efter {column}: välj en av {choices}",
        "en": "cannot sort by {column}: choose one of {choices}",
    },
    "network_title": {"sv": "Hashtaggar som regler länkar ihop", "en": "Hashtags linked by rules"},
    "no_rules_network": {"sv": "inga regler vid de här gränserna", "en": "no rules at these thresholds"},
    "no_rules_yet": {
        "sv": "Inga associationsregler än: flödet rules tar fram dem ur insamlade inlägg (eller kör `tiktok-intel rules`).",
        "en": "No association rules yet: the rules flow mines them from collected posts (or run `tiktok-intel rules`).",
    },
    "min_support": {"sv": "Minsta stöd", "en": "Min support"},
    "min_confidence": {"sv": "Minsta konfidens", "en": "Min confidence"},
    "min_lift": {"sv": "Minsta lyft", "en": "Min lift"},
    "sort_by": {"sv": "Sortera efter", "en": "Sort by"},
    "rules_posts_of": {"sv": "Regler över", "en": "Rules over"},
    "rules_run": {
        "sv": "Körning {run}: {posts} inlägg, {rules} regler (stöd ≥ {support} inlägg, konfidens ≥ {confidence}).",
        "en": "Run {run}: {posts} posts, {rules} rules (support ≥ {support} posts, confidence ≥ {confidence}).",
    },
    "rule_count": {"sv": "{shown} av {total} regler", "en": "{shown} of {total} rules"},
    "no_rules_here": {"sv": "Inga regler vid de här gränserna: sänk ett minimum.", "en": "No rules at these thresholds: lower a minimum."},
    # network downloads (dashboards/networks.py)
    "no_network": {"sv": "{summary}: inget nätverk att ladda ner.", "en": "{summary}: no network to download."},
    "err_no_model": {
        "sv": "Sökning på betydelse behöver en modell som inte finns här ännu: den som driver verktyget hämtar den med "
        "`tiktok-intel models fetch` (eller pekar TIKTOK_INTEL_CLIP_MODEL på en kopia).",
        "en": "Search by meaning needs a model that is not here yet: whoever runs the workbench fetches it with "
        "`tiktok-intel models fetch` (or points TIKTOK_INTEL_CLIP_MODEL at a copy).",
    },
    # the tracked list's refusals (tracking.normalise; the CLI says them in English)
    "err_not_hashtag": {
        "sv": "{name} är ingen hashtagg: skriv ett namn som valet2026 eller #svtnyheter",
        "en": "{name} is not a hashtag: give a name such as valet2026 or '#svtnyheter'",
    },
    "err_hashtag_long": {
        "sv": "Hashtaggen {name}… är {length} tecken lång: TikToks hashtaggar har högst {most}",
        "en": "hashtag {name}... is {length} characters long: TikTok hashtags have at most {most}",
    },
    "err_hashtag_char": {
        "sv": "Hashtaggen {name} innehåller {bad}: använd bara bokstäver, siffror och understreck",
        "en": "hashtag {name} contains {bad}: use only letters, digits and underscore",
    },
    "network_prepare": {"sv": "Förbered nätverksfiler (Gephi, GraphML, CSV)", "en": "Prepare network files (Gephi, GraphML, CSV)"},
    "network_gephi": {"sv": "Nätverk för Gephi (GEXF)", "en": "Network for Gephi (GEXF)"},
    "network_graphml": {"sv": "GraphML", "en": "GraphML"},
    "network_csv": {"sv": "Kantlista (CSV)", "en": "Edge list (CSV)"},
    "network_window": {"sv": ", inlägg publicerade {since} – {until}", "en": ", posts published {since} – {until}"},
    "network_no_nodes": {
        "sv": "nätverket {kind}: inga noder{window} (samla in inlägg först, eller vidga --since)",
        "en": "{kind} network: no nodes{window} (collect posts first, or widen --since)",
    },
    "network_counts": {
        "sv": "nätverket {kind}: {nodes} noder, {edges} kanter{window}",
        "en": "{kind} network: {nodes} nodes, {edges} edges{window}",
    },
    # the Reports dashboard (dashboards/reports.py, dashboards/archive.py)
    "report_top_posts": {"sv": "toppinlägg", "en": "top posts"},
    "report_top_authors": {"sv": "toppkonton", "en": "top authors"},
    "report_top_feed": {"sv": "toppinlägg i flödet", "en": "top posts in feed"},
    "report_word": {"sv": "Rapport", "en": "Report"},
    "rows": {"sv": "Rader", "en": "Rows"},
    "unknown_report": {"sv": "okänd rapport {report}: välj en av {choices}", "en": "unknown report {report}: choose one of {choices}"},
    "top_posts_by": {"sv": "Toppinlägg efter {metric}", "en": "Top posts by {metric}"},
    "top_authors_by": {"sv": "Toppkonton efter {metric}", "en": "Top authors by {metric}"},
    "top_feed_title": {
        "sv": "Toppinlägg i flödet (insamlingar som listar dem)",
        "en": "Top posts in feed (collections listing them)",
    },
    "no_data_yet": {"sv": "inga data än", "en": "no data yet"},
    "nothing_in_range": {
        "sv": "Inget i det här intervallet: vidga datumen eller välj alla hashtaggar.",
        "en": "Nothing in this range: widen the dates or choose all hashtags.",
    },
    "download_file": {"sv": "Ladda ner {name}", "en": "Download {name}"},
    "report_too_large": {
        "sv": "Den här rapporten är {size} MB, för stor att visa här: ladda ner den.",
        "en": "This report is {size} MB, too large to show here: download it.",
    },
    "no_executed_report": {
        "sv": "Ingen körd rapport än: de schemalagda jobben skriver en vid varje körning (`tiktok-intel serve`, eller "
        "`tiktok-intel run post-trends` nu). Dina egna jobb visas här när de publiceras (`tiktok-intel jobs add ... --publish`).",
        "en": "No executed report yet: the scheduled jobs write one each run (`tiktok-intel serve`, or "
        "`tiktok-intel run post-trends` now). Your own jobs appear here when published (`tiktok-intel jobs add ... --publish`).",
    },
    "job": {"sv": "jobb", "en": "job"},
    "report_file_missing": {"sv": "rapportfilen saknas", "en": "report file not found"},
    "open": {"sv": "Öppna", "en": "Open"},
    # the Accounts dashboard (dashboards/accounts.py)
    "account": {"sv": "Konto", "en": "Account"},
    "series_followers": {"sv": "följare", "en": "followers"},
    "series_hearts": {"sv": "hjärtan", "en": "hearts"},
    "series_videos": {"sv": "videor", "en": "videos"},
    "account_over_time": {"sv": "@{account}: {metric} över tid", "en": "@{account}: {metric} over time"},
    "no_profile_snapshots": {
        "sv": "inga profilmätningar än: varje insamling tar en av varje bevakat konto",
        "en": "no profile snapshots yet: every collection takes one of each tracked account",
    },
    "no_accounts_yet": {
        "sv": "Inga konton bevakas än: bevaka ett med `tiktok-intel track add @svtnyheter` (eller under Hashtaggar).",
        "en": "No accounts tracked yet: track one with `tiktok-intel track add @svtnyheter` (or in Hashtags above).",
    },
    "no_account_posts": {"sv": "Inga inlägg av @{account} insamlade än.", "en": "No posts of @{account} collected yet."},
    # the Overview's leftovers (dashboards/overview.py)
    "no_posts_yet": {
        "sv": "Inga inlägg insamlade än. Lägg till hashtaggar på sidan Hashtaggar; nästa schemalagda insamling "
        "hämtar deras inlägg (eller kör `tiktok-intel collect`).",
        "en": "No posts collected yet. Add hashtags on the Hashtags dashboard; the next scheduled collection "
        "fetches their posts (or run `tiktok-intel collect`).",
    },
    "nothing_collected": {"sv": "Inget insamlat än.", "en": "Nothing collected yet."},
    "no_flow_yet": {
        "sv": "Inget flöde har körts än, och inget är schemalagt. Starta schemaläggaren med `tiktok-intel serve`.",
        "en": "No flow has run yet, and none is scheduled. Start the scheduler with `tiktok-intel serve`.",
    },
    "report_unreadable": {"sv": "Rapporten kan inte läsas: {why}", "en": "The report cannot be read: {why}"},
    # the Search dashboard's hits and notes (dashboards/search.py)
    "place_caption": {"sv": "beskrivning", "en": "caption"},
    "place_image": {"sv": "text i bilden", "en": "image text"},
    "place_speech": {"sv": "tal", "en": "speech"},
    "text_score": {"sv": "textpoäng {score} (BM25)", "en": "text score {score} (BM25)"},
    "speech_link": {
        "sv": "Öppnar videon på TikTok; spola till {at} (TikToks länkar har ingen starttid)",
        "en": "Opens the video on TikTok; go to {at} (TikTok's links carry no start time)",
    },
    "similarity_ranking": {
        "sv": "likhet {score} ({kind}; en rangordning, inte ett faktum)",
        "en": "similarity {score} ({kind}; a ranking, not a fact)",
    },
    "similarity": {"sv": "likhet {score} ({kind})", "en": "similarity {score} ({kind})"},
    "image_distance": {"sv": "bildavstånd {bits} bitar ({kind})", "en": "image distance {bits} bits ({kind})"},
    "showing": {"sv": "som visar “{query}”", "en": "showing “{query}”"},
    "like_image": {"sv": "som liknar bilden {name}", "en": "like the image {name}"},
    "the_image": {"sv": "bilden {name}", "en": "the image {name}"},
    "upload_limit": {"sv": "JPEG, PNG eller WebP, högst {size}", "en": "JPEG, PNG or WebP, at most {size}"},
    "bytes": {"sv": "{n} byte", "en": "{n} bytes"},
    "upload_too_large": {
        "sv": "Filen {name}är {size}: ladda upp en bild på högst {limit} (en skärmbild eller en mindre kopia).",
        "en": "The file {name}is {size}: upload an image of at most {limit} (a screenshot or a smaller copy).",
    },
    "upload_empty": {
        "sv": "Filen {name}är tom: välj en bild (JPEG, PNG eller WebP).",
        "en": "The file {name}is empty: choose an image (JPEG, PNG or WebP).",
    },
    "the_file": {"sv": "Filen {name}", "en": "The file {name}"},
    "the_uploaded_file": {"sv": "Den uppladdade filen", "en": "The uploaded file"},
    "err_not_image": {
        "sv": "{name} är ingen bild som går att läsa: välj en JPEG-, PNG- eller WebP-fil.",
        "en": "{name} is not an image Pillow can read: give a JPEG, PNG or WebP file",
    },
    "err_image_damaged": {"sv": "{name} är en skadad bild: välj en annan kopia.", "en": "{name} is a damaged image: give another copy"},
    "err_image_pixels": {
        "sv": "{name} är {width}x{height} pixlar, över gränsen på {megapixels} megapixlar: använd en mindre kopia "
        "(en skärmbild eller själva omslaget).",
        "en": "{name} is {width}x{height} pixels, over the {megapixels}-megapixel limit: use a smaller copy "
        "(a screenshot or the cover itself)",
    },
    "no_dup_groups": {
        "sv": "Inga grupper av nästan identiska bilder: ingen bild har lagts upp av mer än ett konto "
        "(omslagen jämförs när de har hashats: `tiktok-intel media`).",
        "en": "No near-duplicate groups: no image was posted by more than one account "
        "(covers are compared once they are hashed: `tiktok-intel media`).",
    },
    "dup_group": {"sv": "{n} grupp av nästan identiska bilder", "en": "{n} group of near-identical images"},
    "dup_groups": {"sv": "{n} grupper av nästan identiska bilder", "en": "{n} groups of near-identical images"},
    "group_n": {"sv": "Grupp {n}", "en": "Group {n}"},
    "group_posts": {
        "sv": "{posts} inlägg av {accounts} konton (tidigast först)",
        "en": "{posts} posts by {accounts} accounts (earliest first)",
    },
    # shared leftovers (dashboards/ui.py, dashboards/trends.py)
    "open_post_link": {"sv": "Öppna inlägg {id} av {author} på TikTok", "en": "Open post {id} by {author} on TikTok"},
    "more_rows": {"sv": "{n} rader till finns i nedladdningen.", "en": "{n} more rows in the download."},
    "trend_detail": {
        "sv": "{metric} {window}: ökning {change}, tillväxt {growth} %",
        "en": "{metric} {window}: change {change}, growth {growth} %",
    },
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


def fixed(value: Any, digits: int = 2, lang: str | None = None) -> str:
    """A number with exactly ``digits`` decimals: ``0,950`` (sv), ``0.950`` (en); missing: empty."""
    from babel.numbers import format_decimal

    try:
        if value is None or value != value:
            return ""
        return format_decimal(float(value), format="#,##0." + "0" * max(1, digits), locale=locale(lang))
    except (TypeError, ValueError):
        return ""


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
