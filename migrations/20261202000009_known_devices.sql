-- Browsers that have logged in to an account before, by the hash of a long-lived cookie. A
-- known device is exempt from the per-account ceiling on failed logins, so an attacker who
-- fails from many addresses cannot lock the real user out.
create table known_devices (
    device_hash   bytea not null,
    user_id       bigint not null references users (user_id) on delete cascade,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz not null default now(),
    primary key (device_hash, user_id)
);
create index known_devices_user_idx on known_devices (user_id);

-- The per-account ceiling counts failures over an hour, from any address.
create index login_failures_at_idx on login_failures (at);
