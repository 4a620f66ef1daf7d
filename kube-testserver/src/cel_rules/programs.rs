//! Compiled CEL expressions, kept with the CRD version whose schema holds them: parsing a rule
//! costs many times what running it does, and every write of a custom resource runs them all.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use cel::{Env, Program};

/// An expression as compiled, or the compiler's message.
pub(super) type Compiled = Result<CompiledRule, String>;

/// A compiled expression and what the server asks of it before running it.
pub(super) struct CompiledRule {
    pub(super) program: Program,
    /// Whether it reads `oldSelf`, which makes it a transition rule.
    pub(super) uses_old_self: bool,
}

/// What the CEL expressions of one schema compile to, each compiled the first time it runs.
/// Clones share the programs; a changed CRD makes new kinds, and so new programs.
#[derive(Clone, Default)]
pub struct Programs(Arc<Mutex<HashMap<String, Arc<Compiled>>>>);

impl Programs {
    pub(super) fn compiled(&self, env: &Env, expression: &str) -> Arc<Compiled> {
        // A panic while compiling leaves at worst an expression not yet cached.
        let mut programs = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(compiled) = programs.get(expression) {
            return Arc::clone(compiled);
        }
        let compiled = Arc::new(
            env.compile(expression)
                .map_err(|e| e.to_string())
                .map(|program| CompiledRule {
                    uses_old_self: program.references().has_variable("oldSelf"),
                    program,
                }),
        );
        programs.insert(expression.to_owned(), Arc::clone(&compiled));
        compiled
    }
}

impl fmt::Debug for Programs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.lock().map_or(0, |programs| programs.len());
        write!(f, "Programs({count} compiled)")
    }
}
