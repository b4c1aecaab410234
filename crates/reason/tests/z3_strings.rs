#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The Z3 binding works against the system library: string constants, regex membership for IAM
//! wildcards, and models read back as strings (decision 006, section 1.4).

use z3::ast::{Ast, Regexp, String as ZString};
use z3::{Config, Context, SatResult, Solver};

#[test]
fn a_wildcard_is_a_regex_and_models_read_back() {
    let cfg = Config::new();
    let ctx = Context::new(&cfg);
    let solver = Solver::new(&ctx);
    let action = ZString::new_const(&ctx, "action");
    // s3:Get* as a regex, and not the one action we name.
    let pattern = Regexp::concat(&ctx, &[&Regexp::literal(&ctx, "s3:get"), &Regexp::full(&ctx)]);
    solver.assert(&action.regex_matches(&pattern));
    solver.assert(&action._eq(&ZString::from_str(&ctx, "s3:getobject").unwrap()).not());
    assert_eq!(solver.check(), SatResult::Sat);
    let model = solver.get_model().unwrap();
    let value = model.eval(&action, true).unwrap().as_string().unwrap();
    assert!(value.starts_with("s3:get") && value != "s3:getobject", "{value}");
    // Nothing outside the pattern: unsatisfiable.
    solver.assert(&action.prefix(&ZString::from_str(&ctx, "iam:").unwrap()));
    assert_eq!(solver.check(), SatResult::Unsat);
}

#[test]
fn non_ascii_and_backslash_round_trip() {
    let cfg = Config::new();
    let ctx = Context::new(&cfg);
    for text in ["\\\\", "\\u{e9}", "a\\u{e000}b"] {
        let solver = Solver::new(&ctx);
        let v = ZString::new_const(&ctx, "v");
        solver.assert(&v._eq(&ZString::from_str(&ctx, text).unwrap()));
        assert_eq!(solver.check(), SatResult::Sat);
        let model = solver.get_model().unwrap();
        let got = model.eval(&v, true).unwrap().as_string().unwrap();
        println!("{text:?} -> {got:?}");
    }
}

/// Whether Z3 reads `\u{e9}` as one character (é) or as the six characters written: a string
/// holding only that escape starts with a backslash only in the second case.
#[test]
fn a_unicode_escape_is_one_character() {
    let cfg = Config::new();
    let ctx = Context::new(&cfg);
    let solver = Solver::new(&ctx);
    let escaped = ZString::from_str(&ctx, "\\u{e9}").unwrap();
    let backslash = ZString::from_str(&ctx, "\\").unwrap();
    solver.assert(&backslash.prefix(&escaped));
    assert_eq!(solver.check(), SatResult::Unsat, "\\u{{e9}} is read as the text written");
}

/// A solver past its budget answers unknown, with the reason, and never a wrong `no`.
#[test]
fn a_spent_budget_is_unknown() {
    let p = policy::parse_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    )
    .unwrap();
    let mut spent = reason::Z3::with_budget(std::time::Duration::ZERO);
    let answer = spent.session(|s| reason::grants(&p, &["s3:GetObject"], &["arn:aws:s3:::c/*"], s));
    assert!(
        matches!(&answer, reason::Answer::Unknown(why) if why.contains("time budget")),
        "{answer:?}"
    );
    let mut ample = reason::Z3::with_budget(std::time::Duration::from_secs(60));
    let answer = ample.session(|s| reason::grants(&p, &["s3:GetObject"], &["arn:aws:s3:::c/*"], s));
    assert_eq!(answer, reason::Answer::No);
}
