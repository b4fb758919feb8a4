//! ATM Maintenance: field technicians' visit reports with photos that are never lost.
#![forbid(unsafe_code)]

pub mod allocator;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod filing;
pub mod http;
pub mod limits;
pub mod ops;
pub mod reports;
pub mod server;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod web;
