"""The plotly figures the pipeline notebooks and dashboards end with (offline: no CDN needed).

Each takes the DataFrame an analysis returned and gives a ``plotly.graph_objects.Figure``; an
empty frame gives an empty figure that says so, so a notebook never fails for lack of data.
"""
from __future__ import annotations

import pandas as pd


def _empty(title: str, message: str):
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[{"text": message, "showarrow": False, "font": {"size": 16}}])
    return fig


def _short(text: object, width: int = 30) -> str:
    text = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def bar(df: pd.DataFrame, label: str, value: str, *, title: str, hover: tuple[str, ...] = (), empty: str = "no data yet"):
    """A horizontal bar per row (largest on top): ``label`` names the bar, ``value`` sizes it."""
    import plotly.express as px

    if df is None or df.empty or value not in df or df[value].isna().all():
        return _empty(title, empty)
    data = df.dropna(subset=[value]).copy()
    data["_label"] = [_short(x) for x in data[label]]
    data[value] = data[value].astype(float)
    fig = px.bar(data.iloc[::-1], x=value, y="_label", orientation="h", title=title,
                 hover_data=[c for c in hover if c in data])
    fig.update_layout(yaxis_title=None, height=max(300, 28 * len(data) + 120))
    return fig


def overview_chart(df: pd.DataFrame, *, title: str = "Collected per period"):
    """New posts, authors and hashtags per period (:func:`tiktok_intel.analyses.reports.overview`)."""
    import plotly.express as px

    if df is None or df.empty:
        return _empty(title, "nothing collected yet")
    long = df.melt(id_vars="period", value_vars=["posts", "authors", "hashtags"], var_name="what", value_name="new")
    long["new"] = long["new"].astype(float)
    return px.bar(long, x="period", y="new", color="what", barmode="group", title=title)


def rules_chart(df: pd.DataFrame, *, title: str = "Association rules"):
    """Rules as points: support across, confidence up, lift as colour (:func:`...rules.stored_rules`)."""
    import plotly.express as px

    if df is None or df.empty:
        return _empty(title, "no rules at these thresholds")
    data = df.copy()
    data["rule"] = [", ".join(a) + " → " + ", ".join(c) for a, c in zip(data["antecedents"], data["consequents"])]
    data["lift"] = data["lift"].astype(float)
    return px.scatter(data, x="support", y="confidence", color="lift", hover_name="rule", size_max=12, title=title,
                      hover_data=["post_count"])


def daily_chart(df: pd.DataFrame, *, value: str = "posts", title: str = "Posts published per day"):
    """A line over ``day`` (:func:`tiktok_intel.analyses.trends.new_posts_per_day`)."""
    import plotly.express as px

    if df is None or df.empty:
        return _empty(title, "no posts yet")
    data = df.copy()
    data[value] = data[value].astype(float)
    return px.line(data, x="day", y=value, markers=True, title=title)
