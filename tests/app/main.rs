//! Warmline's test suite: one binary, each module a feature, every test over HTTP against a
//! real PostgreSQL (a throwaway cluster per run, a fresh database per test).

mod accounts;
mod api;
mod asks;
mod browser;
mod calendar;
mod cli;
mod common;
mod contacts;
mod dashboard;
mod embedded;
mod health;
mod imports;
mod lifecycle;
mod merge;
mod paths;
mod security;
mod server;
mod sweeper;
mod walk;
mod web_shell;
mod webhooks;
