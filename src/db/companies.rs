//! Companies, and the warm paths to a prospect through every network in the team. A
//! colleague's contact that the viewer may not see leaves the database without its name,
//! e-mail and phone: the masking is in the queries, so no page, export or API can leak it.

use sqlx::{PgExecutor, Postgres, Transaction};
use time::{Date, OffsetDateTime};

use crate::domain::companies::CompanyId;
use crate::domain::contacts::ContactId;
use crate::domain::users::UserId;

/// A company.
#[derive(Debug, Clone)]
pub struct Company {
    pub company_id: CompanyId,
    pub name: String,
}

/// A company by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(db: impl PgExecutor<'_>, id: CompanyId) -> sqlx::Result<Option<Company>> {
    sqlx::query_as!(
        Company,
        r#"select company_id as "company_id: CompanyId", name from companies where company_id = $1"#,
        id as CompanyId
    )
    .fetch_optional(db)
    .await
}

/// The company a name means, its legal suffix, case and punctuation aside.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn named(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<Company>> {
    sqlx::query_as!(
        Company,
        r#"select c.company_id as "company_id: CompanyId", c.name
           from company_aliases a join companies c on c.company_id = a.company_id
           where a.key = company_key($1)"#,
        name
    )
    .fetch_optional(db)
    .await
}

/// Someone at a company, as the viewer may see them: `name`, `email`, `phone` and `title`
/// are withheld (`None`) unless `visible`.
#[derive(Debug, Clone)]
pub struct Person {
    pub contact_id: ContactId,
    pub owner_id: UserId,
    pub owner_name: String,
    pub visible: bool,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub strength: i16,
}

/// The team's contacts at a company, the viewer's visible ones first, then by owner.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn people(
    db: impl PgExecutor<'_>,
    viewer: UserId,
    company: CompanyId,
) -> sqlx::Result<Vec<Person>> {
    sqlx::query_as!(
        Person,
        r#"with seen as (select visible_user_ids($1) as user_id)
           select c.contact_id as "contact_id: ContactId", c.owner_id as "owner_id: UserId",
                  u.name as owner_name, v.visible as "visible!",
                  case when v.visible then c.name end as name,
                  case when v.visible then c.email end as email,
                  case when v.visible then c.phone end as phone,
                  case when v.visible then c.title end as title,
                  c.strength
           from contacts c
           join users u on u.user_id = c.owner_id
           cross join lateral (select c.owner_id in (select user_id from seen) as visible) v
           where c.company_id = $2 and c.archived_at is null and c.merged_into_id is null
             and u.deactivated_at is null
           order by v.visible desc, u.name, c.strength desc, c.contact_id
           limit 500"#,
        viewer as UserId,
        company as CompanyId
    )
    .fetch_all(db)
    .await
}

/// Moves everything of `from` onto `into`, its contacts, names and domains, and deletes it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn merge(
    tx: &mut Transaction<'_, Postgres>,
    from: CompanyId,
    into: CompanyId,
) -> sqlx::Result<u64> {
    let moved = sqlx::query!(
        "update contacts set company_id = $2 where company_id = $1",
        from as CompanyId,
        into as CompanyId
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    sqlx::query!(
        "update company_aliases set company_id = $2 where company_id = $1",
        from as CompanyId,
        into as CompanyId
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "update company_domains set company_id = $2 where company_id = $1",
        from as CompanyId,
        into as CompanyId
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "delete from companies where company_id = $1",
        from as CompanyId
    )
    .execute(&mut **tx)
    .await?;
    Ok(moved)
}

/// The contacts, anyone's, that are the prospect a search names: the same person as one of
/// the viewer's contacts (by e-mail, LinkedIn address, or name at the same company).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn same_person(
    db: impl PgExecutor<'_>,
    contact: ContactId,
) -> sqlx::Result<Vec<ContactId>> {
    sqlx::query_scalar!(
        r#"select o.contact_id as "contact_id!: ContactId"
           from contacts p
           join contacts o on o.contact_id = p.contact_id
                or (p.email is not null and lower(o.email) = lower(p.email))
                or (p.linkedin_url is not null and lower(o.linkedin_url) = lower(p.linkedin_url))
                or (p.company_id is not null and o.company_id = p.company_id and lower(o.name) = lower(p.name))
           where p.contact_id = $1 and o.archived_at is null and o.merged_into_id is null
           limit 200"#,
        contact as ContactId
    )
    .fetch_all(db)
    .await
}

/// Anyone's contacts with a LinkedIn address.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn at_address(db: impl PgExecutor<'_>, url: &str) -> sqlx::Result<Vec<ContactId>> {
    sqlx::query_scalar!(
        r#"select contact_id as "contact_id!: ContactId" from contacts
           where lower(linkedin_url) in (lower($1), lower($1) || '/')
             and archived_at is null and merged_into_id is null
           limit 200"#,
        url
    )
    .fetch_all(db)
    .await
}

/// Anyone's contacts at a company.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn at_company(
    db: impl PgExecutor<'_>,
    company: CompanyId,
) -> sqlx::Result<Vec<ContactId>> {
    sqlx::query_scalar!(
        r#"select contact_id as "contact_id!: ContactId" from contacts
           where company_id = $1 and archived_at is null and merged_into_id is null
           limit 500"#,
        company as CompanyId
    )
    .fetch_all(db)
    .await
}

/// Anyone's contacts with this name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn with_name(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Vec<ContactId>> {
    sqlx::query_scalar!(
        r#"select contact_id as "contact_id!: ContactId" from contacts
           where lower(name) = lower($1) and archived_at is null and merged_into_id is null
           limit 200"#,
        name
    )
    .fetch_all(db)
    .await
}

/// One way to a prospect, as the viewer may see it: the names of a holder's contacts the
/// viewer may not see are withheld.
#[derive(Debug, Clone)]
pub struct PathRow {
    pub holder_id: UserId,
    pub holder_name: String,
    /// Whether the viewer may see the holder's contacts.
    pub visible: bool,
    pub connector_id: Option<ContactId>,
    pub connector_name: Option<String>,
    pub prospect_id: ContactId,
    pub prospect_name: Option<String>,
    pub prospect_title: Option<String>,
    pub prospect_email: Option<String>,
    pub prospect_phone: Option<String>,
    pub company_id: Option<CompanyId>,
    pub company_name: Option<String>,
    pub first_strength: i16,
    pub second_strength: Option<i16>,
    pub last_touch_at: Option<OffsetDateTime>,
    pub past_intros: i64,
    pub load: i64,
}

/// Every path of at most two hops to the `targets`: each holder's own contact among them
/// (holder → prospect), and each holder's contact related to one of them (holder → connector
/// → prospect). Relationships live inside one network, so the connector is the holder's too.
/// A connector who is a target is a direct path already and is left out.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn paths(
    db: impl PgExecutor<'_>,
    viewer: UserId,
    targets: &[ContactId],
    load_since: Date,
) -> sqlx::Result<Vec<PathRow>> {
    let targets: Vec<i64> = targets.iter().map(|t| t.0).collect();
    sqlx::query_as!(
        PathRow,
        r#"with seen as (select visible_user_ids($1) as user_id),
           t as (select c.contact_id, c.owner_id, c.strength from contacts c
                 where c.contact_id = any($2) and c.archived_at is null and c.merged_into_id is null),
           hops as (
               select t.owner_id as holder, null::bigint as connector, t.contact_id as prospect,
                      null::int2 as second_strength
               from t
               union all
               select t.owner_id, r.other, t.contact_id, r.strength
               from t cross join lateral (
                   select from_contact_id as other, strength from relationships where to_contact_id = t.contact_id
                   union all
                   select to_contact_id, strength from relationships where from_contact_id = t.contact_id
               ) r
               where not (r.other = any($2))
           )
           select h.holder as "holder_id!: UserId", u.name as "holder_name!",
                  v.visible as "visible!",
                  h.connector as "connector_id?: ContactId",
                  case when v.visible then k.name end as "connector_name?",
                  h.prospect as "prospect_id!: ContactId",
                  case when v.visible then p.name end as "prospect_name?",
                  case when v.visible then p.title end as "prospect_title?",
                  case when v.visible then p.email end as "prospect_email?",
                  case when v.visible then p.phone end as "prospect_phone?",
                  co.company_id as "company_id?: CompanyId", co.name as "company_name?",
                  f.strength as "first_strength!", h.second_strength as "second_strength?",
                  f.last_touch_at as "last_touch_at?",
                  coalesce(cardinality(f.intro_ask_dates), 0)::int8 as "past_intros!",
                  case when h.connector is null and h.holder <> $1 then
                           (select count(*) from intro_requests ir
                            where ir.holder_id = h.holder and ir.created_at >= $3::date)
                       else (select count(*) from unnest(f.recent_ask_dates) d where d >= $3::date)
                  end as "load!"
           from hops h
           join users u on u.user_id = h.holder and u.deactivated_at is null
           cross join lateral (select h.holder in (select user_id from seen) as visible) v
           join contacts p on p.contact_id = h.prospect
           left join contacts k on k.contact_id = h.connector
           join contacts f on f.contact_id = coalesce(h.connector, h.prospect)
           left join companies co on co.company_id = p.company_id
           where h.connector is null or (k.archived_at is null and k.merged_into_id is null)
           limit 5000"#,
        viewer as UserId,
        &targets,
        load_since
    )
    .fetch_all(db)
    .await
}
