-- Accounts: ending a user's sessions, login throttling, and the visibility helper.

-- Bumped to end every session of a user at once (password change, deactivation, "sign out
-- everywhere else"): a session stamped with an older epoch is no longer accepted.
alter table users add column session_epoch integer not null default 0;

-- Failed logins, for throttling by account and by client address.
create table login_failures (
    login_failure_id  bigint generated always as identity primary key,
    email             text not null,
    client_addr       text not null,
    at                timestamptz not null default now()
);
create index login_failures_email_idx on login_failures (lower(email), at);
create index login_failures_addr_idx on login_failures (client_addr, at);

-- The users a viewer may see: themselves; for a manager, everyone below them in the
-- reports-to tree, recursively; for an admin, everyone. Every scoped query goes through it.
create function visible_user_ids(viewer bigint) returns setof bigint
language sql stable as $$
    with recursive tree (user_id) as (
        select user_id from users where user_id = viewer and deactivated_at is null
        union
        select u.user_id
        from users u
        join tree t on u.manager_id = t.user_id
        where exists (select 1 from users v where v.user_id = viewer and v.role in ('manager', 'admin'))
    )
    select user_id from users
    where exists (select 1 from users v where v.user_id = viewer and v.role = 'admin'
                  and v.deactivated_at is null)
    union
    select user_id from tree
$$;
