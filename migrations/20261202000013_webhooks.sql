-- Webhooks (the Standard Webhooks specification): endpoints an admin registers, and an outbox
-- of messages, one per endpoint and event.
--
-- Triggers write the outbox, in the statement (and so the transaction) that made the change:
-- an ask or follow-up written by a page, the API, the sweeper or the CLI enqueues its events
-- or, if the change rolls back, none. Each trigger runs once per statement and first checks
-- for an enabled endpoint, so a team without webhooks pays one index probe per statement.
-- Bulk loads that disable user triggers (`warmline seed`) send no events.

create table webhook_endpoints (
    endpoint_id      bigint generated always as identity primary key,
    url              text not null check (url ~* '^https?://[^\s/]+' and length(url) <= 2000),
    description      text not null default '' check (length(description) <= 200),
    -- `whsec_` and the base64 of the key: shown to the admin once, kept to sign messages.
    secret           text not null check (secret like 'whsec\_%'),
    event_types      text[] not null check (
                         cardinality(event_types) > 0
                         and event_types <@ array['ask.created', 'ask.stage_changed', 'follow_up.overdue',
                                                  'follow_up.escalated', 'follow_up.done']),
    created_by       bigint references users (user_id) on delete set null,
    created_at       timestamptz not null default now(),
    -- When the current run of failed deliveries began; null while deliveries succeed.
    failing_since    timestamptz,
    disabled_at      timestamptz,
    disabled_reason  text check (length(disabled_reason) <= 500),
    -- One process delivers an endpoint's messages at a time, in order: it holds the lease
    -- until this time (renewed while it works; a crashed process's lease runs out).
    leased_until     timestamptz
);
create index webhook_endpoints_enabled_idx on webhook_endpoints (endpoint_id) where disabled_at is null;

create table webhook_messages (
    message_id       bigint generated always as identity primary key,
    endpoint_id      bigint not null references webhook_endpoints (endpoint_id) on delete cascade,
    -- `webhook-id`: the same on every attempt, so receivers can drop duplicates.
    webhook_id       uuid not null default gen_random_uuid() unique,
    event_type       text not null,
    data             jsonb not null,
    created_at       timestamptz not null default now(),
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null default now(),
    last_attempt_at  timestamptz,
    -- The receiver's HTTP status, or null when it could not be reached.
    last_status      integer,
    last_error       text check (length(last_error) <= 500),
    delivered_at     timestamptz
);
-- An endpoint's undelivered messages in order: the head is the only one attempted.
create index webhook_messages_pending_idx on webhook_messages (endpoint_id, message_id)
    where delivered_at is null;
-- Recent deliveries per endpoint, for the admin page.
create index webhook_messages_endpoint_idx on webhook_messages (endpoint_id, message_id desc);

-- Enqueues one message per enabled endpoint subscribed to `event_type` and per element of
-- `events` (the messages' data), keeping the array's order within each endpoint.
create function webhook_enqueue(event_type text, events jsonb[]) returns void language sql as $$
    insert into webhook_messages (endpoint_id, event_type, data)
    select e.endpoint_id, event_type, ev.data
    from webhook_endpoints e
    cross join unnest(events) with ordinality as ev (data, n)
    where e.disabled_at is null and event_type = any (e.event_types)
    order by e.endpoint_id, ev.n
$$;

create function webhook_endpoints_exist() returns boolean language sql stable as $$
    select exists (select 1 from webhook_endpoints where disabled_at is null)
$$;

create function ask_webhook_data(a referral_asks) returns jsonb language sql stable as $$
    select jsonb_build_object(
        'ask_id', a.ask_id,
        'rep_id', a.rep_id,
        'source_contact_id', a.source_contact_id,
        'target_contact_id', a.target_contact_id,
        'target_description', a.target_description,
        'reason', a.reason,
        'channel', a.channel,
        'asked_on', a.asked_on,
        'stage', a.stage,
        'amount_won_cents', a.amount_won_cents)
$$;

create function follow_up_webhook_data(f follow_ups) returns jsonb language sql stable as $$
    select jsonb_build_object(
        'follow_up_id', f.follow_up_id,
        'owner_id', f.owner_id,
        'kind', f.kind,
        'title', f.title,
        'ask_id', f.ask_id,
        'contact_id', f.contact_id,
        'due_on', f.due_on,
        'overdue_since', f.overdue_since,
        'escalated_at', f.escalated_at,
        'done_at', f.done_at)
$$;

create function referral_asks_webhooks_insert() returns trigger language plpgsql as $$
begin
    if webhook_endpoints_exist() then
        perform webhook_enqueue('ask.created',
            array(select ask_webhook_data(n) from new_rows n order by n.ask_id));
    end if;
    return null;
end
$$;
create trigger referral_asks_webhooks_insert after insert on referral_asks
    referencing new table as new_rows for each statement execute function referral_asks_webhooks_insert();

create function referral_asks_webhooks_update() returns trigger language plpgsql as $$
begin
    if webhook_endpoints_exist() then
        perform webhook_enqueue('ask.stage_changed',
            array(select ask_webhook_data(n) || jsonb_build_object('previous_stage', o.stage)
                  from new_rows n join old_rows o on o.ask_id = n.ask_id
                  where n.stage is distinct from o.stage
                  order by n.ask_id));
    end if;
    return null;
end
$$;
create trigger referral_asks_webhooks_update after update on referral_asks
    referencing old table as old_rows new table as new_rows
    for each statement execute function referral_asks_webhooks_update();

create function follow_ups_webhooks_update() returns trigger language plpgsql as $$
begin
    if webhook_endpoints_exist() then
        perform webhook_enqueue('follow_up.overdue',
            array(select follow_up_webhook_data(n) from new_rows n join old_rows o using (follow_up_id)
                  where o.overdue_since is null and n.overdue_since is not null and n.done_at is null
                  order by n.follow_up_id));
        perform webhook_enqueue('follow_up.escalated',
            array(select follow_up_webhook_data(n) || jsonb_build_object('manager_id', u.manager_id)
                  from new_rows n join old_rows o using (follow_up_id)
                  join users u on u.user_id = n.owner_id
                  where o.escalated_at is null and n.escalated_at is not null and n.done_at is null
                  order by n.follow_up_id));
        perform webhook_enqueue('follow_up.done',
            array(select follow_up_webhook_data(n) from new_rows n join old_rows o using (follow_up_id)
                  where o.done_at is null and n.done_at is not null
                  order by n.follow_up_id));
    end if;
    return null;
end
$$;
create trigger follow_ups_webhooks_update after update on follow_ups
    referencing old table as old_rows new table as new_rows
    for each statement execute function follow_ups_webhooks_update();
