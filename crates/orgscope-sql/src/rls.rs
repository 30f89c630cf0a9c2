//! PostgreSQL row-level security: DDL from the mapping, per-transaction settings from a decision.
//!
//! The policies read what is visible from transaction-local settings, so one set of DDL serves
//! every request: the application runs [`SET_SETTINGS`] with [`settings`]' values at the start of
//! each transaction. Without the settings (or after the transaction) nothing is visible and
//! nothing can be written.

use crate::ident::{self, pg_text_array};
use crate::Mapping;
use orgscope::Decision;
use serde::Serialize;

/// The name of the row-level security policy orgscope creates on each mapped table.
pub const POLICY_NAME: &str = "orgscope_visible";

/// The statement that sets what the current transaction may see and write; bind
/// [`Settings::params`] to it, in order. `set_config(…, true)` lasts until the transaction ends.
pub const SET_SETTINGS: &str = "SELECT set_config('orgscope.visible_orgs', $1, true), \
set_config('orgscope.include_unlabeled', $2, true), \
set_config('orgscope.label_orgs', $3, true), \
set_config('orgscope.label_unlabeled', $4, true)";

/// The values for [`SET_SETTINGS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// [`SET_SETTINGS`].
    pub sql: &'static str,
    /// The visible orgs (a `text[]` literal), `on`/`off` for unlabeled rows, the orgs new rows
    /// may carry (a `text[]` literal), `on`/`off` for unlabeled new rows.
    pub params: [String; 4],
}

/// Why a decision cannot be expressed as row-level security settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("multi-org is off for this request: row-level security cannot express every org")]
pub struct MultiOrgOff;

/// The settings for `decision`. A deny sees and writes nothing. Multi-Org off (`visible_orgs`
/// null) is an error: the policies can only list orgs, so such requests must read through a
/// role the policies do not apply to, or not at all.
pub fn settings(decision: &Decision) -> Result<Settings, MultiOrgOff> {
    let on = |b: bool| if b { "on" } else { "off" }.to_string();
    if !decision.is_allow() {
        return Ok(Settings {
            sql: SET_SETTINGS,
            params: [pg_text_array(&[]), on(false), pg_text_array(&[]), on(false)],
        });
    }
    let visible = decision.visible_org_names().ok_or(MultiOrgOff)?;
    let labels: Vec<&str> = decision
        .labels
        .iter()
        .filter_map(|l| l.org.as_deref())
        .collect();
    let unlabeled_labels = decision.labels.iter().any(|l| l.org.is_none());
    Ok(Settings {
        sql: SET_SETTINGS,
        params: [
            pg_text_array(&visible),
            on(decision.include_unlabeled),
            pg_text_array(&labels),
            on(unlabeled_labels),
        ],
    })
}

/// The condition that a row's org is in the set named by `orgs` (a `text[]` setting), or is
/// NULL while the `unlabeled` setting is `on`. A missing or empty setting is the empty set.
/// The settings are read in scalar subqueries, so PostgreSQL reads and parses them once per
/// query (an InitPlan), not once per row (the outer cast makes `ANY` take the subquery's value
/// as an array, not as a set of rows). The condition is written as two conjuncts, not as
/// `org = ANY (…) OR (org IS NULL AND <unlabeled>)`: the first is exactly what the org index's
/// `BitmapOr` returns, so PostgreSQL does not re-check it on every row, and only the second, a
/// cheap NULL test, stays a per-row filter (docs/data.md measures the difference).
fn condition(column: &str, orgs: &str, unlabeled: &str) -> String {
    let orgs = ident::literal(orgs);
    let unlabeled = ident::literal(unlabeled);
    format!(
        "({column} = ANY ((SELECT COALESCE(NULLIF(current_setting({orgs}, true), ''), '{{}}')::text[])::text[]) \
         OR {column} IS NULL) \
         AND ({column} IS NOT NULL OR (SELECT current_setting({unlabeled}, true) IS NOT DISTINCT FROM 'on'))"
    )
}

/// The DDL that puts row-level security on every mapped table: `ENABLE` and `FORCE` (so the
/// table's owner is subject to it too), and one policy whose `USING` is the visible set and
/// whose `WITH CHECK` is the create labels. Rerunning it replaces the policies.
pub fn ddl(mapping: &Mapping) -> String {
    let mut out = String::new();
    for t in mapping.tables() {
        let table = t.table.quoted();
        let column = ident::quote(&t.org_column);
        let policy = ident::quote(POLICY_NAME);
        out.push_str(&format!(
            "-- object type `{}`\n\
             ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n\
             ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n\
             DROP POLICY IF EXISTS {policy} ON {table};\n\
             CREATE POLICY {policy} ON {table} FOR ALL\n  USING ({})\n  WITH CHECK ({});\n",
            t.object,
            condition(
                &column,
                "orgscope.visible_orgs",
                "orgscope.include_unlabeled"
            ),
            condition(&column, "orgscope.label_orgs", "orgscope.label_unlabeled"),
        ));
    }
    out
}
