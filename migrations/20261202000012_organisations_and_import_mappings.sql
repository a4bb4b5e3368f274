-- Contacts that are organisations: an imported row with a company (or an e-mail) but no
-- person's name becomes one, named after the company.
alter table contacts drop constraint contacts_kind_check;
alter table contacts add constraint contacts_kind_check
    check (kind in ('client', 'referral_source', 'prospect', 'partner', 'organisation', 'other'));

-- The column mapping each person chose for a file's header, offered again the next time they
-- import a file with the same header.
create table import_mappings (
    owner_id    bigint not null references users (user_id) on delete cascade,
    header      text not null check (length(header) <= 10000),
    mapping     jsonb not null,
    updated_at  timestamptz not null default now(),
    primary key (owner_id, header)
);
