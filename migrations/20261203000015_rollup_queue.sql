-- Aggregate upkeep leaves the ask's own transaction.
--
-- Until now every insert, update and delete of asks applied its change to the rollups in the
-- statement itself. All asks of one rep on one day add to the same `ask_rollups` row (and the
-- same weekly, yearly and `rep_activity` rows), so concurrent asks of a rep queued on that
-- row's lock, and the upsert of four rollup tables took most of an ask's database time.
--
-- Now the triggers only append the change to `ask_rollup_queue`: an insert into a heap with no
-- index, which nobody else's insert waits for. `fold_ask_rollups()` takes whatever is queued
-- (delete … returning, in one transaction with the upsert), so each change is counted exactly
-- once: either it is still in the queue or it is in the rollups, never both, never neither.
-- A background task folds every second, and the pages that show these figures (dashboard,
-- contacts) fold before they read, so they are exact for every ask committed before the
-- request. Folds take a transaction-level advisory lock: one runs at a time, so two cannot
-- deadlock on the rows they update, and a reader's fold waits at most for the one under way.
--
-- A new ask also changed its source contact (ask dates, last touch) and its target (last
-- touch) in the ask's transaction: an update of a row with twelve indexes, most of what was
-- left of an ask's trigger time. The fold does that too now, recomputing the source's dates
-- from its asks (so it does not matter which fold, or which synchronous refresh after an edit,
-- comes first). Edits, moves and removals of asks still refresh their sources at once.

-- The stages that got as far as an introduction, defined once for SQL queries written from
-- here on. The Rust side is `asks::model::Stage::reached_introduction`; a test compares them.
create function stages_reached_introduction() returns text[] language sql immutable parallel safe as $$
    select '{introduced,meeting_scheduled,meeting_held,won,lost}'::text[]
$$;

create table ask_rollup_queue (
    sign                smallint not null check (sign in (-1, 1)),
    rep_id              bigint not null,
    asked_on            date not null,
    created_at          timestamptz not null,
    stage               text not null,
    amount_won_cents    bigint,
    introduced_on       date,
    thanked_on          date,
    -- For new asks only: the contacts whose ask dates and last touch the fold brings current.
    source_contact_id   bigint,
    target_contact_id   bigint
);
-- Emptied every second: vacuum it as soon as a few hundred rows are dead.
alter table ask_rollup_queue set (autovacuum_vacuum_threshold = 200, autovacuum_vacuum_scale_factor = 0);

-- The rollup changes of asks added (sign 1) and taken away (sign -1), with their contacts when
-- `contacts` (new asks).
create function ask_rollup_changes(sign smallint, asks referral_asks[], contacts boolean default false)
returns setof ask_rollup_queue language sql immutable as $$
    select sign, a.rep_id, a.asked_on, a.created_at, a.stage, a.amount_won_cents, a.introduced_on, a.thanked_on,
           case when contacts then a.source_contact_id end, case when contacts then a.target_contact_id end
    from unnest(asks) a
$$;

-- Queued changes of one sign as the asks they stand for, for `apply_ask_rollups` (migration 008),
-- which keeps doing the arithmetic.
create function queued_asks(changes ask_rollup_queue[], wanted smallint) returns referral_asks[]
language sql stable as $$
    select array(select jsonb_populate_record(null::referral_asks, to_jsonb(q))
                 from unnest(changes) q where q.sign = wanted)
$$;

-- New asks' contacts: sources get their ask dates recomputed, sources and targets are touched
-- on the ask date. One update per contact, in id order.
create function refresh_asked_contacts(changes ask_rollup_queue[]) returns void language sql as $$
    update contacts c
    set recent_ask_dates = case when s.is_source then ask_dates(c.contact_id, null) else c.recent_ask_dates end,
        intro_ask_dates = case when s.is_source then ask_dates(c.contact_id, stages_reached_introduction())
                               else c.intro_ask_dates end,
        won_ask_dates = case when s.is_source then ask_dates(c.contact_id, '{won}') else c.won_ask_dates end,
        last_touch_at = greatest(c.last_touch_at, s.touched)
    from (
        select x.id, bool_or(x.is_source) as is_source, max(x.asked_on)::timestamptz as touched
        from (
            select source_contact_id as id, true as is_source, asked_on from unnest(changes)
            union all
            select target_contact_id, false, asked_on from unnest(changes)
        ) x
        where x.id is not null
        group by x.id
        order by x.id
    ) s
    where c.contact_id = s.id
$$;

-- Folds everything queued into the rollups and the contacts; returns how many changes it folded.
-- An empty queue costs one scan of an empty table and writes nothing. A long queue (a bulk
-- change of many asks) is taken 5,000 changes at a time, so memory stays bounded.
create function fold_ask_rollups() returns integer language plpgsql as $$
declare
    taken ask_rollup_queue[];
    folded integer := 0;
begin
    if not exists (select 1 from ask_rollup_queue) then
        return 0;
    end if;
    perform pg_advisory_xact_lock(hashtext('fold_ask_rollups'));
    loop
        with gone as (
            delete from ask_rollup_queue
            where ctid = any(array(select ctid from ask_rollup_queue limit 5000))
            returning *
        )
        select array_agg(g) into taken from gone g;
        exit when taken is null;
        perform apply_ask_rollups(queued_asks(taken, 1::smallint), queued_asks(taken, -1::smallint));
        perform refresh_rep_activity(array(select distinct q.rep_id from unnest(taken) q));
        perform refresh_asked_contacts(taken);
        folded := folded + cardinality(taken);
    end loop;
    return folded;
end
$$;

-- A rebuild from the asks replaces whatever was queued for those reps. The queue is locked
-- against new entries (which wait, they are not lost) so that the asks read and the queue
-- emptied are the same set.
create or replace function rebuild_ask_rollups(reps bigint[]) returns void language plpgsql as $$
declare
    rep bigint;
begin
    perform pg_advisory_xact_lock(hashtext('fold_ask_rollups'));
    lock table ask_rollup_queue in exclusive mode;
    -- The contacts of new asks are still to be brought current; their rollup changes are not.
    perform refresh_asked_contacts(array(
        select q from ask_rollup_queue q where q.rep_id = any(reps) and q.source_contact_id is not null));
    delete from ask_rollup_queue where rep_id = any(reps);
    delete from ask_rollups where rep_id = any(reps);
    delete from ask_late_rollups where rep_id = any(reps);
    delete from ask_week_rollups where rep_id = any(reps);
    delete from ask_year_rollups where rep_id = any(reps);
    -- One rep at a time keeps the arrays small.
    foreach rep in array reps loop
        perform apply_ask_rollups(array(select a from referral_asks a where a.rep_id = rep), '{}');
    end loop;
    perform refresh_rep_activity(reps);
end
$$;

-- New asks are queued with their contacts; nothing else happens in the ask's statement.
create or replace function ask_rollups_on_insert() returns trigger language plpgsql as $$
begin
    insert into ask_rollup_queue
    select q.* from ask_rollup_changes(1::smallint, array(select n::referral_asks from inserted n), true) q;
    return null;
end
$$;
-- The touch is the fold's now.
drop trigger referral_asks_touch on referral_asks;
drop function touch_on_ask_insert();

-- Changed asks: the change to the rollups is queued (the old version out, the new in); an ask
-- moved to another date, source or stage has its sources' ask dates recomputed, as before.
create or replace function ask_rollups_on_update() returns trigger language plpgsql as $$
begin
    insert into ask_rollup_queue
    select q.* from ask_rollup_changes(1::smallint, array(
        select n::referral_asks from newly n join lately o using (ask_id)
        where ask_rollup_changed(n::referral_asks, o::referral_asks))) q
    union all
    select q.* from ask_rollup_changes(-1::smallint, array(
        select o::referral_asks from newly n join lately o using (ask_id)
        where ask_rollup_changed(n::referral_asks, o::referral_asks))) q;
    perform refresh_source_ask_dates(array(
        select distinct s.source_contact_id
        from newly n join lately o using (ask_id),
             lateral (values (n.source_contact_id), (o.source_contact_id)) s (source_contact_id)
        where (n.asked_on, n.source_contact_id, n.stage) is distinct from (o.asked_on, o.source_contact_id, o.stage)));
    return null;
end
$$;

create or replace function ask_rollups_on_delete() returns trigger language plpgsql as $$
begin
    insert into ask_rollup_queue
    select q.* from ask_rollup_changes(-1::smallint, array(select o::referral_asks from removed o)) q;
    perform refresh_source_ask_dates(array(select distinct source_contact_id from removed));
    return null;
end
$$;

-- A follow-up's done date is only worked out when it is done: inserting an open one (every
-- logged ask makes one) no longer looks up its owner.
drop trigger follow_ups_done_on on follow_ups;
create trigger follow_ups_done_on_insert before insert on follow_ups
    for each row when (new.done_at is not null) execute function set_follow_up_done_on();
create trigger follow_ups_done_on_update before update of done_at, owner_id on follow_ups
    for each row execute function set_follow_up_done_on();
