-- The overdue sweeper and notifications.

-- Open follow-ups not yet flagged, by due date: the flagging pass reads only this, so a
-- sweep with nothing new to do costs an index probe.
create index follow_ups_unflagged_due_idx on follow_ups (due_on, follow_up_id)
    where done_at is null and overdue_since is null;
-- The escalation pass walks overdue follow-ups in order, by keyset.
drop index follow_ups_unescalated_idx;
create index follow_ups_unescalated_idx on follow_ups (overdue_since, follow_up_id)
    where done_at is null and overdue_since is not null and escalated_at is null;

-- The daily digest e-mail: sent at most once a day per user, never during their quiet hours
-- (local hours; a window may wrap past midnight, e.g. 20 to 7).
alter table users
    add column quiet_hours_start smallint not null default 20 check (quiet_hours_start between 0 and 23),
    add column quiet_hours_end smallint not null default 7 check (quiet_hours_end between 0 and 23),
    add column last_digest_on date;

-- Flagged follow-ups whose due date may have moved past today (postponed), and flagged ones
-- done without clearing the flag: the clearing pass reads only these.
create index follow_ups_flagged_due_idx on follow_ups (due_on)
    where overdue_since is not null and done_at is null;
create index follow_ups_flagged_done_idx on follow_ups (follow_up_id)
    where overdue_since is not null and done_at is not null;
