//! The integration tests, one binary (each extra binary would link the whole dependency graph
//! again): every module starts the real `atm-maint` on port 0 with its own data dir and a fresh
//! database (`common`), and drives it over HTTP, the command line and, for the pages, a real
//! browser.

// A failed unwrap in a test is a failed test, with its location.
#![allow(clippy::unwrap_used)]
// A test binary has no public API: `pub` here only lets the modules share the harness.
#![allow(unreachable_pub)]

mod api_contract;
mod api_drafts;
mod api_security;
mod api_uploads;
mod api_workflow;
mod audit;
mod backup;
mod browser;
mod cleanup;
mod common;
mod crash_safety;
mod disk_full;
mod django_import;
mod evidence;
mod exports;
mod fsck;
mod hardening;
mod insights;
mod media_serving;
mod metrics;
mod notifications;
mod openapi;
mod previews;
mod reports;
mod restart;
mod router;
mod s3;
mod storage_guard;
mod web_session;
