"""Download buttons for the networks behind a page (GEXF for Gephi, GraphML, a CSV edge list):
the Related hashtags page offers the co-tag network, the Search page the near-duplicates one."""

from __future__ import annotations

from ..analyses import networks
from ..texts import number, t
from . import data, ui


def summary(net: networks.Network) -> str:
    """What the network holds, in the page's language (the CLI says it with ``Network.summary``)."""
    window = t("network_window", since=net.since or "…", until=net.until or "…") if net.since or net.until else ""
    if net.nodes.empty:
        return t("network_no_nodes", kind=net.kind, window=window)
    return t("network_counts", kind=net.kind, nodes=number(len(net.nodes)), edges=number(len(net.edges)), window=window)


def network_links(net: networks.Network) -> str:
    """The three download links of ``net`` (HTML), or a note when it has no edges."""
    if net.edges.empty:
        return f"<p class='ti-network-none' style='font-size:12px;color:#555'>{ui.esc(t('no_network', summary=summary(net)))}</p>"
    links = "".join(
        ui.download_link(networks.encode(net, fmt), networks.filename(net, fmt), networks.MIME[fmt], t(label))
        for fmt, label in (("gexf", "network_gephi"), ("graphml", "network_graphml"), ("csv", "network_csv"))
    )
    return f"<div class='ti-network-downloads'>{links}<span style='font-size:12px;color:#555'>{ui.esc(summary(net))}</span></div>"


def network_downloads(kind: str, db: str | None = None, **kwargs):
    """A button that builds the ``kind`` network of the panel's workspace and its download links
    when clicked: over the whole store it is seconds and megabytes (2.3 s and 10.7 MB of links for
    the co-tag network of 1,000,000 posts), which no page view should pay for unasked."""
    return ui.on_demand(
        lambda: network_links(data.read(networks.build, kind, db=db, **kwargs)), label=t("network_prepare"), css_class="ti-network"
    )
