-- A source contact created by the quick log is written once, with its ask facts already set
-- (its one ask date, no introductions or wins yet, touched on the ask date). The fold then
-- finds nothing to change on it and leaves the row alone: before, every new source got a
-- second version of its row, with an entry in each of the contact's twelve indexes.
--
-- The fold writes only contacts whose facts change. The new values are computed from the
-- row the update finally sees (`c`), as before, so a concurrent touch is never undone.
create or replace function refresh_asked_contacts(changes ask_rollup_queue[]) returns void
language sql as $$
    update contacts c
    set recent_ask_dates = coalesce(s.recent, c.recent_ask_dates),
        intro_ask_dates = coalesce(s.intro, c.intro_ask_dates),
        won_ask_dates = coalesce(s.won, c.won_ask_dates),
        last_touch_at = greatest(c.last_touch_at, s.touched)
    from (
        select x.id,
               max(x.asked_on)::timestamptz as touched,
               case when bool_or(x.is_source) then ask_dates(x.id, null) end as recent,
               case when bool_or(x.is_source) then ask_dates(x.id, stages_reached_introduction()) end as intro,
               case when bool_or(x.is_source) then ask_dates(x.id, '{won}') end as won
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
      and (c.recent_ask_dates, c.intro_ask_dates, c.won_ask_dates, c.last_touch_at)
          is distinct from (coalesce(s.recent, c.recent_ask_dates), coalesce(s.intro, c.intro_ask_dates),
                            coalesce(s.won, c.won_ask_dates), greatest(c.last_touch_at, s.touched))
$$;
