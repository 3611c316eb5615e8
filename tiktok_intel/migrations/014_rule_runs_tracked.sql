-- 014: association rules mined over the posts of one tracked item (`rules --hashtag @svtnyheter`,
-- `--keyword vattenbrist`, `--hashtag klimat`): the run says whose posts it mined, as a filter names
-- the item (conventions.tracked_label: #klimat, @svtnyheter, "vattenbrist"); NULL: all posts. The
-- latest run over all posts stays the one the Related hashtags dashboard, briefs and alerts read.
ALTER TABLE rule_runs ADD COLUMN tracked VARCHAR;
