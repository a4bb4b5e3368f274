-- Dashboard queries scoped to a handful of reps.
-- Overdue follow-ups by owner (the overdue-by-age table).
create index follow_ups_overdue_owner_idx on follow_ups (owner_id, due_on)
    where done_at is null and overdue_since is not null;
-- Wins by rep and date (referral math: clients won this year).
create index referral_asks_won_idx on referral_asks (rep_id, asked_on) where stage = 'won';
