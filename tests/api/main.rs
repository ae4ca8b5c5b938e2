//! One integration-test binary: the real app over HTTP, a real SMTP listener, real databases.

mod helpers;

mod admin;
mod api;
mod certificate;
mod cli;
mod faults;
mod fields;
mod form;
mod grant;
mod journey;
mod mail;
mod maskinporten;
mod metrics;
mod nynorsk;
mod openapi;
mod outbox;
mod pages;
mod pki;
mod preparation_api;
mod purge;
mod registry;
mod stats;
mod storage;
mod track;
mod transport;
mod tt02_loading;
mod vendor_api;
