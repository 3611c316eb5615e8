-- 003: analyses. Trends (one row per entity at its latest snapshot, refreshed incrementally),
-- the log of trend refreshes, and association-rule runs with their rules.
--
-- No PRIMARY KEY constraints, like the ingest tables (DuckLake has none): the code keeps keys
-- unique (each refresh deletes the rows it recomputes before inserting them).
--
-- Trend columns: <metric> is the value at the latest snapshot (collected_at); <metric>_change_<w>
-- is value(t) - value(s), where s is the latest snapshot at or before t - w (w = 1d, 7d, 30d);
-- <metric>_growth_<w> is that change as a percentage of value(s). Both are NULL (never 0) when no
-- snapshot is that old, and the growth is NULL when value(s) is 0. `snapshots` and `collected_at`
-- are what the incremental refresh compares to find entities with new snapshots.
CREATE TABLE IF NOT EXISTS post_trends (
  post_id VARCHAR NOT NULL,
  collected_at TIMESTAMP NOT NULL,
  first_collected_at TIMESTAMP NOT NULL,
  snapshots BIGINT NOT NULL,
  views BIGINT, views_change_1d BIGINT, views_change_7d BIGINT, views_change_30d BIGINT,
  views_growth_1d DOUBLE, views_growth_7d DOUBLE, views_growth_30d DOUBLE,
  likes BIGINT, likes_change_1d BIGINT, likes_change_7d BIGINT, likes_change_30d BIGINT,
  likes_growth_1d DOUBLE, likes_growth_7d DOUBLE, likes_growth_30d DOUBLE,
  comments BIGINT, comments_change_1d BIGINT, comments_change_7d BIGINT, comments_change_30d BIGINT,
  comments_growth_1d DOUBLE, comments_growth_7d DOUBLE, comments_growth_30d DOUBLE,
  shares BIGINT, shares_change_1d BIGINT, shares_change_7d BIGINT, shares_change_30d BIGINT,
  shares_growth_1d DOUBLE, shares_growth_7d DOUBLE, shares_growth_30d DOUBLE,
  refreshed_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS author_trends (
  author_id VARCHAR NOT NULL,
  collected_at TIMESTAMP NOT NULL,
  first_collected_at TIMESTAMP NOT NULL,
  snapshots BIGINT NOT NULL,
  followers BIGINT, followers_change_1d BIGINT, followers_change_7d BIGINT, followers_change_30d BIGINT,
  followers_growth_1d DOUBLE, followers_growth_7d DOUBLE, followers_growth_30d DOUBLE,
  hearts BIGINT, hearts_change_1d BIGINT, hearts_change_7d BIGINT, hearts_change_30d BIGINT,
  hearts_growth_1d DOUBLE, hearts_growth_7d DOUBLE, hearts_growth_30d DOUBLE,
  videos BIGINT, videos_change_1d BIGINT, videos_change_7d BIGINT, videos_change_30d BIGINT,
  videos_growth_1d DOUBLE, videos_growth_7d DOUBLE, videos_growth_30d DOUBLE,
  likes_given BIGINT, likes_given_change_1d BIGINT, likes_given_change_7d BIGINT, likes_given_change_30d BIGINT,
  likes_given_growth_1d DOUBLE, likes_given_growth_7d DOUBLE, likes_given_growth_30d DOUBLE,
  refreshed_at TIMESTAMP NOT NULL
);
-- Hashtags: video_count / view_count from the hashtag's own monitoring snapshots (hashtag_stats);
-- post_views* from the posts collected under it (feed_appearances or post_hashtags): the sum of
-- their post_trends values (post_views_change_<w> sums the posts that have a snapshot that old;
-- NULL when none has); new_posts_<w>: posts published in the window ending at collected_at.
-- The signature columns (stat_snapshots, posts, post_snapshots) drive the incremental refresh.
CREATE TABLE IF NOT EXISTS hashtag_trends (
  hashtag VARCHAR NOT NULL,
  collected_at TIMESTAMP NOT NULL,
  stat_snapshots BIGINT NOT NULL,
  stats_collected_at TIMESTAMP,
  posts BIGINT NOT NULL,
  post_snapshots BIGINT NOT NULL,
  posts_collected_at TIMESTAMP,
  video_count BIGINT, video_count_change_1d BIGINT, video_count_change_7d BIGINT, video_count_change_30d BIGINT,
  video_count_growth_1d DOUBLE, video_count_growth_7d DOUBLE, video_count_growth_30d DOUBLE,
  view_count BIGINT, view_count_change_1d BIGINT, view_count_change_7d BIGINT, view_count_change_30d BIGINT,
  view_count_growth_1d DOUBLE, view_count_growth_7d DOUBLE, view_count_growth_30d DOUBLE,
  post_views BIGINT, post_views_change_1d BIGINT, post_views_change_7d BIGINT, post_views_change_30d BIGINT,
  post_views_growth_1d DOUBLE, post_views_growth_7d DOUBLE, post_views_growth_30d DOUBLE,
  new_posts_1d BIGINT, new_posts_7d BIGINT, new_posts_30d BIGINT,
  refreshed_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS trend_refreshes (
  kind VARCHAR NOT NULL,          -- posts | authors | hashtags
  refreshed_at TIMESTAMP NOT NULL,
  mode VARCHAR NOT NULL,          -- full | incremental
  recomputed BIGINT NOT NULL,     -- entities recomputed
  removed BIGINT NOT NULL,        -- entities whose snapshots are gone
  total BIGINT NOT NULL,          -- rows in the trends table afterwards
  seconds DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS rule_runs (
  run_id VARCHAR NOT NULL,
  ran_at TIMESTAMP NOT NULL,
  window_days INTEGER NOT NULL,   -- 0: all posts
  window_start TIMESTAMP,         -- NULL when window_days = 0
  window_end TIMESTAMP NOT NULL,
  posts BIGINT NOT NULL,          -- transactions: posts collected in the window
  min_support DOUBLE NOT NULL,    -- as a fraction of posts
  min_support_count BIGINT NOT NULL,
  min_confidence DOUBLE NOT NULL,
  max_len INTEGER,
  excluded_consequents VARCHAR[],
  rules BIGINT NOT NULL,
  seconds DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS rules (
  run_id VARCHAR NOT NULL,
  rule_no INTEGER NOT NULL,
  antecedents VARCHAR[] NOT NULL,
  consequents VARCHAR[] NOT NULL,
  antecedent_support DOUBLE NOT NULL,
  consequent_support DOUBLE NOT NULL,
  support DOUBLE NOT NULL,
  confidence DOUBLE NOT NULL,
  lift DOUBLE NOT NULL,
  leverage DOUBLE,
  conviction DOUBLE,
  post_count BIGINT NOT NULL
);
