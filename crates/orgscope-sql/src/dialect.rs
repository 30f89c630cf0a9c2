//! The SQL dialects orgscope writes for.

use std::fmt;
use std::str::FromStr;

/// Which database the SQL is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// PostgreSQL: `$n` parameters, the visible orgs as one `text[]`.
    #[default]
    Postgres,
    /// SQLite: `?` parameters, one per visible org.
    Sqlite,
}

impl Dialect {
    /// The name used on the command line: `postgres` or `sqlite`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "postgres" | "postgresql" => Ok(Dialect::Postgres),
            "sqlite" => Ok(Dialect::Sqlite),
            _ => Err(format!(
                "unknown dialect `{s}` (expected `postgres` or `sqlite`)"
            )),
        }
    }
}
