//! Satisfiability of [`Formula`]s behind a trait, with Z3 as the backend.

use crate::ir::{Formula, Re};
use z3::ast::String as ZString;

/// A satisfying assignment: the request's resource and action class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub resource: String,
    pub action_class: usize,
}

/// What a solver says about a formula.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sat {
    /// Satisfiable, with a model.
    Yes(Model),
    /// Proved unsatisfiable.
    No,
    /// Neither (a timeout, or the solver gave up), with its reason.
    Unknown(String),
}

/// Decides formulas over the request variables.
pub trait Solver {
    /// Whether `formula` holds for some resource (any string) and some action class below
    /// `classes`.
    fn check(&mut self, formula: &Formula, classes: usize) -> Sat;
}

/// Z3 (the system's libz3) with a per-query timeout. The query goes to Z3 as SMT-LIB 2 text
/// (`Solver::from_string`): the binding for bookworm's Z3 lacks `re.allchar` and friends, the
/// parser has them, and Z3 proves regex inclusions fast in this form.
#[derive(Clone, Debug)]
pub struct Z3 {
    pub timeout_ms: u32,
}

impl Default for Z3 {
    fn default() -> Z3 {
        Z3 { timeout_ms: 10_000 }
    }
}

impl Solver for Z3 {
    fn check(&mut self, formula: &Formula, classes: usize) -> Sat {
        // The binding panics on a Z3 error: an error is an unknown answer, never a crash.
        let run = std::panic::AssertUnwindSafe(|| self.run(formula, classes));
        std::panic::catch_unwind(run)
            .unwrap_or_else(|_| Sat::Unknown("the solver failed on this query".into()))
    }
}

impl Z3 {
    /// One query per action class: with the action fixed, what is left is a boolean
    /// combination of the resource's regex memberships, which goes to Z3 as **one** membership
    /// in a regex built with intersection, union and complement. Z3 4.8.12 decides that form
    /// quickly; the same constraints as separate assertions often time out.
    fn run(&self, formula: &Formula, classes: usize) -> Sat {
        let mut cfg = z3::Config::new();
        cfg.set_model_generation(true);
        cfg.set_timeout_msec(u64::from(self.timeout_ms));
        let ctx = z3::Context::new(&cfg);
        let mut unknown: Option<String> = None;
        let mut tried: Vec<String> = Vec::new();
        for class in 0..classes {
            // With the action fixed, many formulas fold to `false`: no query for those.
            let specialized = specialize(formula, class);
            if specialized == Formula::False {
                continue;
            }
            let mut re = String::new();
            write_resource_re(&specialized, class, &mut re);
            if tried.contains(&re) {
                continue;
            }
            match member(&ctx, &re) {
                Sat::Yes(model) => return Sat::Yes(Model { action_class: class, ..model }),
                Sat::No => {}
                Sat::Unknown(why) => unknown = Some(why),
            }
            tried.push(re);
        }
        unknown.map_or(Sat::No, Sat::Unknown)
    }
}

/// Whether some resource is in the regex (SMT-LIB text), in a fresh solver of `ctx`.
fn member(ctx: &z3::Context, re: &str) -> Sat {
    let solver = z3::Solver::new(ctx);
    solver.from_string(format!(
        "(declare-const resource String)\n(assert (str.in_re resource {re}))\n"
    ));
    let resource = ZString::new_const(ctx, "resource");
    match solver.check() {
        z3::SatResult::Unsat => Sat::No,
        z3::SatResult::Unknown => {
            Sat::Unknown(solver.get_reason_unknown().unwrap_or_else(|| "unknown".into()))
        }
        z3::SatResult::Sat => {
            let text = solver
                .get_model()
                .and_then(|m| m.eval(&resource, true))
                .and_then(|v| v.as_string());
            match text {
                Some(text) => Sat::Yes(Model { resource: unescape(&text), action_class: 0 }),
                None => Sat::Unknown("the model could not be read".into()),
            }
        }
    }
}

/// `f` with the action fixed to `class`, folded.
fn specialize(f: &Formula, class: usize) -> Formula {
    match f {
        Formula::ActionIn(classes) => {
            if classes.contains(&class) {
                Formula::True
            } else {
                Formula::False
            }
        }
        Formula::Not(inner) => specialize(inner, class).negate(),
        Formula::And(parts) => Formula::and(parts.iter().map(|p| specialize(p, class)).collect()),
        Formula::Or(parts) => Formula::or(parts.iter().map(|p| specialize(p, class)).collect()),
        other => other.clone(),
    }
}

/// The resources for which `f` holds when the action is `class`, as one SMT-LIB regex.
fn write_resource_re(f: &Formula, class: usize, out: &mut String) {
    let list = |op: &str, empty: &str, parts: &[Formula], out: &mut String| {
        if parts.is_empty() {
            out.push_str(empty);
            return;
        }
        out.push('(');
        out.push_str(op);
        for p in parts {
            out.push(' ');
            write_resource_re(p, class, out);
        }
        if parts.len() == 1 {
            // `re.inter`/`re.union` take two or more operands.
            out.push_str(if op == "re.inter" { " re.all" } else { " re.none" });
        }
        out.push(')');
    };
    match f {
        Formula::True => out.push_str("re.all"),
        Formula::False => out.push_str("re.none"),
        Formula::Not(inner) => {
            out.push_str("(re.comp ");
            write_resource_re(inner, class, out);
            out.push(')');
        }
        Formula::And(parts) => list("re.inter", "re.all", parts, out),
        Formula::Or(parts) => list("re.union", "re.none", parts, out),
        Formula::ResourceIn(re) => write_re(re, out),
        Formula::ActionIn(classes) => {
            out.push_str(if classes.contains(&class) { "re.all" } else { "re.none" })
        }
    }
}

fn write_re(re: &Re, out: &mut String) {
    match re {
        Re::Lit(text) => {
            out.push_str("(str.to_re \"");
            out.push_str(&escape(text));
            out.push_str("\")");
        }
        Re::AnyChar => out.push_str("re.allchar"),
        Re::NoColon => out.push_str("(re.inter re.allchar (re.comp (str.to_re \":\")))"),
        Re::Star(inner) if **inner == Re::AnyChar => out.push_str("re.all"),
        Re::Star(inner) => {
            out.push_str("(re.* ");
            write_re(inner, out);
            out.push(')');
        }
        Re::Concat(parts) if parts.is_empty() => out.push_str("(str.to_re \"\")"),
        Re::Concat(parts) if parts.len() == 1 => parts.iter().for_each(|p| write_re(p, out)),
        Re::Concat(parts) => {
            out.push_str("(re.++");
            for p in parts {
                out.push(' ');
                write_re(p, out);
            }
            out.push(')');
        }
        Re::Union(parts) if parts.is_empty() => out.push_str("re.none"),
        Re::Union(parts) if parts.len() == 1 => parts.iter().for_each(|p| write_re(p, out)),
        Re::Union(parts) => {
            out.push_str("(re.union");
            for p in parts {
                out.push(' ');
                write_re(p, out);
            }
            out.push(')');
        }
    }
}

/// SMT-LIB string literals: printable ASCII but `\` and `"` as is, every other character as
/// `\u{HEX}` (which also keeps NUL out of the C strings the binding makes).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (' '..='~').contains(&c) && c != '\\' && c != '"' {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    out
}

/// Undoes Z3's escapes in a model's string (`\u{HEX}`, and `\uHHHH` as older versions print).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\\u") {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 2..).unwrap_or_default();
        let (hex, skip) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (inner.get(..end).unwrap_or_default(), end + 2),
                None => ("", 0),
            }
        } else {
            (after.get(..4).unwrap_or_default(), 4)
        };
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            Some(c) if skip > 0 => {
                out.push(c);
                rest = after.get(skip..).unwrap_or_default();
            }
            _ => {
                out.push_str("\\u");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        for text in ["plain", "a\\b", "é", "\u{e000}x", "tab\there"] {
            assert_eq!(unescape(&escape(text)), text);
        }
        assert_eq!(unescape("\\u00e9"), "é");
    }
}
