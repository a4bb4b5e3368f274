-- Incrementally maintained rollups, so that a dashboard reads a few thousand summary rows
-- instead of scanning asks. Triggers keep them current however rows are written (form, API,
-- import, demo); bulk loads may disable the triggers and call the rebuild functions instead.

-- When an ask was first introduced and when its source was first thanked (from its events).
alter table referral_asks
    add column introduced_on date,
    add column thanked_on date;

-- Existing data (before the triggers below exist; filling them in is not an edit).
alter table referral_asks disable trigger set_updated_at;
update referral_asks a
set introduced_on = e.introduced_on, thanked_on = e.thanked_on
from (
    select ask_id,
           min(occurred_on) filter (where kind = 'introduced') as introduced_on,
           min(occurred_on) filter (where kind = 'source_thanked') as thanked_on
    from ask_events where kind in ('introduced', 'source_thanked')
    group by ask_id
) e
where a.ask_id = e.ask_id;
alter table referral_asks enable trigger set_updated_at;


-- My week: a rep's latest introductions.
create index referral_asks_rep_introduced_idx on referral_asks (rep_id, introduced_on desc, ask_id desc)
    where introduced_on is not null;

-- What a contact's asks as a source came to, newest first, at most 12 dates each: the dates
-- of their latest asks, of those that reached an introduction, and of those won. Ask coverage
-- reads the latest ask, connector load the fourth latest (it warns above 3 asks in 90 days:
-- asks::service::CONNECTOR_LIMIT), and the source leaderboard the second and third latest introductions.
alter table contacts
    add column recent_ask_dates date[],
    add column intro_ask_dates date[],
    add column won_ask_dates date[];

create function ask_dates(source bigint, stages text[]) returns date[] language sql stable as $$
    select array(select a.asked_on from referral_asks a
                 where a.source_contact_id = source and (stages is null or a.stage = any(stages))
                 order by a.asked_on desc limit 12)
$$;

create function refresh_source_ask_dates(sources bigint[]) returns void language sql as $$
    update contacts c
    set recent_ask_dates = ask_dates(c.contact_id, null),
        intro_ask_dates = ask_dates(c.contact_id, '{introduced,meeting_scheduled,meeting_held,won,lost}'),
        won_ask_dates = ask_dates(c.contact_id, '{won}')
    where c.contact_id = any(sources)
$$;

select refresh_source_ask_dates(array(select distinct source_contact_id from referral_asks));

-- How many of such dates (at most 12) fall between f and t: one inlined expression, no subquery.
create function dates_between(d date[], f date, t date) returns integer language sql immutable as $$
    select coalesce((d[1] between f and t)::int, 0) +
           coalesce((d[2] between f and t)::int, 0) +
           coalesce((d[3] between f and t)::int, 0) +
           coalesce((d[4] between f and t)::int, 0) +
           coalesce((d[5] between f and t)::int, 0) +
           coalesce((d[6] between f and t)::int, 0) +
           coalesce((d[7] between f and t)::int, 0) +
           coalesce((d[8] between f and t)::int, 0) +
           coalesce((d[9] between f and t)::int, 0) +
           coalesce((d[10] between f and t)::int, 0) +
           coalesce((d[11] between f and t)::int, 0) +
           coalesce((d[12] between f and t)::int, 0)
$$;

-- Plain columns, so that the indexes below answer from the index alone.
alter table contacts
    add column last_asked_on date generated always as (recent_ask_dates[1]) stored,
    add column fourth_last_asked_on date generated always as (recent_ask_dates[4]) stored,
    add column second_intro_asked_on date generated always as (intro_ask_dates[2]) stored,
    add column third_intro_asked_on date generated always as (intro_ask_dates[3]) stored;
create index contacts_strong_clients_idx on contacts (owner_id, last_asked_on)
    where kind = 'client' and strength >= 4 and archived_at is null;
create index contacts_connector_load_idx on contacts (owner_id, fourth_last_asked_on, contact_id)
    where fourth_last_asked_on is not null;
create index contacts_two_intros_idx on contacts (owner_id, second_intro_asked_on, contact_id)
    where second_intro_asked_on is not null;
create index contacts_three_intros_idx on contacts (owner_id, third_intro_asked_on, contact_id)
    where third_intro_asked_on is not null;

-- The owner's local date a follow-up was done on (promises kept: done by the due date), kept
-- by a trigger however done_at is written, so that the index below answers alone.
alter table follow_ups add column done_on date;
alter table follow_ups disable trigger set_updated_at;
update follow_ups f
set done_on = (f.done_at at time zone u.time_zone)::date
from users u
where u.user_id = f.owner_id and f.done_at is not null;
alter table follow_ups enable trigger set_updated_at;

create function set_follow_up_done_on() returns trigger language plpgsql as $$
begin
    new.done_on := (new.done_at at time zone (select u.time_zone from users u where u.user_id = new.owner_id))::date;
    return new;
end
$$;
create trigger follow_ups_done_on before insert or update of done_at, owner_id on follow_ups
    for each row execute function set_follow_up_done_on();

drop index follow_ups_promises_idx;
create index follow_ups_promises_idx on follow_ups (owner_id, due_on) include (done_on)
    where kind = 'promise';

-- The referral-source leaderboard: introduced asks by rep and date, read from the index alone.
create index referral_asks_intros_idx on referral_asks (rep_id, asked_on) include (source_contact_id, stage)
    where stage in ('introduced', 'meeting_scheduled', 'meeting_held', 'won', 'lost');
-- Clients won this year now come from the yearly rollups.
drop index referral_asks_won_idx;

-- Per rep and ask date: the cohort of asks made that day and how far each got. The logging
-- delay (whole UTC days from the ask to its entry; an ask logged ahead counts as 0) is kept
-- as a histogram: a column for each of the first 7 days, and the rare later entries in
-- ask_late_rollups.
create table ask_rollups (
    rep_id      bigint not null,
    asked_on    date not null,
    asks        integer not null default 0,
    intros      integer not null default 0,
    meetings    integer not null default 0,
    wins        integer not null default 0,
    losses      integer not null default 0,
    ended       integer not null default 0,
    won_cents   bigint not null default 0,
    -- Asks with an introduction event, and those whose source was thanked within 7 days of it.
    introduced  integer not null default 0,
    thanked     integer not null default 0,
    delay_0     integer not null default 0,
    delay_1     integer not null default 0,
    delay_2     integer not null default 0,
    delay_3     integer not null default 0,
    delay_4     integer not null default 0,
    delay_5     integer not null default 0,
    delay_6     integer not null default 0,
    primary key (rep_id, asked_on)
);

-- Asks logged 7 or more days after they were made, by rep, ask date and delay.
create table ask_late_rollups (
    rep_id      bigint not null,
    asked_on    date not null,
    delay_days  integer not null,
    asks        integer not null default 0,
    primary key (rep_id, asked_on, delay_days)
);

-- The same per rep and week (starting on Monday) of the ask: the trend chart, and the whole
-- weeks of a longer period.
create table ask_week_rollups (like ask_rollups including defaults);
alter table ask_week_rollups rename column asked_on to week;
alter table ask_week_rollups add primary key (rep_id, week);
-- The trend chart reads asks and introductions from the index alone.
create index ask_week_rollups_trend_idx on ask_week_rollups (rep_id, week) include (asks, intros);

-- Per rep and year of the ask: referral math (clients won this year).
create table ask_year_rollups (
    rep_id  bigint not null,
    year    integer not null,
    wins    integer not null default 0,
    primary key (rep_id, year)
);

-- When each rep last logged an ask (weekly-active reps).
create table rep_activity (
    user_id             bigint primary key,
    last_ask_logged_at  timestamptz
);

create function refresh_rep_activity(reps bigint[]) returns void language sql as $$
    insert into rep_activity as r (user_id, last_ask_logged_at)
    select rep, (select max(a.created_at) from referral_asks a where a.rep_id = rep)
    from unnest(reps) rep
    order by rep
    on conflict (user_id) do update set last_ask_logged_at = excluded.last_ask_logged_at
    where r.last_ask_logged_at is distinct from excluded.last_ask_logged_at
$$;

-- Adds the asks in `added` to the rollups and takes those in `removed` away.
create function apply_ask_rollups(added referral_asks[], removed referral_asks[]) returns void
language sql as $$
    with rows as (
        select 1 as sign, a.* from unnest(added) a
        union all
        select -1, r.* from unnest(removed) r
    ), c as (
        select sign, rep_id, asked_on,
               greatest((created_at at time zone 'UTC')::date - asked_on, 0) as delay_days,
               sign * (stage in ('introduced', 'meeting_scheduled', 'meeting_held', 'won', 'lost'))::int as intros,
               sign * (stage in ('meeting_held', 'won', 'lost'))::int as meetings,
               sign * (stage = 'won')::int as wins,
               sign * (stage = 'lost')::int as losses,
               sign * (stage not in ('asked', 'promised_intro'))::int as ended,
               sign * case when stage = 'won' then coalesce(amount_won_cents, 0) else 0 end as won_cents,
               sign * (introduced_on is not null)::int as introduced,
               sign * coalesce(thanked_on <= introduced_on + 7, false)::int as thanked
        from rows
    ), days as (
        select rep_id, asked_on, sum(sign) as asks, sum(intros) as intros, sum(meetings) as meetings,
               sum(wins) as wins, sum(losses) as losses, sum(ended) as ended, sum(won_cents) as won_cents,
               sum(introduced) as introduced, sum(thanked) as thanked,
               sum(sign * (delay_days = 0)::int) as delay_0, sum(sign * (delay_days = 1)::int) as delay_1,
               sum(sign * (delay_days = 2)::int) as delay_2, sum(sign * (delay_days = 3)::int) as delay_3,
               sum(sign * (delay_days = 4)::int) as delay_4, sum(sign * (delay_days = 5)::int) as delay_5,
               sum(sign * (delay_days = 6)::int) as delay_6
        from c group by 1, 2
    ), daily as (
        insert into ask_rollups as r (rep_id, asked_on, asks, intros, meetings, wins, losses, ended, won_cents, introduced, thanked,
                   delay_0, delay_1, delay_2, delay_3, delay_4, delay_5, delay_6)
        select rep_id, asked_on, asks, intros, meetings, wins, losses, ended, won_cents, introduced, thanked,
                   delay_0, delay_1, delay_2, delay_3, delay_4, delay_5, delay_6
        from days order by 1, 2
        on conflict (rep_id, asked_on) do update set
            asks = r.asks + excluded.asks,
            intros = r.intros + excluded.intros,
            meetings = r.meetings + excluded.meetings,
            wins = r.wins + excluded.wins,
            losses = r.losses + excluded.losses,
            ended = r.ended + excluded.ended,
            won_cents = r.won_cents + excluded.won_cents,
            introduced = r.introduced + excluded.introduced,
            thanked = r.thanked + excluded.thanked,
            delay_0 = r.delay_0 + excluded.delay_0,
            delay_1 = r.delay_1 + excluded.delay_1,
            delay_2 = r.delay_2 + excluded.delay_2,
            delay_3 = r.delay_3 + excluded.delay_3,
            delay_4 = r.delay_4 + excluded.delay_4,
            delay_5 = r.delay_5 + excluded.delay_5,
            delay_6 = r.delay_6 + excluded.delay_6
        returning 1
    ), weekly as (
        insert into ask_week_rollups as r (rep_id, week, asks, intros, meetings, wins, losses, ended, won_cents, introduced, thanked,
                   delay_0, delay_1, delay_2, delay_3, delay_4, delay_5, delay_6)
        select rep_id, date_trunc('week', asked_on)::date, sum(asks), sum(intros), sum(meetings), sum(wins), sum(losses), sum(ended), sum(won_cents), sum(introduced), sum(thanked),
               sum(delay_0), sum(delay_1), sum(delay_2), sum(delay_3), sum(delay_4), sum(delay_5), sum(delay_6)
        from days group by 1, 2 order by 1, 2
        on conflict (rep_id, week) do update set
            asks = r.asks + excluded.asks,
            intros = r.intros + excluded.intros,
            meetings = r.meetings + excluded.meetings,
            wins = r.wins + excluded.wins,
            losses = r.losses + excluded.losses,
            ended = r.ended + excluded.ended,
            won_cents = r.won_cents + excluded.won_cents,
            introduced = r.introduced + excluded.introduced,
            thanked = r.thanked + excluded.thanked,
            delay_0 = r.delay_0 + excluded.delay_0,
            delay_1 = r.delay_1 + excluded.delay_1,
            delay_2 = r.delay_2 + excluded.delay_2,
            delay_3 = r.delay_3 + excluded.delay_3,
            delay_4 = r.delay_4 + excluded.delay_4,
            delay_5 = r.delay_5 + excluded.delay_5,
            delay_6 = r.delay_6 + excluded.delay_6
        returning 1
    ), late as (
        insert into ask_late_rollups as r (rep_id, asked_on, delay_days, asks)
        select rep_id, asked_on, delay_days, sum(sign)
        from c where delay_days >= 7 group by 1, 2, 3 order by 1, 2, 3
        on conflict (rep_id, asked_on, delay_days) do update set asks = r.asks + excluded.asks
        returning 1
    )
    insert into ask_year_rollups as r (rep_id, year, wins)
    select rep_id, extract(year from asked_on)::int, sum(wins)
    from days group by 1, 2 order by 1, 2
    on conflict (rep_id, year) do update set wins = r.wins + excluded.wins
$$;

-- Recomputes the rollups of some reps from their asks (after a bulk load).
create function rebuild_ask_rollups(reps bigint[]) returns void language plpgsql as $$
declare
    rep bigint;
begin
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

-- The asks whose rolled-up figures differ between two versions of the same rows.
create function ask_rollup_changed(a referral_asks, b referral_asks) returns boolean
language sql immutable as $$
    select (a.rep_id, a.asked_on, a.created_at, a.stage, a.amount_won_cents, a.introduced_on, a.thanked_on)
           is distinct from
           (b.rep_id, b.asked_on, b.created_at, b.stage, b.amount_won_cents, b.introduced_on, b.thanked_on)
$$;

create function ask_rollups_on_insert() returns trigger language plpgsql as $$
begin
    perform apply_ask_rollups(array(select n::referral_asks from inserted n), '{}');
    perform refresh_rep_activity(array(select distinct rep_id from inserted));
    perform refresh_source_ask_dates(array(select distinct source_contact_id from inserted));
    return null;
end
$$;
create trigger referral_asks_rollups_insert after insert on referral_asks
    referencing new table as inserted for each statement execute function ask_rollups_on_insert();

create function ask_rollups_on_update() returns trigger language plpgsql as $$
begin
    perform apply_ask_rollups(
        array(select n::referral_asks from newly n join lately o using (ask_id)
              where ask_rollup_changed(n::referral_asks, o::referral_asks)),
        array(select o::referral_asks from newly n join lately o using (ask_id)
              where ask_rollup_changed(n::referral_asks, o::referral_asks)));
    -- An ask moved to another rep: both reps' last entries are recomputed.
    perform refresh_rep_activity(array(
        select distinct r.rep_id
        from newly n join lately o using (ask_id), lateral (values (n.rep_id), (o.rep_id)) r (rep_id)
        where n.rep_id <> o.rep_id));
    -- An ask moved to another date, source or stage: its sources' ask dates are recomputed.
    perform refresh_source_ask_dates(array(
        select distinct s.source_contact_id
        from newly n join lately o using (ask_id),
             lateral (values (n.source_contact_id), (o.source_contact_id)) s (source_contact_id)
        where (n.asked_on, n.source_contact_id, n.stage) is distinct from (o.asked_on, o.source_contact_id, o.stage)));
    return null;
end
$$;
create trigger referral_asks_rollups_update after update on referral_asks
    referencing new table as newly old table as lately for each statement
    execute function ask_rollups_on_update();

create function ask_rollups_on_delete() returns trigger language plpgsql as $$
begin
    perform apply_ask_rollups('{}', array(select o::referral_asks from removed o));
    perform refresh_rep_activity(array(select distinct rep_id from removed));
    perform refresh_source_ask_dates(array(select distinct source_contact_id from removed));
    return null;
end
$$;
create trigger referral_asks_rollups_delete after delete on referral_asks
    referencing old table as removed for each statement execute function ask_rollups_on_delete();

-- An ask's first introduction and first thank-you to its source, from its events.
create function mark_asks_on_event_insert() returns trigger language plpgsql as $$
begin
    update referral_asks a
    set introduced_on = least(a.introduced_on, e.introduced_on),
        thanked_on = least(a.thanked_on, e.thanked_on)
    from (
        select ask_id,
               min(occurred_on) filter (where kind = 'introduced') as introduced_on,
               min(occurred_on) filter (where kind = 'source_thanked') as thanked_on
        from inserted where kind in ('introduced', 'source_thanked')
        group by ask_id
    ) e
    where a.ask_id = e.ask_id
      and (a.introduced_on, a.thanked_on) is distinct from
          (least(a.introduced_on, e.introduced_on), least(a.thanked_on, e.thanked_on));
    return null;
end
$$;
create trigger ask_events_mark_asks after insert on ask_events
    referencing new table as inserted for each statement execute function mark_asks_on_event_insert();

select rebuild_ask_rollups(array(select user_id from users));

-- An admin's dashboard covers every active rep: no need to walk the management tree.
create or replace function dashboard_reps(viewer bigint, only_rep bigint) returns setof bigint
language sql stable as $$
    select u.user_id from users u
    where u.role = 'rep' and u.deactivated_at is null
      and (only_rep is null or u.user_id = only_rep)
      and (exists (select 1 from users v where v.user_id = viewer and v.role = 'admin'
                     and v.deactivated_at is null)
           or u.user_id in (select visible_user_ids(viewer)))
$$;
