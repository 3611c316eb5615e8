"""Networks for Gephi (cotag, author-hashtag, duplicates as GEXF 1.3, GraphML, CSV, read back by
networkx) and every table out as Parquet / CSV with a README of the columns."""

from __future__ import annotations

import csv
import datetime as dt
import io

import networkx as nx
import pyarrow.parquet as pq
import pytest
from test_search_images import add_image
from test_search_text import add_posts

from tiktok_intel.analyses import AnalysisError, networks, tables
from tiktok_intel.cli import main
from tiktok_intel.search import hash_media
from tiktok_intel.search.samples import make_cover, near_duplicate
from tiktok_intel.settings import get_settings

D = dt.datetime(2026, 11, 20, 10)
HOSTILE = 'ev"il<&>\x07x'


@pytest.fixture
def posts(con):
    add_posts(
        con,
        [
            {"post_id": "1", "author": "alice", "views": 100, "created_at": D, "hashtags": ["val2026", "svt"]},
            {
                "post_id": "2",
                "author": "bob",
                "views": 50,
                "created_at": D + dt.timedelta(days=1),
                "hashtags": ["val2026", "svt", "klimat"],
            },
            {"post_id": "3", "author": "alice", "views": 7, "created_at": D + dt.timedelta(days=2), "hashtags": ["klimat", HOSTILE]},
            {"post_id": "4", "author": "carl", "views": 1, "created_at": D - dt.timedelta(days=30), "hashtags": ["val2026", "svt"]},
        ],
    )


def test_cotag_counts_posts_carrying_both_in_the_window(con, posts):
    net = networks.build(con, "cotag")
    edges = {(e["source"], e["target"]): e for e in net.edges.to_dict("records")}
    assert edges[("svt", "val2026")]["weight"] == 3
    assert edges[("svt", "val2026")]["views"] == 151
    assert edges[("klimat", "svt")]["weight"] == 1
    since = networks.build(con, "cotag", since="2026-11-20")
    edges = {(e["source"], e["target"]): e["weight"] for e in since.edges.to_dict("records")}
    assert edges[("svt", "val2026")] == 2  # carl's post of October is out of the window
    nodes = since.nodes.set_index("id")
    assert nodes.loc["val2026", "posts"] == 2 and nodes.loc["val2026", "views"] == 150
    assert nodes.loc["val2026", "first_seen"] == D
    assert networks.build(con, "cotag", min_weight=2).edges["weight"].tolist() == [3]  # only svt–val2026 has two posts or more


def test_gexf_and_graphml_open_in_networkx_with_attributes(con, posts, tmp_path):
    net = networks.build(con, "cotag")
    gexf = tmp_path / "cotag.gexf"
    gexf.write_bytes(networks.to_gexf(net))
    g = nx.read_gexf(gexf, version="1.3")
    assert set(g.nodes) == {"val2026", "svt", "klimat", 'ev"il<&>x'}  # the bell character XML cannot hold is dropped
    assert g.nodes["val2026"]["posts"] == 3 and g.nodes["val2026"]["views"] == 151
    assert g.nodes["val2026"]["label"] == "#val2026"
    assert g.nodes["val2026"]["first_seen"] == (D - dt.timedelta(days=30)).isoformat()
    assert g.edges["svt", "val2026"]["weight"] == 3.0
    graphml = tmp_path / "cotag.graphml"
    graphml.write_bytes(networks.to_graphml(net))
    h = nx.read_graphml(graphml)
    assert h.nodes["svt"]["posts"] == 3 and h.nodes["svt"]["label"] == "#svt"
    assert h.edges["svt", "val2026"]["weight"] == 3.0
    assert h.number_of_edges() == g.number_of_edges() == len(net.edges)


def test_author_hashtag_is_bipartite(con, posts, tmp_path):
    net = networks.build(con, "author-hashtag")
    path = tmp_path / "ah.graphml"
    path.write_bytes(networks.to_graphml(net))
    g = nx.read_graphml(path)
    kinds = nx.get_node_attributes(g, "kind")
    assert all(kinds[a] != kinds[b] for a, b in g.edges)
    assert g.edges["author:id-alice", "hashtag:klimat"]["weight"] == 1.0
    assert g.nodes["author:id-alice"]["posts"] == 2 and g.nodes["author:id-alice"]["views"] == 107
    assert g.nodes["author:id-alice"]["label"] == "@alice"


def test_duplicates_link_accounts_by_image_and_time(con, workspace, tmp_path):
    original = make_cover(1, "Valet 2026")
    add_posts(
        con,
        [
            {"post_id": "1", "author": "alice", "created_at": D},
            {"post_id": "2", "author": "bob", "created_at": D + dt.timedelta(hours=1)},
            {"post_id": "3", "author": "carl", "created_at": D + dt.timedelta(hours=2)},
            {"post_id": "4", "author": "dora", "created_at": D},
        ],
    )
    add_image(con, workspace, "1", original)
    add_image(con, workspace, "2", near_duplicate(original, "jpeg"))
    add_image(con, workspace, "3", near_duplicate(original, "resize"))
    add_image(con, workspace, "4", make_cover(9))
    hash_media(con)
    net = networks.build(con, "duplicates")
    assert set(net.nodes["id"]) == {"id-alice", "id-bob", "id-carl"}
    edge = net.edges.set_index(["source", "target"]).loc[("id-alice", "id-carl")]
    assert edge["weight"] == 1 and edge["time"] == D + dt.timedelta(hours=2) and edge["first_time"] == D
    assert edge["image"] == "covers/1-cover-0.jpg" and edge["image_post"].endswith("/video/1")
    path = tmp_path / "dups.gexf"
    path.write_bytes(networks.to_gexf(net))
    g = nx.read_gexf(path, version="1.3")
    assert g.number_of_edges() == 3 and g.edges["id-alice", "id-bob"]["image"] == "covers/1-cover-0.jpg"
    # since the second post: alice's original is out, bob and carl stay linked
    later = networks.build(con, "duplicates", since=(D + dt.timedelta(minutes=30)).isoformat())
    assert list(zip(later.edges["source"], later.edges["target"])) == [("id-bob", "id-carl")]


def test_csv_edge_list_neutralises_formulas(con):
    add_posts(con, [{"post_id": "1", "author": "a", "hashtags": ["=cmd", "x"]}])
    rows = list(csv.DictReader(io.StringIO(networks.to_csv(networks.build(con, "cotag")).decode("utf-8"))))
    assert rows[0]["source"] == "'=cmd" and rows[0]["target"] == "x" and rows[0]["weight"] == "1"
    assert rows[0]["source_label"] == "#=cmd"


def test_bad_kind_and_empty_store(con):
    with pytest.raises(AnalysisError, match="--kind"):
        networks.build(con, "friends")
    net = networks.build(con, "cotag")
    assert net.nodes.empty and "no nodes" in net.summary()
    assert nx.read_gexf(io.BytesIO(networks.to_gexf(net)), version="1.3").number_of_nodes() == 0


def test_cli_network_to_stdout_and_file(workspace, con, posts, tmp_path, capsysbinary):
    con.close()
    assert (
        main(["--db", get_settings().db_target, "export", "network", "--kind", "cotag", "--format", "gexf", "--since", "2026-11-01"]) == 0
    )
    out, err = capsysbinary.readouterr()
    g = nx.read_gexf(io.BytesIO(out), version="1.3")
    assert g.edges["svt", "val2026"]["weight"] == 2.0
    assert b"cotag network: 4 nodes" in err
    target = tmp_path / "ah.csv"
    assert (
        main(["--db", get_settings().db_target, "export", "network", "--kind", "author-hashtag", "--format", "csv", "-o", str(target)]) == 0
    )
    assert target.read_text().startswith("source,target,weight,source_label,target_label")
    assert main(["--db", get_settings().db_target, "export", "network", "--since", "yesterday-ish"]) == 1
    assert b"is not a date" in capsysbinary.readouterr().err


def test_export_tables_parquet_and_csv_with_readme(workspace, con, posts, tmp_path):
    con.execute("UPDATE posts SET description = '=HYPERLINK(\"x\")' WHERE post_id = '1'")
    result = tables.export_tables(con, tmp_path / "out")
    assert result.tables["posts"] == 4 and "runs" in result.tables and "failed_pages" in result.tables
    posts_back = pq.read_table(tmp_path / "out" / "posts.parquet")
    assert posts_back.num_rows == 4 and str(posts_back.schema.field("views").type) == "int64"
    assert pq.read_table(tmp_path / "out" / "runs.parquet").num_rows == 0
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "## posts" in readme and "| views | BIGINT |" in readme
    assert "| kind | VARCHAR | 'cover' \\| 'frame' |" in readme  # the migration's comment on the column
    tables.export_tables(con, tmp_path / "csv", fmt="csv", tables=["posts", "runs"])
    rows = list(csv.DictReader((tmp_path / "csv" / "posts.csv").open(encoding="utf-8")))
    assert {r["post_id"] for r in rows} == {"1", "2", "3", "4"}
    assert [r["description"] for r in rows if r["post_id"] == "1"] == ['\'=HYPERLINK("x")']
    assert (tmp_path / "csv" / "runs.csv").read_text().startswith("run_id,flow")
    with pytest.raises(tables.ExportError, match="no table nope"):
        tables.export_tables(con, tmp_path / "x", tables=["nope"])


def test_cli_export_tables(workspace, con, posts, tmp_path, capsys):
    con.close()
    assert main(["--db", get_settings().db_target, "export", "tables", "--format", "parquet", str(tmp_path / "dir")]) == 0
    assert "tables" in capsys.readouterr().err
    assert pq.read_table(tmp_path / "dir" / "post_hashtags.parquet").num_rows == 9
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["--db", get_settings().db_target, "export", "tables", str(blocker / "sub")]) == 1
    assert "give a folder you can write" in capsys.readouterr().err
