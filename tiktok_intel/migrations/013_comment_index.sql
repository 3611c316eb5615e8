-- 013: comments in the text search (`search "fejk" --in comments`). The comments have their own
-- tantivy index beside the posts' (<workspace>/search/text-index-comments/, search/text.py);
-- this table is to it what search_index_docs is to the posts' index. Its state (index id, layout,
-- fingerprint) is in search_index_state under names starting 'comments_'.
CREATE TABLE IF NOT EXISTS search_comment_docs (
  comment_id VARCHAR NOT NULL,    -- unique: kept so by the code
  doc_hash UBIGINT NOT NULL,      -- hash of everything indexed for the comment: changed hash = re-index
  indexed_at TIMESTAMP NOT NULL
);
