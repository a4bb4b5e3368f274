-- Escalations reach a manager as one notification per rep per day (the manager's day), naming
-- the items, rather than one per follow-up. Notifications written before this keep their
-- follow-up; the new ones name the rep they are about and the day they cover.
alter table notifications
    add column about_user_id bigint references users (user_id) on delete cascade,
    add column on_date date,
    add constraint notifications_daily_shape check ((about_user_id is null) = (on_date is null));

create unique index notifications_daily_key on notifications (user_id, about_user_id, on_date, kind)
    where about_user_id is not null;
