-- API tokens get scopes chosen at creation: `read` lets a token look, `write` lets it change
-- things. Tokens made before scopes existed could do both, and keep that.
alter table api_tokens
    add column scopes text[] not null default '{read,write}'
        check (cardinality(scopes) between 1 and 2 and scopes <@ '{read,write}'::text[]);

-- A create sent with an Idempotency-Key answers a repeat of the same key with the first
-- result. The row is claimed before the create runs (status null: in progress), so two copies
-- sent at once do not both create; a create that fails gives its key up again. Keys are kept
-- for a day.
create table api_idempotency (
    user_id       bigint not null references users (user_id) on delete cascade,
    key           text not null check (length(key) between 1 and 255),
    -- What the key was first used for: method, path and a hash of the body.
    request       text not null,
    status        smallint,
    location      text,
    body          jsonb,
    created_at    timestamptz not null default now(),
    primary key (user_id, key)
);
create index api_idempotency_created_idx on api_idempotency (created_at);
