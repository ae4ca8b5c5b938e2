//! The TT02 order tracker for the Register of Beneficial Owners: vendors order TT02 access in
//! a browser or over JSON, the order is validated, stored and mailed to the registry.

pub mod app;
pub mod auth;
pub mod config;
pub mod csv;
pub mod domain;
pub mod i18n;
pub mod mail;
pub mod maskinporten;
pub mod metrics;
pub mod registry;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
