"""Download buttons for the networks behind a page (GEXF for Gephi, GraphML, a CSV edge list):
the Related hashtags page offers the co-tag network, the Search page the near-duplicates one."""

from __future__ import annotations

from ..analyses import networks
from . import data, ui


def network_links(net: networks.Network) -> str:
    """The three download links of ``net`` (HTML), or a note when it has no edges."""
    if net.edges.empty:
        return f"<p class='ti-network-none' style='font-size:12px;color:#555'>{ui.esc(net.summary())}: no network to download.</p>"
    links = "".join(
        ui.download_link(networks.encode(net, fmt), networks.filename(net, fmt), networks.MIME[fmt], label)
        for fmt, label in (("gexf", "Network for Gephi (GEXF)"), ("graphml", "GraphML"), ("csv", "Edge list (CSV)"))
    )
    return f"<div class='ti-network-downloads'>{links}<span style='font-size:12px;color:#555'>{ui.esc(net.summary())}</span></div>"


def network_downloads(kind: str, db: str | None = None, **kwargs):
    """A widget with the download links of the ``kind`` network of the panel's workspace."""
    import ipywidgets as w

    net = data.read(networks.build, kind, db=db, **kwargs)
    return w.HTML(network_links(net))
