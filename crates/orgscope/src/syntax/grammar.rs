//! Stage 0 — grammar: pest generates the parser from `grammar/orgscope.pest`.
#![allow(missing_docs)]

#[derive(pest_derive::Parser)]
#[grammar = "syntax/orgscope.pest"]
pub(crate) struct PolicyParser;
