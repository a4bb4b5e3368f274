-- A table with generated columns may not have a BEFORE trigger whose WHEN clause compares whole
-- rows. PostgreSQL let contacts keep theirs when the generated columns were added later, but
-- refuses to create it again, so no dump of a Warmline database could be restored. The
-- comparison moves into the trigger function, leaving out the generated columns.
create function set_contact_updated_at() returns trigger language plpgsql as $$
declare
    generated constant text[] :=
        '{last_asked_on,fourth_last_asked_on,second_intro_asked_on,third_intro_asked_on}';
begin
    if (to_jsonb(old) - generated) is distinct from (to_jsonb(new) - generated) then
        new.updated_at := now();
    end if;
    return new;
end
$$;
drop trigger set_updated_at on contacts;
create trigger set_updated_at before update on contacts
    for each row execute function set_contact_updated_at();
