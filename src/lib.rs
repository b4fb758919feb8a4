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
mod filing;
pub mod http;
mod limits;
mod ops;
mod reports;
mod server;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
mod web;
