-- The dashboard counts overdue follow-ups, promises and strong clients, and sums the rollups,
-- with index-only scans: they skip the table only on pages the visibility map marks
-- all-visible. Every update clears that mark on its page (the sweeper flagging and escalating
-- follow-ups, reps completing them, the fold updating rollups), and by default autovacuum
-- restores it only after a fifth of a table has changed: on a team's follow-ups that is months,
-- during which the overdue counts read every row's page (after one sweep over a seeded
-- million, 37 ms instead of 2.5). These tables are vacuumed after a fixed number of changed
-- rows instead, whatever their size; a vacuum reads only the pages changed since the last one.
-- Contacts keep the default: they change with every ask (the fold brings their last touch and
-- ask dates current), and each vacuum of theirs reads three trigram indexes whole, which a
-- fixed count would repeat every minute of a busy hour.
alter table follow_ups set (autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_scale_factor = 0);
alter table ask_rollups set (autovacuum_vacuum_threshold = 500, autovacuum_vacuum_scale_factor = 0);
alter table ask_week_rollups set (autovacuum_vacuum_threshold = 500, autovacuum_vacuum_scale_factor = 0);
alter table ask_late_rollups set (autovacuum_vacuum_threshold = 500, autovacuum_vacuum_scale_factor = 0);
