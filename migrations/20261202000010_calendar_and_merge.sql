-- Each user's calendar feed lives at a secret URL; replacing or clearing the secret revokes
-- the old URL at once.
alter table users add column calendar_secret text unique
    check (calendar_secret is null or length(calendar_secret) between 32 and 100);

-- A contact merged into another is archived and points at the one it became.
alter table contacts add column merged_into_id bigint references contacts (contact_id)
    check (merged_into_id <> contact_id);
