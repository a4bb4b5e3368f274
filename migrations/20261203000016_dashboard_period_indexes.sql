-- A dashboard over many reps (an admin's whole organisation) reads a few days and weeks of
-- rollups for every rep. The primary keys lead with the rep, so that read probed each rep's
-- range apart; by date first, it reads one narrow range of the index. Dashboards over a few
-- reps keep using the primary keys.
create index ask_rollups_period_idx on ask_rollups (asked_on, rep_id);
create index ask_week_rollups_period_idx on ask_week_rollups (week, rep_id);
