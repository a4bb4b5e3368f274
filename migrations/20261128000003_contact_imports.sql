-- Contact imports waiting for the owner's review: the uploaded file, decoded to text, and the
-- chosen column mapping. A row lives from upload to commit (or until it is abandoned).
create table contact_imports (
    contact_import_id  bigint generated always as identity primary key,
    owner_id           bigint not null references users (user_id) on delete cascade,
    file_name          text not null check (length(file_name) <= 300),
    format             text not null check (format in ('csv', 'linkedin', 'vcard')),
    content            text not null,
    mapping            jsonb not null default '{}',
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now()
);
create index contact_imports_owner_idx on contact_imports (owner_id, created_at);
select manage_updated_at('contact_imports');
