//! orgscope decisions as SQL: parameterized filters, PostgreSQL row-level security, scoped queries.
//!
//! A [`Mapping`] (a TOML file beside the policy, docs/data.md) says which table and which org
//! column hold each object type. From a [`Decision`](orgscope::Decision):
//! - [`filter`] gives a `WHERE` predicate on one table, org names only as bind parameters;
//! - [`rls`] gives PostgreSQL row-level security DDL, and [`rls::settings`] the per-transaction
//!   statement that tells it what is visible;
//! - [`scope`] rewrites a caller's SELECT so every mapped table it reads is filtered.
//!
//! Every path fails closed: a deny sees no rows, an unknown table or function is refused.
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod dialect;
mod filter;
mod ident;
mod mapping;
pub mod rls;
mod scope;

pub use dialect::Dialect;
pub use filter::{filter, Filter, Param, Predicate};
pub use ident::pg_text_array;
pub use mapping::{MappedTable, Mapping, MappingError, TableName};
pub use scope::{scope, ScopeError, ScopedQuery, MAX_QUERY_BYTES};
