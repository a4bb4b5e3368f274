-- Every logged ask runs two statement triggers, and under load a profile of the database showed
-- a good part of their time spent planning: a SQL-language function whose body cannot be
-- inlined into its caller (an EXISTS, or an argument built by a subquery) is planned anew in
-- every transaction that calls it. The same bodies in PL/pgSQL keep their plans for the life of
-- the connection. What the functions return is unchanged.

create or replace function webhook_endpoints_exist() returns boolean language plpgsql stable as $$
begin
    return exists (select 1 from webhook_endpoints where disabled_at is null);
end
$$;

create or replace function ask_rollup_changes(sign smallint, asks referral_asks[], contacts boolean default false)
returns setof ask_rollup_queue language plpgsql immutable as $$
begin
    return query
    select sign, a.rep_id, a.asked_on, a.created_at, a.stage, a.amount_won_cents, a.introduced_on, a.thanked_on,
           case when contacts then a.source_contact_id end, case when contacts then a.target_contact_id end
    from unnest(asks) a;
end
$$;
