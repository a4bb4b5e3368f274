-- Referral math: each rep's annual new-client goal and how many asks a new client takes.
alter table users
    add column annual_client_goal integer not null default 0 check (annual_client_goal between 0 and 10000),
    add column asks_per_client double precision not null default 4 check (asks_per_client > 0 and asks_per_client <= 1000);

-- Promises kept: promises by owner and due date.
create index follow_ups_promises_idx on follow_ups (owner_id, due_on) where kind = 'promise';
-- Adoption: asks by rep and when they were logged.
create index referral_asks_rep_created_idx on referral_asks (rep_id, created_at);
-- Coaching notes shown on My week: the latest for a rep.
create index coaching_notes_rep_created_idx on coaching_notes (rep_id, created_at desc);

-- The reps a dashboard covers: the viewer's visible reps (all of them for an admin), or one.
create function dashboard_reps(viewer bigint, only_rep bigint) returns setof bigint
language sql stable as $$
    select u.user_id from users u
    where u.user_id in (select visible_user_ids(viewer))
      and u.role = 'rep' and u.deactivated_at is null
      and (only_rep is null or u.user_id = only_rep)
$$;
