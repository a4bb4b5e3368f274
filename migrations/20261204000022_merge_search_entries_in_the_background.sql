-- The quick log adds a contact with almost every ask, and each new name goes into the pending
-- list of the trigram index on names (GIN's fast update). PostgreSQL merges that list into the
-- index in whichever insert finds it over `gin_pending_list_limit` (4 MB): at a busy team's
-- pace that was every few seconds, and each time one quick log waited 100 ms and more for
-- everyone's entries while the merge took a core from the other requests. The background task
-- that folds the dashboard's rollups calls this every second, so the lists stay a second long
-- and no request merges them. Searches read the pending list as well, so they stay exact.
--
-- It covers every GIN index of the schema the contacts live in, and skips those this role does
-- not own (merging, like vacuuming, is an owner's right). It returns the pending-list pages
-- it freed.
create function merge_pending_search_entries() returns bigint
language sql as $$
    select coalesce(sum(gin_clean_pending_list(i.indexrelid::regclass)), 0)::int8
    from pg_index i
    join pg_class c on c.oid = i.indexrelid
    join pg_am a on a.oid = c.relam
    where a.amname = 'gin'
      and c.relnamespace = (select relnamespace from pg_class where oid = 'contacts'::regclass)
      and pg_has_role(c.relowner, 'USAGE')
$$;
