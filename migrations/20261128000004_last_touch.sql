-- A contact's last touch moves whenever an ask, an ask event or a done follow-up involves
-- them, however the row is written (form, API, import, seed). Statement-level triggers with
-- transition tables keep bulk loads set-based.

create function touch_contacts(ids bigint[], at timestamptz[]) returns void language sql as $$
    update contacts c
    set last_touch_at = t.at
    from (select id, max(at) as at from unnest(ids, at) as u(id, at) where id is not null group by id) t
    where c.contact_id = t.id and (c.last_touch_at is null or c.last_touch_at < t.at)
$$;

create function touch_on_ask_insert() returns trigger language plpgsql as $$
begin
    perform touch_contacts(array_agg(id), array_agg(at))
    from (
        select source_contact_id as id, asked_on::timestamptz as at from inserted
        union all
        select target_contact_id, asked_on::timestamptz from inserted where target_contact_id is not null
    ) s;
    return null;
end
$$;
create trigger referral_asks_touch after insert on referral_asks
    referencing new table as inserted for each statement execute function touch_on_ask_insert();

create function touch_on_event_insert() returns trigger language plpgsql as $$
begin
    perform touch_contacts(array_agg(id), array_agg(at))
    from (
        select a.source_contact_id as id, e.occurred_on::timestamptz as at
        from inserted e join referral_asks a on a.ask_id = e.ask_id
        union all
        select a.target_contact_id, e.occurred_on::timestamptz
        from inserted e join referral_asks a on a.ask_id = e.ask_id
        where a.target_contact_id is not null
    ) s;
    return null;
end
$$;
create trigger ask_events_touch after insert on ask_events
    referencing new table as inserted for each statement execute function touch_on_event_insert();

create function touch_on_follow_up_done() returns trigger language plpgsql as $$
begin
    perform touch_contacts(array_agg(id), array_agg(at))
    from (
        select n.contact_id as id, n.done_at as at
        from newly n join lately o on o.follow_up_id = n.follow_up_id
        where n.done_at is not null and o.done_at is null and n.contact_id is not null
        union all
        select a.source_contact_id, n.done_at
        from newly n join lately o on o.follow_up_id = n.follow_up_id
        join referral_asks a on a.ask_id = n.ask_id
        where n.done_at is not null and o.done_at is null
    ) s;
    return null;
end
$$;
create trigger follow_ups_touch after update on follow_ups
    referencing new table as newly old table as lately for each statement
    execute function touch_on_follow_up_done();
