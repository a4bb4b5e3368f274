//! Warmline, a referral-selling CRM server. A short tour of the code, whose layers are, top
//! down: commands and the route table; features, each with handlers (parse, call one service
//! function, render) and a service (every write: validation, transaction, audit); the web
//! glue; `db` (SQL); `domain` (types and rules everyone shares).

/// Accounts: setup, login, users, passwords.
pub mod accounts;
/// The JSON API under `/api/v1`.
pub mod api;
/// Referral asks: logging, the stage flow, events, the close-the-loop checklist.
pub mod asks;
/// Backups of the whole database, daily and on demand, and restoring them.
pub mod backup;
/// `/calendar/{secret}.ics`: follow-ups as a feed for the rep's own calendar.
pub mod calendar;
/// The command line: `serve`, `migrate`, ….
pub mod cli;
/// Settings from flags and the environment.
pub mod config;
/// Contacts and relationships: the rep's network, import and export.
pub mod contacts;
/// `/dashboard`: the program's metrics, rep scorecards and coaching notes.
pub mod dashboard;
/// The database: pool, migrations, and where the server comes from.
pub mod db;
/// `warmline demo`: a demo organisation for trying Warmline out.
pub mod demo;
/// Domain types and rules shared by every layer: ids, users and roles, stages and event kinds,
/// follow-up kinds, contacts, field messages, service errors, dates. Imports no feature, no
/// web and no database.
pub mod domain;
/// A private PostgreSQL cluster run from the system's server binaries.
pub mod embedded_pg;
/// `/follow-ups`: what a rep owes; done and postpone.
pub mod followups;
/// `/healthz` and `/readyz`.
pub mod health;
/// Sending e-mail over SMTP.
pub mod mail;
/// `/notifications`.
pub mod notifications;
/// Warm paths through the team's networks, introduction requests, companies.
pub mod paths;
/// The route table: every feature's routes behind the shared layers.
pub mod router;
/// `warmline seed`: bulk synthetic data for benchmarks.
pub mod seed;
/// `warmline serve`: HTTP, background tasks and orderly shutdown.
pub mod server;
/// `/settings`: profile, password, sessions, API tokens.
pub mod settings;
/// State shared by all handlers.
pub mod state;
/// The overdue sweeper, escalation and digest e-mails.
pub mod sweeper;
/// `/team`: users, roles, managers and targets (admins).
pub mod team;
/// Logging setup.
pub mod telemetry;
/// `warmline upgrade-db`: the embedded cluster moved to a newer PostgreSQL.
pub mod upgrade;
/// Shared web glue: layers, errors, the page context, auth extractors, static assets.
pub mod web;
/// Webhooks: endpoints, the outbox the database writes, and its delivery.
pub mod webhooks;
/// `/`, My week: the quick log form and what is due.
pub mod week;

pub use router::app;
