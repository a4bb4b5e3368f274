-- Companies as records, and introductions borrowed from a colleague's network.
--
-- A contact's company is matched from its company text, normalised by `company_key` (case,
-- punctuation and legal suffixes ignored), or failing that from its e-mail's domain, unless
-- the domain is a free mail service. `company_aliases` maps every key a company answers to
-- (a merge moves the merged company's keys over), `company_domains` every domain. The trigger
-- on `contacts` keeps `company_id` right on every write path: forms, import, the quick log,
-- the API and merges alike.

create function company_key(name text) returns text
language sql immutable parallel safe as $$
    select nullif(
        regexp_replace(
            regexp_replace(
                btrim(regexp_replace(lower(name), '[[:punct:][:space:]]+', ' ', 'g')),
                '^the ', ''),
            '( (inc|incorporated|llc|llp|lp|ltd|limited|gmbh|ag|sa|plc|corp|corporation|co|company|bv|nv|srl|oy|ab|as|pty|sarl|spa|kk|group|holdings))+$',
            ''),
        '')
$$;

create function free_mail_domain(domain text) returns boolean
language sql immutable parallel safe as $$
    select domain in ('gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'ymail.com',
                      'hotmail.com', 'hotmail.co.uk', 'outlook.com', 'live.com', 'msn.com',
                      'icloud.com', 'me.com', 'mac.com', 'aol.com', 'proton.me', 'protonmail.com',
                      'gmx.de', 'gmx.net', 'web.de', 'mail.com', 'yandex.ru', 'qq.com', '163.com',
                      'zoho.com', 'fastmail.com', 'hey.com', 'example.com', 'example.org')
$$;

create table companies (
    company_id bigint generated always as identity primary key,
    name text not null check (length(btrim(name)) between 1 and 200),
    created_at timestamptz not null default now()
);

create table company_aliases (
    key text primary key,
    company_id bigint not null references companies on delete cascade
);
create index company_aliases_company_idx on company_aliases (company_id);

create table company_domains (
    domain text primary key,
    company_id bigint not null references companies on delete cascade
);
create index company_domains_company_idx on company_domains (company_id);

alter table contacts add column company_id bigint references companies on delete set null;
create index contacts_company_idx on contacts (company_id, owner_id) where company_id is not null;

-- The company a key names, made on first sight. Two writers naming a new company at once
-- both end on the one whose alias landed first.
create function company_for_key(k text, display text) returns bigint
language plpgsql as $$
declare
    found_id bigint;
begin
    select company_id into found_id from company_aliases where key = k;
    if found_id is not null then
        return found_id;
    end if;
    insert into companies (name) values (left(btrim(display), 200)) returning company_id into found_id;
    insert into company_aliases (key, company_id) values (k, found_id) on conflict (key) do nothing;
    if not found then
        delete from companies where company_id = found_id;
        select company_id into found_id from company_aliases where key = k;
    end if;
    return found_id;
end
$$;

create function contacts_match_company() returns trigger
language plpgsql as $$
declare
    k text;
    d text;
    matched bigint;
begin
    if new.company is null and new.email is null then
        new.company_id := null;
        return new;
    end if;
    k := company_key(new.company);
    d := lower(nullif(split_part(new.email, '@', 2), ''));
    if d is not null and free_mail_domain(d) then
        d := null;
    end if;
    if k is not null then
        matched := company_for_key(k, new.company);
        if d is not null then
            insert into company_domains (domain, company_id) values (d, matched)
            on conflict (domain) do nothing;
        end if;
    elsif d is not null then
        select company_id into matched from company_domains where domain = d;
    end if;
    new.company_id := matched;
    return new;
end
$$;

-- Two triggers with WHEN clauses, so that a row without a company or an e-mail (the quick
-- log's new source) and an update that leaves both alone never call the function.
create trigger contacts_match_company before insert on contacts
    for each row when (new.company is not null or new.email is not null)
    execute function contacts_match_company();
create trigger contacts_rematch_company before update of company, email on contacts
    for each row when (old.company is distinct from new.company or old.email is distinct from new.email)
    execute function contacts_match_company();

-- Today's contacts, matched once.
do $$
declare
    r record;
begin
    for r in select distinct on (company_key(company)) company_key(company) as k, company
             from contacts where company_key(company) is not null
             order by company_key(company), contact_id
    loop
        perform company_for_key(r.k, r.company);
    end loop;
end
$$;
update contacts c set company_id = a.company_id
from company_aliases a where a.key = company_key(c.company);
insert into company_domains (domain, company_id)
select distinct on (d) d, company_id
from (select lower(split_part(email, '@', 2)) as d, company_id, contact_id
      from contacts where company_id is not null and email is not null) x
where not free_mail_domain(d)
order by d, contact_id
on conflict do nothing;
update contacts c set company_id = cd.company_id
from company_domains cd
where c.company_id is null and c.email is not null
  and cd.domain = lower(split_part(c.email, '@', 2));

-- Relationships are found from either end by path search.
create index relationships_to_from_idx on relationships (to_contact_id, from_contact_id);
create index relationships_from_to_idx on relationships (from_contact_id, to_contact_id);
drop index relationships_from_idx;
drop index relationships_to_idx;

-- A rep asks a colleague for an introduction through the colleague's network.
create table intro_requests (
    request_id bigint generated always as identity primary key,
    requester_id bigint not null references users,
    holder_id bigint not null references users,
    -- The holder's contact who would make the introduction; null when the holder knows the
    -- prospect directly and would make it themselves.
    connector_contact_id bigint references contacts on delete cascade,
    -- The holder's contact at the prospect.
    prospect_contact_id bigint not null references contacts on delete cascade,
    message text not null default '' check (length(message) <= 2000),
    status text not null default 'pending' check (status in ('pending', 'accepted', 'declined')),
    decline_reason text check (length(decline_reason) <= 500),
    follow_up_id bigint references follow_ups on delete set null,
    ask_id bigint references referral_asks on delete set null,
    created_at timestamptz not null default now(),
    decided_at timestamptz,
    check (requester_id <> holder_id),
    check ((status = 'pending') = (decided_at is null))
);
create unique index intro_requests_one_pending_key on intro_requests
    (requester_id, prospect_contact_id, coalesce(connector_contact_id, 0)) where status = 'pending';
create index intro_requests_holder_idx on intro_requests (holder_id, created_at desc);
create index intro_requests_requester_idx on intro_requests (requester_id, created_at desc);

-- An ask that used a colleague's path credits that colleague.
alter table referral_asks add column assisted_by_id bigint references users;
create index referral_asks_assisted_idx on referral_asks (assisted_by_id, asked_on)
    where assisted_by_id is not null;

alter table follow_ups drop constraint follow_ups_kind_check;
alter table follow_ups add constraint follow_ups_kind_check check (kind in
    ('ask_follow_up', 'thank_source', 'update_source', 'contact_prospect', 'report_outcome',
     'promise', 'coaching', 'stay_in_touch', 'other', 'intro_request'));

alter table notifications drop constraint notifications_kind_check;
alter table notifications add constraint notifications_kind_check check (kind in
    ('overdue', 'escalated', 'digest', 'coaching', 'info', 'intro_request'));
create index contacts_linkedin_idx on contacts (lower(linkedin_url)) where linkedin_url is not null;
