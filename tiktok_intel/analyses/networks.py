"""Networks behind the data, for Gephi and friends: ``cotag`` (hashtags that appear on the same
posts, counted in a window), ``author-hashtag`` (accounts and the hashtags they use, bipartite) and
``duplicates`` (accounts linked by posting near-identical images, the image and time on the edge).

:func:`build` returns a :class:`Network` (a nodes and an edges frame); :func:`to_gexf` (GEXF 1.3),
:func:`to_graphml` and :func:`to_csv` turn it into file bytes. The XML is written here, escaped:
text from TikTok is untrusted, so every value is escaped and characters XML 1.0 cannot hold
(control characters, lone surrogates) are dropped; secrets are removed like in every export.
Node attributes: ``kind``, ``posts``, ``views``, ``first_seen`` (ISO time, UTC); edges carry
``weight`` (posts, or shared images for duplicates) and their own attributes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import duckdb
import pandas as pd

from .. import clock
from ..conventions import author_sql, published_sql
from ..raw import redact
from . import AnalysisError, choose, time_clause, time_range
from .exports import _secrets, frame_for_export

KINDS = ("cotag", "author-hashtag", "duplicates")
FORMATS = ("gexf", "graphml", "csv")
MIME = {"gexf": "application/gexf+xml", "graphml": "application/graphml+xml", "csv": "text/csv"}

#: Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclasses.dataclass
class Network:
    """A graph as two frames: ``nodes`` (``id``, ``label``, then attributes) and ``edges``
    (``source``, ``target``, ``weight``, then attributes)."""

    kind: str
    nodes: pd.DataFrame
    edges: pd.DataFrame
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    directed: bool = False

    def summary(self) -> str:
        window = ""
        if self.since or self.until:
            window = f", posts published {self.since or '…'} – {self.until or '…'}"
        if self.nodes.empty:
            return f"{self.kind} network: no nodes{window} (collect posts first, or widen --since)"
        return f"{self.kind} network: {len(self.nodes):,} nodes, {len(self.edges):,} edges{window}"


# ------------------------------------------------------------------------------------ building


def _window(since: Any, until: Any, params: list[Any], column: str) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    lo, hi = time_range(since, until)
    return time_clause(column, lo, hi, params), lo, hi


def _iso(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat()
    return str(value)


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def cotag(con: duckdb.DuckDBPyConnection, *, since: Any = None, until: Any = None, min_weight: int = 1) -> Network:
    """Hashtags as nodes (posts carrying them, their views, first seen), linked by the number of
    posts published in the window that carry both (``weight``) and those posts' views."""
    params: list[Any] = []
    where, lo, hi = _window(since, until, params, published_sql("p"))
    tagged = f"""
        SELECT DISTINCT ph.post_id, ph.hashtag, coalesce(p.views, 0) AS views, {published_sql("p")} AS published
        FROM post_hashtags ph JOIN posts p ON p.post_id = ph.post_id
        WHERE ph.hashtag IS NOT NULL {where}
    """
    nodes = con.execute(
        f"""WITH t AS ({tagged})
        SELECT hashtag AS id, '#' || hashtag AS label, 'hashtag' AS kind, count(*) AS posts, sum(views)::BIGINT AS views,
               min(published) AS first_seen
        FROM t GROUP BY hashtag ORDER BY posts DESC, hashtag""",
        params,
    ).fetchall()
    edges = con.execute(
        f"""WITH t AS ({tagged})
        SELECT a.hashtag AS source, b.hashtag AS target, count(*) AS weight, sum(a.views)::BIGINT AS views,
               min(a.published) AS first_seen
        FROM t a JOIN t b ON a.post_id = b.post_id AND a.hashtag < b.hashtag
        GROUP BY 1, 2 HAVING count(*) >= ? ORDER BY weight DESC, source, target""",
        [*params, int(min_weight)],
    ).fetchall()
    return Network(
        "cotag",
        _frame(nodes, ["id", "label", "kind", "posts", "views", "first_seen"]),
        _frame(edges, ["source", "target", "weight", "views", "first_seen"]),
        lo,
        hi,
    )


def author_hashtag(con: duckdb.DuckDBPyConnection, *, since: Any = None, until: Any = None, min_weight: int = 1) -> Network:
    """A bipartite graph: accounts (``@name``) and hashtags (``#name``), an edge where the account
    used the hashtag in the window, weighted by the number of its posts that did."""
    params: list[Any] = []
    where, lo, hi = _window(since, until, params, published_sql("p"))
    base = f"""
        SELECT DISTINCT p.post_id, coalesce(p.author_id, '@' || p.author_unique_id) AS author_id,
               {author_sql("p", "a")} AS author, coalesce(p.views, 0) AS views, {published_sql("p")} AS published
        FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id
        WHERE coalesce(p.author_id, p.author_unique_id) IS NOT NULL {where}
    """
    authors = con.execute(
        f"""WITH b AS ({base})
        SELECT 'author:' || author_id AS id, '@' || coalesce(any_value(author), author_id) AS label, 'author' AS kind,
               count(*) AS posts, sum(views)::BIGINT AS views, min(published) AS first_seen
        FROM b GROUP BY author_id""",
        params,
    ).fetchall()
    hashtags = con.execute(
        f"""WITH b AS ({base})
        SELECT 'hashtag:' || ph.hashtag AS id, '#' || ph.hashtag AS label, 'hashtag' AS kind,
               count(DISTINCT b.post_id) AS posts, sum(b.views)::BIGINT AS views, min(b.published) AS first_seen
        FROM b JOIN post_hashtags ph ON ph.post_id = b.post_id GROUP BY ph.hashtag""",
        params,
    ).fetchall()
    edges = con.execute(
        f"""WITH b AS ({base})
        SELECT 'author:' || b.author_id AS source, 'hashtag:' || ph.hashtag AS target, count(DISTINCT b.post_id) AS weight,
               sum(b.views)::BIGINT AS views, min(b.published) AS first_seen
        FROM b JOIN post_hashtags ph ON ph.post_id = b.post_id
        GROUP BY 1, 2 HAVING count(DISTINCT b.post_id) >= ? ORDER BY weight DESC, source, target""",
        [*params, int(min_weight)],
    ).fetchall()
    columns = ["id", "label", "kind", "posts", "views", "first_seen"]
    nodes = _frame(sorted(authors, key=lambda r: (-r[3], r[0])) + sorted(hashtags, key=lambda r: (-r[3], r[0])), columns)
    used = set(pd.DataFrame(edges, columns=["source", "target", "weight", "views", "first_seen"])[["source", "target"]].stack())
    nodes = nodes[nodes["id"].isin(used)].reset_index(drop=True) if edges else nodes.iloc[0:0]
    return Network("author-hashtag", nodes, _frame(edges, ["source", "target", "weight", "views", "first_seen"]), lo, hi)


def duplicates(
    con: duckdb.DuckDBPyConnection, *, since: Any = None, until: Any = None, max_distance: int | None = None, min_accounts: int = 2
) -> Network:
    """Accounts linked by posting near-identical images (:func:`tiktok_intel.search.find_duplicates`):
    one edge per pair of accounts, ``weight`` the number of image groups they share; ``image`` is
    the stored image (media path) of the earliest shared group, ``image_post`` its first post's
    link, ``time`` when the later of the two posted it, ``first_time`` the earlier one."""
    from ..search import find_duplicates
    from ..search.images import DEFAULT_DUPLICATE_DISTANCE

    lo, hi = time_range(since, until)
    groups = find_duplicates(con, max_distance=DEFAULT_DUPLICATE_DISTANCE if max_distance is None else max_distance, min_accounts=2)
    post_rows = con.execute(
        f"""SELECT p.post_id, coalesce(p.author_id, '@' || p.author_unique_id, 'post:' || p.post_id), {author_sql("p", "a")},
                   coalesce(p.views, 0), {published_sql("p")},
                   (SELECT min(m.path) FROM media m WHERE m.post_id = p.post_id AND m.kind = 'cover')
            FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id"""
    ).fetchall()
    info = {r[0]: r for r in post_rows}
    accounts: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for group in groups:
        members = []
        for p in group.posts:
            row = info.get(p.post_id)
            if row is None:
                continue
            when = row[4]
            if (lo and (when is None or when < lo)) or (hi and (when is None or when > hi)):
                continue
            members.append((p, row))
        if len({row[1] for _, row in members}) < max(2, int(min_accounts)):
            continue
        lead_post, lead = members[0]
        image = lead[5] or ""
        first_by_account: dict[str, tuple] = {}
        for p, row in members:
            node = accounts.setdefault(row[1], {"label": "@" + (row[2] or row[1]), "posts": set(), "views": 0, "first_seen": None})
            if p.post_id not in node["posts"]:
                node["posts"].add(p.post_id)
                node["views"] += int(row[3] or 0)
            if row[4] is not None and (node["first_seen"] is None or row[4] < node["first_seen"]):
                node["first_seen"] = row[4]
            if row[1] not in first_by_account or (row[4] or dt.datetime.max) < (first_by_account[row[1]][4] or dt.datetime.max):
                first_by_account[row[1]] = row
        ids = sorted(first_by_account)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                times = sorted(t for t in (first_by_account[a][4], first_by_account[b][4]) if t is not None)
                edge = edges.get((a, b))
                if edge is None:
                    edges[(a, b)] = {
                        "weight": 1,
                        "image": image,
                        "image_post": lead_post.url,
                        "time": times[-1] if times else None,
                        "first_time": times[0] if times else None,
                    }
                else:
                    edge["weight"] += 1
    nodes = pd.DataFrame(
        [
            {"id": k, "label": v["label"], "kind": "author", "posts": len(v["posts"]), "views": v["views"], "first_seen": v["first_seen"]}
            for k, v in sorted(accounts.items(), key=lambda kv: (-len(kv[1]["posts"]), kv[0]))
        ],
        columns=["id", "label", "kind", "posts", "views", "first_seen"],
    )
    edge_frame = pd.DataFrame(
        [{"source": a, "target": b, **v} for (a, b), v in sorted(edges.items(), key=lambda kv: (-kv[1]["weight"], kv[0]))],
        columns=["source", "target", "weight", "image", "image_post", "time", "first_time"],
    )
    return Network("duplicates", nodes, edge_frame, lo, hi)


def build(con: duckdb.DuckDBPyConnection, kind: str, *, since: Any = None, until: Any = None, min_weight: int = 1) -> Network:
    """The ``kind`` network (one of :data:`KINDS`) of the posts published from ``since`` to ``until``."""
    kind = choose(kind, KINDS, "network kind", "--kind")
    if int(min_weight) < 1:
        raise AnalysisError(f"--min-weight must be at least 1 (got {min_weight})")
    if kind == "cotag":
        return cotag(con, since=since, until=until, min_weight=min_weight)
    if kind == "author-hashtag":
        return author_hashtag(con, since=since, until=until, min_weight=min_weight)
    net = duplicates(con, since=since, until=until)
    if int(min_weight) > 1:
        net.edges = net.edges[net.edges["weight"] >= int(min_weight)].reset_index(drop=True)
    return net


# ------------------------------------------------------------------------------------ writing


def _clean(value: Any, secrets: list[str]) -> str:
    text = _iso(value) if isinstance(value, (dt.datetime, pd.Timestamp)) else str(value)
    return _NOT_XML.sub("", redact(text, secrets))


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _types(frame: pd.DataFrame, skip: tuple[str, ...]) -> list[tuple[str, str]]:
    """(column, kind) for the attribute columns: ``long``, ``double`` or ``string`` (times as ISO text)."""
    out = []
    for column in frame.columns:
        if column in skip:
            continue
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            kind = "boolean"
        elif pd.api.types.is_integer_dtype(dtype):
            kind = "long"
        elif pd.api.types.is_float_dtype(dtype):
            kind = "double"
        else:
            kind = "string"
        out.append((column, kind))
    return out


def _value(value: Any, kind: str, secrets: list[str]) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "long":
        return str(int(value))
    if kind == "double":
        return repr(float(value))
    return _clean(value, secrets)


def to_gexf(net: Network) -> bytes:
    """The network as GEXF 1.3 (Gephi's own format)."""
    secrets = _secrets()
    node_attrs = _types(net.nodes, ("id", "label"))
    edge_attrs = _types(net.edges, ("source", "target", "weight"))
    q = lambda v: quoteattr(_clean(v, secrets))  # noqa: E731
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">',
        f'  <meta lastmodifieddate="{clock.now().date().isoformat()}"><creator>tiktok-intel</creator>'
        f"<description>{escape(_clean(net.summary(), secrets))}</description></meta>",
        f'  <graph mode="static" defaultedgetype="{"directed" if net.directed else "undirected"}">',
        '    <attributes class="node">',
        *(f'      <attribute id="n{i}" title={q(name)} type="{kind}"/>' for i, (name, kind) in enumerate(node_attrs)),
        "    </attributes>",
        '    <attributes class="edge">',
        *(f'      <attribute id="e{i}" title={q(name)} type="{kind}"/>' for i, (name, kind) in enumerate(edge_attrs)),
        "    </attributes>",
        "    <nodes>",
    ]
    for row in net.nodes.to_dict("records"):
        values = "".join(
            f'<attvalue for="n{i}" value={quoteattr(_value(row[name], kind, secrets))}/>'
            for i, (name, kind) in enumerate(node_attrs)
            if not _missing(row[name])
        )
        out.append(f"      <node id={q(row['id'])} label={q(row['label'])}><attvalues>{values}</attvalues></node>")
    out.append("    </nodes>")
    out.append("    <edges>")
    for n, row in enumerate(net.edges.to_dict("records")):
        values = "".join(
            f'<attvalue for="e{i}" value={quoteattr(_value(row[name], kind, secrets))}/>'
            for i, (name, kind) in enumerate(edge_attrs)
            if not _missing(row[name])
        )
        out.append(
            f'      <edge id="{n}" source={q(row["source"])} target={q(row["target"])} weight="{float(row["weight"])!r}">'
            f"<attvalues>{values}</attvalues></edge>"
        )
    out += ["    </edges>", "  </graph>", "</gexf>", ""]
    return "\n".join(out).encode("utf-8")


def to_graphml(net: Network) -> bytes:
    """The network as GraphML (Gephi, Cytoscape, yEd, networkx, igraph)."""
    secrets = _secrets()
    node_attrs = [("label", "string"), *_types(net.nodes, ("id", "label"))]
    edge_attrs = [("weight", "double"), *_types(net.edges, ("source", "target", "weight"))]
    q = lambda v: quoteattr(_clean(v, secrets))  # noqa: E731
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">',
        *(f'  <key id="n{i}" for="node" attr.name={q(name)} attr.type="{kind}"/>' for i, (name, kind) in enumerate(node_attrs)),
        *(f'  <key id="e{i}" for="edge" attr.name={q(name)} attr.type="{kind}"/>' for i, (name, kind) in enumerate(edge_attrs)),
        f'  <graph id={q(net.kind)} edgedefault="{"directed" if net.directed else "undirected"}">',
    ]
    for row in net.nodes.to_dict("records"):
        values = "".join(
            f'<data key="n{i}">{escape(_value(row[name], kind, secrets))}</data>'
            for i, (name, kind) in enumerate(node_attrs)
            if not _missing(row[name])
        )
        out.append(f"    <node id={q(row['id'])}>{values}</node>")
    for row in net.edges.to_dict("records"):
        values = "".join(
            f'<data key="e{i}">{escape(_value(row[name], kind, secrets))}</data>'
            for i, (name, kind) in enumerate(edge_attrs)
            if not _missing(row[name])
        )
        out.append(f"    <edge source={q(row['source'])} target={q(row['target'])}>{values}</edge>")
    out += ["  </graph>", "</graphml>", ""]
    return "\n".join(out).encode("utf-8")


def to_csv(net: Network) -> bytes:
    """The edge list as CSV (``source, target, weight``, the two labels, then the edge attributes),
    formulas neutralised, UTF-8 without a BOM (Gephi's spreadsheet import reads it as is)."""
    labels = dict(zip(net.nodes["id"], net.nodes["label"]))
    edges = net.edges.copy()
    edges.insert(3, "source_label", [labels.get(s, s) for s in edges["source"]])
    edges.insert(4, "target_label", [labels.get(t, t) for t in edges["target"]])
    for column in edges.columns:
        if edges[column].dtype == object:
            edges[column] = [_iso(v) if isinstance(v, (dt.datetime, pd.Timestamp)) else v for v in edges[column]]
    return frame_for_export(edges).to_csv(index=False).encode("utf-8")


WRITERS = {"gexf": to_gexf, "graphml": to_graphml, "csv": to_csv}


def encode(net: Network, fmt: str) -> bytes:
    """The network as file bytes in ``fmt`` (one of :data:`FORMATS`)."""
    return WRITERS[choose(fmt, FORMATS, "network format", "--format")](net)


def filename(net: Network, fmt: str) -> str:
    return f"{net.kind}-network.{fmt}"
