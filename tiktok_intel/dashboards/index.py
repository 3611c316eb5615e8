"""The landing page: a link to every dashboard."""
from __future__ import annotations

from . import ui

#: (notebook, title, what it shows), in the order the landing page lists them.
DASHBOARDS: tuple[tuple[str, str, str], ...] = (
    ("overview", "Overview", "How much is collected, growth per day / week / month / year, the flows' last and next runs."),
    ("hashtags", "Hashtags", "The tracked list (add, deactivate), each hashtag's popularity over time and its trending posts."),
    ("trends", "Trends", "Trending posts and authors over 1 / 7 / 30 days, with filters, details and downloads."),
    ("related_hashtags", "Related hashtags", "Hashtags that go together: association rules and their network."),
    ("search", "Search", "Find posts by words, hashtags, authors or an image; near-duplicate images."),
    ("reports", "Reports", "The scheduled jobs' executed reports, newest first; top posts, top authors and top posts in feed, downloadable."),
)


@ui.panel
def index_panel():
    """Links to every dashboard (relative, so they work under any Voilà base URL)."""
    import ipywidgets as w

    items = "".join(f"<li style='margin:8px 0'><a class='ti-dashboard-link' href='{name}.ipynb' style='font-size:17px'>"
                    f"{ui.esc(title)}</a><br><span style='color:#555'>{ui.esc(text)}</span></li>" for name, title, text in DASHBOARDS)
    return w.HTML(f"<ul class='ti-index' style='list-style:none;padding-left:0'>{items}</ul>")
