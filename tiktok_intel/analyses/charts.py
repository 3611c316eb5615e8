"""The plotly figures the pipeline notebooks and dashboards end with (offline: no CDN needed).

Each takes the DataFrame an analysis returned and gives a ``plotly.graph_objects.Figure``; an
empty frame gives an empty figure that says so, so a notebook never fails for lack of data.
"""

from __future__ import annotations

import pandas as pd

#: The colours of every chart: Okabe and Ito's palette, told apart with the common colour-vision
#: deficiencies (no red beside green); lines and bars take them in this order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: The continuous scale (rules coloured by lift): viridis, readable in grey too.
SCALE = "Viridis"


def _styled(fig):
    """``fig`` in the palette (plotly's default puts red next to green)."""
    fig.update_layout(colorway=list(PALETTE))
    return fig


def _empty(title: str, message: str):
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(
        title=title,
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "font": {"size": 16}}],
    )
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
    fig = px.bar(data.iloc[::-1], x=value, y="_label", orientation="h", title=title, hover_data=[c for c in hover if c in data])
    fig.update_layout(yaxis_title=None, height=max(300, 28 * len(data) + 120))
    return _styled(fig)


def overview_chart(df: pd.DataFrame, *, title: str = "Collected per period"):
    """New posts, authors and hashtags per period (:func:`tiktok_intel.analyses.reports.overview`)."""
    import plotly.express as px

    if df is None or df.empty:
        return _empty(title, "nothing collected yet")
    long = df.melt(id_vars="period", value_vars=["posts", "authors", "hashtags"], var_name="what", value_name="new")
    long["new"] = long["new"].astype(float)
    return _styled(px.bar(long, x="period", y="new", color="what", barmode="group", title=title, color_discrete_sequence=PALETTE))


def rules_chart(df: pd.DataFrame, *, title: str = "Association rules"):
    """Rules as points: support across, confidence up, lift as colour (:func:`...rules.stored_rules`)."""
    import plotly.express as px

    if df is None or df.empty:
        return _empty(title, "no rules at these thresholds")
    data = df.copy()
    data["rule"] = [", ".join(a) + " → " + ", ".join(c) for a, c in zip(data["antecedents"], data["consequents"])]
    data["lift"] = data["lift"].astype(float)
    return px.scatter(
        data,
        x="support",
        y="confidence",
        color="lift",
        hover_name="rule",
        size_max=12,
        title=title,
        hover_data=["post_count"],
        color_continuous_scale=SCALE,
    )


def daily_chart(df: pd.DataFrame, *, value: str = "posts", title: str = "Posts published per day"):
    """A line over ``day`` (:func:`tiktok_intel.analyses.trends.new_posts_per_day`)."""
    import plotly.express as px

    if df is None or df.empty:
        return _empty(title, "no posts yet")
    data = df.copy()
    data[value] = data[value].astype(float)
    return _styled(px.line(data, x="day", y=value, markers=True, title=title, color_discrete_sequence=PALETTE))


def growth_chart(result, *, title: str | None = None):
    """One plotly figure: the views and videos each hashtag gained since its first monitoring
    snapshot in the period (hover: TikTok's count itself), and, for a
    :class:`~tiktok_intel.analyses.briefs.Comparison` (a result with ``per_day``), the posts
    published per day. Gains rather than counts, so hashtags of any size show their growth."""
    from plotly.subplots import make_subplots

    per_day = getattr(result, "per_day", None)
    joiner = " vs " if per_day is not None else ", "
    title = title or f"{joiner.join('#' + h for h in result.hashtags) or 'Hashtags'}: {result.since:%Y-%m-%d} – {result.until:%Y-%m-%d}"
    if result.snapshots.empty and (per_day is None or per_day.empty):
        return _empty(title, "no monitoring snapshots in this period yet")
    rows = ["Views gained since the first snapshot in the period", "Videos gained"] + (
        ["Posts published per day"] if per_day is not None else []
    )
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, subplot_titles=rows, vertical_spacing=0.08)
    colours = list(PALETTE)
    for k, name in enumerate(result.hashtags):
        colour = colours[k % len(colours)]
        snaps = result.snapshots[result.snapshots["hashtag"] == name]
        for row, column in ((1, "view_count"), (2, "video_count")):
            values = snaps[column].astype(float)
            start = values.dropna().iloc[0] if values.notna().any() else float("nan")
            fig.add_scatter(
                x=snaps["collected_at"],
                y=values - start,
                customdata=values,
                mode="lines+markers",
                name=f"#{name}",
                legendgroup=name,
                showlegend=row == 1,
                line={"color": colour},
                row=row,
                col=1,
                hovertemplate=f"#{name} %{{x}}<br>gained %{{y:,.0f}} (count %{{customdata:,.0f}})<extra></extra>",
            )
        if per_day is not None:
            days = per_day[per_day["hashtag"] == name]
            fig.add_bar(
                x=pd.to_datetime(days["day"]),
                y=days["published"].astype(float),
                name=f"#{name}",
                legendgroup=name,
                showlegend=False,
                marker={"color": colour},
                row=3,
                col=1,
            )
    fig.update_layout(title=title, height=260 * len(rows) + 80, barmode="group")
    return fig
