//! The evaluation's record: the rule that decided, the trace steps (when explaining), warnings.

use crate::compile::{Compiled, RuleId};
use crate::decision::{TraceStep, Warning};

/// What an evaluation records as it goes; steps are only formatted when explaining.
pub(super) struct Tracer<'r> {
    p: &'r Compiled,
    /// The trace, when explaining.
    pub steps: Option<Vec<TraceStep>>,
    /// The rule that decided so far.
    pub decided: Option<RuleId>,
    /// Warnings for the decision.
    pub warnings: Vec<Warning>,
}

impl<'r> Tracer<'r> {
    pub fn new(p: &'r Compiled, explain: bool) -> Self {
        Tracer {
            p,
            steps: explain.then(Vec::new),
            decided: None,
            warnings: Vec::new(),
        }
    }

    /// Whether steps are recorded.
    pub fn explaining(&self) -> bool {
        self.steps.is_some()
    }

    /// Records a trace step; step and outcome are only formatted when explaining. Inlined so
    /// that a decision not explained pays one test per step, not a call.
    #[inline]
    pub fn step(
        &mut self,
        rule: Option<RuleId>,
        step: impl std::fmt::Display,
        outcome: impl FnOnce() -> String,
    ) {
        if self.steps.is_some() {
            self.record(rule, step.to_string(), outcome());
        }
    }

    #[cold]
    fn record(&mut self, rule: Option<RuleId>, step: String, outcome: String) {
        let rule = rule.and_then(|r| self.p.rule(r)).map(|r| r.to_string());
        if let Some(steps) = &mut self.steps {
            steps.push(TraceStep {
                rule,
                step,
                outcome,
            });
        }
    }

    /// `rule` decides (so far): it becomes the decision's rule, and a trace step.
    #[inline]
    pub fn decide(
        &mut self,
        rule: RuleId,
        step: impl std::fmt::Display,
        outcome: impl FnOnce() -> String,
    ) {
        self.decided = Some(rule);
        self.step(Some(rule), step, outcome);
    }

    pub fn warn(&mut self, code: &'static str, message: String) {
        self.warnings.push(Warning { code, message });
    }
}
