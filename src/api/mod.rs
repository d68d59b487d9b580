//! The operation table and the request plumbing every Graph handler shares. Each Graph
//! operation is one [`table::Operation`] row — method, path template, operation id, permission,
//! query options, request/reply description, handler — from which [`dispatch`] routes,
//! authorises and parses, and `crate::openapi` writes the document. The multi-token rows are
//! [`rows`] (handlers in [`handlers`]); `crate::legacy` adds the single-token API's rows and
//! assembles the whole table.
//!
//! Layering: `api` uses `service`, `storage` (entity specs), `domain`, `odata` and `auth`;
//! `legacy`, `openapi` and `http` use `api`, never the other way round.

pub mod catalog;
pub mod context;
pub mod dispatch;
pub mod error;
pub mod handlers;
pub mod matcher;
pub mod path;
pub mod request;
pub mod response;
pub mod rows;
pub mod table;

pub use self::request::{GraphRequest, json_object, optional_json_object};
