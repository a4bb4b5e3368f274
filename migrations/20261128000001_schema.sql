-- Warmline's schema: the whole domain of DESIGN.md. Later migrations add columns; they should
-- not need to reshape these tables.

create extension if not exists pg_trgm;

-- One trigger helper keeps updated_at current on every table that has it.
create function set_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create function manage_updated_at(tbl regclass) returns void language plpgsql as $$
begin
    execute format(
        'create trigger set_updated_at before update on %s
         for each row when (old is distinct from new) execute function set_updated_at()', tbl);
end
$$;

create table users (
    user_id            bigint generated always as identity primary key,
    email              text not null check (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(email) <= 254),
    name               text not null check (length(btrim(name)) between 1 and 200),
    role               text not null default 'rep' check (role in ('rep', 'manager', 'admin')),
    manager_id         bigint references users (user_id) on delete set null check (manager_id <> user_id),
    time_zone          text not null default 'UTC' check (length(time_zone) between 1 and 64),
    weekly_ask_target  integer not null default 5 check (weekly_ask_target between 0 and 1000),
    password_hash      text not null,
    deactivated_at     timestamptz,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));
create index users_manager_id_idx on users (manager_id);
select manage_updated_at('users');

create table contacts (
    contact_id          bigint generated always as identity primary key,
    owner_id            bigint not null references users (user_id),
    name                text not null check (length(btrim(name)) between 1 and 200),
    email               text check (email ~ '^[^@\s]+@[^@\s]+$' and length(email) <= 254),
    phone               text check (length(phone) <= 50),
    company             text check (length(company) <= 200),
    title               text check (length(title) <= 200),
    linkedin_url        text check (linkedin_url ~* '^https?://' and length(linkedin_url) <= 500),
    kind                text not null default 'other'
                        check (kind in ('client', 'referral_source', 'prospect', 'partner', 'other')),
    strength            smallint not null default 3 check (strength between 1 and 5),
    touch_cadence_days  integer check (touch_cadence_days between 1 and 3650),
    last_touch_at       timestamptz,
    notes               text not null default '' check (length(notes) <= 20000),
    archived_at         timestamptz,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);
-- De-duplication on import: one contact per e-mail and per LinkedIn URL within an owner's network.
create unique index contacts_owner_email_key on contacts (owner_id, lower(email)) where email is not null;
create unique index contacts_owner_linkedin_key on contacts (owner_id, lower(linkedin_url)) where linkedin_url is not null;
-- Keyset pagination by name within an owner's list.
create index contacts_owner_name_idx on contacts (owner_id, lower(name), contact_id);
create index contacts_owner_last_touch_idx on contacts (owner_id, last_touch_at);
-- Search by partial or misspelled name, company or e-mail.
create index contacts_name_trgm_idx on contacts using gin (lower(name) gin_trgm_ops);
create index contacts_company_trgm_idx on contacts using gin (lower(company) gin_trgm_ops);
create index contacts_email_trgm_idx on contacts using gin (lower(email) gin_trgm_ops);
select manage_updated_at('contacts');

-- "knows" edges between two contacts; one edge per unordered pair.
create table relationships (
    relationship_id  bigint generated always as identity primary key,
    owner_id         bigint not null references users (user_id),
    from_contact_id  bigint not null references contacts (contact_id) on delete cascade,
    to_contact_id    bigint not null references contacts (contact_id) on delete cascade,
    kind             text not null default 'knows'
                     check (kind in ('knows', 'colleague', 'friend', 'family', 'client_of', 'worked_with', 'other')),
    strength         smallint not null default 3 check (strength between 1 and 5),
    notes            text not null default '' check (length(notes) <= 2000),
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    check (from_contact_id <> to_contact_id)
);
create unique index relationships_pair_key
    on relationships (least(from_contact_id, to_contact_id), greatest(from_contact_id, to_contact_id));
create index relationships_from_idx on relationships (from_contact_id);
create index relationships_to_idx on relationships (to_contact_id);
select manage_updated_at('relationships');

create table referral_asks (
    ask_id              bigint generated always as identity primary key,
    rep_id              bigint not null references users (user_id),
    source_contact_id   bigint not null references contacts (contact_id),
    target_contact_id   bigint references contacts (contact_id),
    target_description  text check (length(target_description) <= 1000),
    reason              text not null default '' check (length(reason) <= 4000),
    channel             text not null default 'in_person'
                        check (channel in ('in_person', 'phone', 'email', 'video', 'linkedin', 'text', 'other')),
    asked_on            date not null,
    stage               text not null default 'asked'
                        check (stage in ('asked', 'promised_intro', 'introduced', 'meeting_scheduled',
                                         'meeting_held', 'won', 'lost', 'declined', 'no_one_in_mind', 'expired')),
    amount_won_cents    bigint check (amount_won_cents >= 0),
    closed_at           timestamptz,
    -- A double-submitted form carries the same submission id and creates one ask.
    submission_id       uuid unique,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    check (target_contact_id is not null or length(btrim(target_description)) > 0),
    check ((stage in ('won', 'lost', 'declined', 'no_one_in_mind', 'expired')) = (closed_at is not null)),
    check (stage <> 'won' or amount_won_cents is not null)
);
create index referral_asks_rep_asked_idx on referral_asks (rep_id, asked_on desc, ask_id desc);
create index referral_asks_source_idx on referral_asks (source_contact_id, asked_on);
create index referral_asks_target_idx on referral_asks (target_contact_id) where target_contact_id is not null;
create index referral_asks_asked_on_idx on referral_asks (asked_on);
select manage_updated_at('referral_asks');

-- Append-only history of an ask; the ask's stage is its latest stage event.
create table ask_events (
    event_id      bigint generated always as identity primary key,
    ask_id        bigint not null references referral_asks (ask_id) on delete cascade,
    kind          text not null
                  check (kind in ('promised_intro', 'introduced', 'meeting_scheduled', 'meeting_held', 'won',
                                  'lost', 'declined', 'no_one_in_mind', 'expired', 'source_thanked',
                                  'source_updated', 'note')),
    actor_id      bigint not null references users (user_id),
    occurred_on   date not null,
    amount_cents  bigint check (amount_cents >= 0),
    note          text not null default '' check (length(note) <= 4000),
    created_at    timestamptz not null default now()
);
create index ask_events_ask_idx on ask_events (ask_id, occurred_on, event_id);
create index ask_events_kind_idx on ask_events (kind, occurred_on);

create function forbid_update() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only', tg_table_name;
end
$$;
create trigger ask_events_append_only before update on ask_events
    for each row execute function forbid_update();

create table coaching_notes (
    coaching_note_id  bigint generated always as identity primary key,
    manager_id        bigint not null references users (user_id),
    rep_id            bigint not null references users (user_id),
    week_of           date not null,
    diagnosis         text not null check (length(btrim(diagnosis)) between 1 and 4000),
    committed_action  text not null check (length(btrim(committed_action)) between 1 and 1000),
    metric            text not null check (length(btrim(metric)) between 1 and 300),
    inspect_on        date not null,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);
create index coaching_notes_rep_idx on coaching_notes (rep_id, week_of desc);
select manage_updated_at('coaching_notes');

-- Everything a rep owes, in one table.
create table follow_ups (
    follow_up_id      bigint generated always as identity primary key,
    owner_id          bigint not null references users (user_id),
    kind              text not null
                      check (kind in ('ask_follow_up', 'thank_source', 'update_source', 'contact_prospect',
                                      'report_outcome', 'promise', 'coaching', 'stay_in_touch', 'other')),
    title             text not null check (length(btrim(title)) between 1 and 300),
    ask_id            bigint references referral_asks (ask_id) on delete cascade,
    contact_id        bigint references contacts (contact_id) on delete cascade,
    coaching_note_id  bigint references coaching_notes (coaching_note_id) on delete cascade,
    due_on            date not null,
    done_at           timestamptz,
    overdue_since     timestamptz,
    escalated_at      timestamptz,
    created_by        bigint references users (user_id),
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    check (escalated_at is null or overdue_since is not null)
);
-- Open follow-ups by due date: the sweeper's and every "what do I owe" list's index.
create index follow_ups_open_due_idx on follow_ups (due_on, follow_up_id) where done_at is null;
create index follow_ups_owner_open_idx on follow_ups (owner_id, due_on) where done_at is null;
-- Overdue and not yet escalated: the escalation pass.
create index follow_ups_unescalated_idx on follow_ups (overdue_since)
    where done_at is null and overdue_since is not null and escalated_at is null;
create index follow_ups_ask_idx on follow_ups (ask_id) where ask_id is not null;
create index follow_ups_contact_idx on follow_ups (contact_id) where contact_id is not null;
select manage_updated_at('follow_ups');

create table notifications (
    notification_id  bigint generated always as identity primary key,
    user_id          bigint not null references users (user_id) on delete cascade,
    follow_up_id     bigint references follow_ups (follow_up_id) on delete cascade,
    kind             text not null check (kind in ('overdue', 'escalated', 'digest', 'coaching', 'info')),
    body             text not null default '' check (length(body) <= 2000),
    read_at          timestamptz,
    emailed_at       timestamptz,
    created_at       timestamptz not null default now()
);
-- A sweep never notifies twice about one follow-up.
create unique index notifications_once_key on notifications (user_id, follow_up_id, kind)
    where follow_up_id is not null;
create index notifications_unread_idx on notifications (user_id, created_at desc) where read_at is null;
create index notifications_unsent_idx on notifications (user_id) where emailed_at is null;

create table audit_log (
    audit_id   bigint generated always as identity primary key,
    actor_id   bigint references users (user_id),
    entity     text not null check (length(entity) between 1 and 50),
    entity_id  bigint,
    action     text not null check (length(action) between 1 and 50),
    changes    jsonb not null default '{}',
    at         timestamptz not null default now()
);
create index audit_log_entity_idx on audit_log (entity, entity_id, at);
create index audit_log_actor_idx on audit_log (actor_id, at);
create trigger audit_log_append_only before update on audit_log
    for each row execute function forbid_update();

create table api_tokens (
    token_id      bigint generated always as identity primary key,
    user_id       bigint not null references users (user_id) on delete cascade,
    name          text not null check (length(btrim(name)) between 1 and 100),
    token_hash    bytea not null,
    prefix        text not null check (length(prefix) between 4 and 16),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create unique index api_tokens_hash_key on api_tokens (token_hash);
create index api_tokens_user_idx on api_tokens (user_id);
select manage_updated_at('api_tokens');
