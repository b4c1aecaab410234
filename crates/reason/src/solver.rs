//! Satisfiability of [`Formula`]s behind a trait, with Z3 as the backend.

use crate::ir::{Cmp, Formula, Re, Sort, Term, Var, Vars};
use std::collections::{BTreeMap, HashMap, HashSet};
use z3::ast::{Bool as ZBool, Int as ZInt, String as ZString, BV};

/// The value of one variable in a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i128),
    Bool(bool),
    Bv(u128),
}

/// A satisfying assignment: the action class and every variable's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    pub action_class: usize,
    pub values: BTreeMap<Var, Value>,
}

impl Model {
    /// The string value of `v` (empty when the formula left it free).
    pub fn string(&self, v: Var) -> String {
        match self.values.get(&v) {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        }
    }

    /// The integer value of `v` (0 when free).
    pub fn int(&self, v: Var) -> i128 {
        match self.values.get(&v) {
            Some(Value::Int(i)) => *i,
            _ => 0,
        }
    }

    /// The boolean value of `v` (false when free).
    pub fn bool(&self, v: Var) -> bool {
        matches!(self.values.get(&v), Some(Value::Bool(true)))
    }

    /// The bit-vector value of `v` (0 when free).
    pub fn bv(&self, v: Var) -> u128 {
        match self.values.get(&v) {
            Some(Value::Bv(b)) => *b,
            _ => 0,
        }
    }
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

/// Decides formulas over a query's variables.
pub trait Solver {
    /// Whether `formula` holds for some action class below `classes` and some values of `vars`.
    fn check(&mut self, formula: &Formula, vars: &Vars, classes: usize) -> Sat;

    /// An equivalent formula, possibly smaller (a question that asks many times about one
    /// part simplifies it once).
    fn simplify(&mut self, formula: &Formula) -> Formula {
        formula.clone()
    }
}

/// Z3 (the system's libz3) with a per-query timeout, and our own regular-expression
/// procedure. Queries go to Z3 as SMT-LIB 2 text (`Solver::from_string`): the binding for
/// bookworm's Z3 lacks `re.allchar` and friends, the parser has them.
///
/// Z3 4.8.12 is slow on regular-expression intersections and often times out on several
/// memberships of one string (`r ∈ A ∧ ¬(r ∈ B)`), so string memberships never reach it: the
/// action is fixed class by class; conjuncts over one string alone are decided by derivatives
/// ([`Re::witness`]); anything else is solved lazily: Z3 chooses truth values for the string
/// atoms (as fresh booleans) together with the numbers, booleans and addresses, each group of
/// related strings is then checked (one intersection per string by derivatives, or Z3 when a
/// policy-variable split relates two strings), and a conflict is minimised, blocked and Z3
/// asked again.
#[derive(Clone, Debug)]
pub struct Z3 {
    pub timeout_ms: u32,
    /// How many conflicts one action class may block before the answer is unknown.
    pub max_rounds: usize,
    /// When set, checks after this instant are answered unknown (a server's budget per
    /// request: an analysis never holds a worker longer, give or take one Z3 timeout).
    pub deadline: Option<std::time::Instant>,
    /// Membership answers, kept across the checks of one solver (a question's queries repeat
    /// the same intersections).
    memo: Memo,
}

impl Default for Z3 {
    fn default() -> Z3 {
        Z3 { timeout_ms: 10_000, max_rounds: 2_000, deadline: None, memo: Memo::new() }
    }
}

impl Solver for Z3 {
    /// One check in a session of its own (a question that asks several should run them in
    /// one [`Z3::session`]: setting Z3 up costs more than most checks).
    fn check(&mut self, formula: &Formula, vars: &Vars, classes: usize) -> Sat {
        self.session(|s| s.check(formula, vars, classes))
    }
}

impl Z3 {
    /// A solver whose checks stop being answered after `budget` from now.
    pub fn with_budget(budget: std::time::Duration) -> Z3 {
        let deadline = std::time::Instant::now().checked_add(budget);
        // Z3's own timeout never outlasts the budget.
        let timeout_ms = u32::try_from(budget.as_millis()).unwrap_or(u32::MAX).clamp(1, 10_000);
        Z3 { timeout_ms, deadline, ..Z3::default() }
    }

    /// Runs `f` with one Z3 context and two incremental solvers (the skeleton and the string
    /// groups) for all its checks: each check pushes a scope and pops it, so Z3's set-up
    /// (several milliseconds per solver) is paid once per session instead of per check.
    pub fn session<R>(&mut self, f: impl FnOnce(&mut dyn Solver) -> R) -> R {
        // Made on first use: many questions are answered without Z3.
        let ctx = std::cell::OnceCell::new();
        let backend = Backend {
            timeout_ms: self.timeout_ms,
            deadline: self.deadline,
            ctx: &ctx,
            skeleton: std::cell::OnceCell::new(),
            strings: std::cell::OnceCell::new(),
        };
        let mut session = Session {
            max_rounds: self.max_rounds,
            deadline: self.deadline,
            backend,
            memo: std::mem::take(&mut self.memo),
            dirty: false,
        };
        let answer = f(&mut session);
        self.memo = session.memo;
        answer
    }
}

/// Z3's context and the two solvers a session reuses, each made on first use.
struct Backend<'ctx> {
    timeout_ms: u32,
    /// The session's deadline, also checked between rounds of the lazy loop.
    deadline: Option<std::time::Instant>,
    ctx: &'ctx std::cell::OnceCell<z3::Context>,
    /// The lazy loop's boolean, integer and bit-vector skeleton.
    skeleton: std::cell::OnceCell<z3::Solver<'ctx>>,
    /// String groups with policy-variable splits.
    strings: std::cell::OnceCell<z3::Solver<'ctx>>,
}

impl<'ctx> Backend<'ctx> {
    fn ctx(&self) -> &'ctx z3::Context {
        self.ctx.get_or_init(|| {
            let mut cfg = z3::Config::new();
            cfg.set_model_generation(true);
            cfg.set_timeout_msec(u64::from(self.timeout_ms));
            z3::Context::new(&cfg)
        })
    }

    fn skeleton(&self) -> &z3::Solver<'ctx> {
        self.skeleton.get_or_init(|| z3::Solver::new(self.ctx()))
    }

    fn strings(&self) -> &z3::Solver<'ctx> {
        self.strings.get_or_init(|| z3::Solver::new(self.ctx()))
    }

    /// Forgets every assertion (after a check that may have left a scope pushed).
    fn reset(&self) {
        if let Some(s) = self.skeleton.get() {
            s.reset();
        }
        if let Some(s) = self.strings.get() {
            s.reset();
        }
    }

    /// `solver` with a scope pushed for the duration of `f`.
    fn scoped<R>(solver: &z3::Solver<'ctx>, f: impl FnOnce(&z3::Solver<'ctx>) -> R) -> R {
        solver.push();
        let answer = f(solver);
        solver.pop(1);
        answer
    }
}

/// The checks of one [`Z3::session`].
struct Session<'ctx> {
    max_rounds: usize,
    deadline: Option<std::time::Instant>,
    backend: Backend<'ctx>,
    memo: Memo,
    /// A check panicked between a push and its pop: the solvers are reset before the next.
    dirty: bool,
}

impl Solver for Session<'_> {
    fn simplify(&mut self, formula: &Formula) -> Formula {
        propagate(&mut self.memo, formula, true)
    }

    fn check(&mut self, formula: &Formula, vars: &Vars, classes: usize) -> Sat {
        if self.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Sat::Unknown("the analysis ran out of its time budget".into());
        }
        // Bounded memory: a long-lived solver forgets what it knew past this many answers.
        if self.memo.len() > 200_000 {
            self.memo.clear();
        }
        if self.dirty {
            self.backend.reset();
            self.dirty = false;
        }
        // The binding panics on a Z3 error: an error is an unknown answer, never a crash.
        self.dirty = true;
        let mut memo = std::mem::take(&mut self.memo);
        let run = std::panic::AssertUnwindSafe(|| {
            each_class(self.max_rounds, &self.backend, &mut memo, formula, vars, classes)
        });
        let answer = std::panic::catch_unwind(run)
            .unwrap_or_else(|_| Sat::Unknown("the solver failed on this query".into()));
        self.memo = memo;
        if !matches!(answer, Sat::Unknown(_)) {
            self.dirty = false;
        }
        answer
    }
}

fn each_class(
    max_rounds: usize,
    z: &Backend<'_>,
    memo: &mut Memo,
    formula: &Formula,
    vars: &Vars,
    classes: usize,
) -> Sat {
    let mut unknown: Option<String> = None;
    let mut tried: HashSet<Formula> = HashSet::new();
    for class in 0..classes {
        // With the action fixed, many formulas fold to `false`: no query for those.
        let specialized = specialize(formula, class);
        if specialized == Formula::False || !tried.insert(specialized.clone()) {
            continue;
        }
        match solve(max_rounds, z, memo, &specialized, vars) {
            Sat::Yes(model) => return Sat::Yes(Model { action_class: class, ..model }),
            Sat::No => {}
            Sat::Unknown(why) => unknown = Some(why),
        }
    }
    unknown.map_or(Sat::No, Sat::Unknown)
}

/// Solves an action-free formula. Top-level conjuncts over one string variable that nothing
/// else mentions are solved on their own, as one membership.
fn solve<'ctx>(
    max_rounds: usize,
    z: &Backend<'ctx>,
    memo: &mut Memo,
    f: &Formula,
    vars: &Vars,
) -> Sat {
    let f = &propagate(memo, f, false);
    if *f == Formula::False {
        return Sat::No;
    }
    let conjuncts: Vec<&Formula> = match f {
        Formula::And(parts) => parts.iter().collect(),
        other => vec![other],
    };
    let mentions: Vec<(Vec<Var>, bool)> = conjuncts.iter().map(|c| mentioned(c)).collect();
    let pure = |m: &(Vec<Var>, bool), v: Var| !m.1 && m.0.as_slice() == [v];
    let mut alone: BTreeMap<Var, Vec<&Formula>> = BTreeMap::new();
    let mut rest: Vec<Formula> = Vec::new();
    for (c, m) in conjuncts.iter().zip(&mentions) {
        let single = match m.0.as_slice() {
            [v] if pure(m, *v) && mentions.iter().all(|o| !o.0.contains(v) || pure(o, *v)) => {
                Some(*v)
            }
            _ => None,
        };
        match single {
            Some(v) => alone.entry(v).or_default().push(c),
            None => rest.push((*c).clone()),
        }
    }
    let mut values = BTreeMap::new();
    for (v, parts) in alone {
        let re = Re::inter(parts.into_iter().map(as_re).collect());
        match member_memo(memo, re) {
            Sat::Yes(word) => {
                values.insert(v, Value::Str(word.string(0)));
            }
            other => return other,
        }
    }
    if rest.is_empty() {
        return Sat::Yes(Model { action_class: 0, values });
    }
    let f = Formula::and(rest);
    let mut atoms: Vec<Formula> = Vec::new();
    let mut natives = false;
    collect_atoms(&f, &mut atoms, &mut natives);
    let lazy =
        |skeleton: &z3::Solver<'ctx>| lazily(max_rounds, z, skeleton, memo, &f, vars, &atoms);
    match Backend::scoped(z.skeleton(), lazy) {
        Sat::Yes(mut m) => {
            m.values.extend(values);
            Sat::Yes(m)
        }
        other => other,
    }
}

/// `f` with the atoms its top-level literals decide folded: where the language a string
/// variable is confined to (the intersection of its top-level memberships) is disjoint from an
/// atom's, the atom is false; where it lies inside, true; likewise for address ranges and
/// booleans. Most of a large policy's statements name principals, resources or values the
/// question has already ruled out; Z3 never sees them. Without `thorough` only the cheap tests
/// run (literal prefixes, one word against a language); with it, intersections are searched
/// too (for a part a question simplifies once and asks about many times).
fn propagate(memo: &mut Memo, f: &Formula, thorough: bool) -> Formula {
    let Formula::And(conjuncts) = f else { return f.clone() };
    // The top-level literals: memberships per variable, and address ranges and booleans with
    // their polarity. They stay as they are; the other conjuncts are folded against them.
    let mut units: BTreeMap<Var, Vec<Re>> = BTreeMap::new();
    let mut natives: Vec<(&Formula, bool)> = Vec::new();
    let mut is_unit: Vec<bool> = Vec::with_capacity(conjuncts.len());
    for c in conjuncts {
        let (atom, holds) = match c {
            Formula::Not(inner) => (inner.as_ref(), false),
            other => (other, true),
        };
        match atom {
            Formula::In(v, re) => {
                let re = if holds { re.clone() } else { Re::comp(re.clone()) };
                units.entry(*v).or_default().push(re);
            }
            Formula::Bool(_) | Formula::BvTop { .. } => natives.push((atom, holds)),
            _ => {
                is_unit.push(false);
                continue;
            }
        }
        is_unit.push(true);
    }
    if units.is_empty() && natives.is_empty() {
        return f.clone();
    }
    // Per variable: its language and what is known of atoms against it (taken out of the
    // memo for the walk: hashing a large language once, not per atom).
    let mut langs: BTreeMap<Var, (Re, HashMap<Re, Option<bool>>)> = units
        .into_iter()
        .map(|(v, res)| {
            let lang = Re::inter(res);
            let known = memo.decided.remove(&lang).unwrap_or_default();
            (v, (lang, known))
        })
        .collect();
    let mut parts = Vec::with_capacity(conjuncts.len());
    for (c, unit) in conjuncts.iter().zip(is_unit) {
        if unit {
            parts.push(c.clone());
            continue;
        }
        parts.push(fold_atoms(c, &mut |atom| match atom {
            Formula::In(v, re) => {
                let (lang, known) = langs.get_mut(v)?;
                if let Some(answer) = known.get(re) {
                    return *answer;
                }
                let answer = if lang.disjoint_by_prefix(re) {
                    Some(false)
                } else if let Re::Lit(text) = re {
                    // One word: outside the language, the atom is false; inside, the variable
                    // may still hold another word.
                    if lang.accepts(text) {
                        None
                    } else {
                        Some(false)
                    }
                } else if !thorough {
                    None
                } else if member_memo(memo, Re::inter(vec![lang.clone(), re.clone()])) == Sat::No {
                    Some(false)
                } else if member_memo(memo, Re::inter(vec![lang.clone(), Re::comp(re.clone())]))
                    == Sat::No
                {
                    Some(true)
                } else {
                    None
                };
                // An undecided answer of the cheap tests is not the thorough one.
                if thorough || answer.is_some() {
                    known.insert(re.clone(), answer);
                }
                answer
            }
            other => natives.iter().find_map(|(u, holds)| native_implies(u, *holds, other)),
        }));
    }
    for (lang, known) in langs.into_values() {
        memo.decided.insert(lang, known);
    }
    Formula::and(parts)
}

/// What a top-level boolean or address-range literal (`unit` holding iff `holds`) says of
/// `atom`, if anything.
fn native_implies(unit: &Formula, holds: bool, atom: &Formula) -> Option<bool> {
    // The top `k` bits of `x`.
    let top = |x: u128, k: u8| if k == 0 { 0 } else { x >> (128 - u32::from(k.min(128))) };
    match (unit, atom) {
        (Formula::Bool(u), Formula::Bool(a)) if u == a => Some(holds),
        (
            Formula::BvTop { var: u, bits: ub, value: uv },
            Formula::BvTop { var: a, bits: ab, value: av },
        ) if u == a => {
            let shared = (*ub).min(*ab);
            if holds {
                // Inside the unit's range: an overlapping range is entered by it...
                if top(*uv, shared) != top(*av, shared) {
                    Some(false)
                } else if ab <= ub {
                    Some(true)
                } else {
                    None
                }
            } else if ab >= ub && top(*uv, *ub) == top(*av, *ub) {
                // Outside the unit's range: never inside a range within it.
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `f` with each atom `decide` settles replaced by its truth value, folded.
fn fold_atoms(f: &Formula, decide: &mut dyn FnMut(&Formula) -> Option<bool>) -> Formula {
    match f {
        Formula::In(..) | Formula::Bool(_) | Formula::BvTop { .. } => {
            decide(f).map_or_else(|| f.clone(), Formula::from)
        }
        Formula::Not(inner) => fold_atoms(inner, decide).negate(),
        Formula::And(parts) => Formula::and(parts.iter().map(|p| fold_atoms(p, decide)).collect()),
        Formula::Or(parts) => Formula::or(parts.iter().map(|p| fold_atoms(p, decide)).collect()),
        other => other.clone(),
    }
}

/// The lazy loop: Z3 picks truth values for the string atoms, the strings are checked group
/// by group, conflicts are blocked.
fn lazily<'ctx>(
    max_rounds: usize,
    z: &Backend<'ctx>,
    skeleton: &z3::Solver<'ctx>,
    memo: &mut Memo,
    f: &Formula,
    vars: &Vars,
    atoms: &[Formula],
) -> Sat {
    let index: HashMap<&Formula, usize> = atoms.iter().enumerate().map(|(i, a)| (a, i)).collect();
    let mut decls = String::new();
    for v in 0..vars.len() {
        match vars.sort(v) {
            Sort::Str => {}
            Sort::Int => decls.push_str(&format!("(declare-const x{v} Int)\n")),
            Sort::Bool => decls.push_str(&format!("(declare-const x{v} Bool)\n")),
            Sort::Bv => decls.push_str(&format!("(declare-const x{v} (_ BitVec 128))\n")),
        }
    }
    for i in 0..atoms.len() {
        decls.push_str(&format!("(declare-const p{i} Bool)\n"));
    }
    let mut text = decls.clone();
    text.push_str("(assert ");
    write_formula(f, &index, &mut text);
    text.push_str(")\n");
    let ctx = z.ctx();
    skeleton.from_string(text);
    let groups = groups(atoms);
    for round in 0..max_rounds {
        if z.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Sat::Unknown("the analysis ran out of its time budget".into());
        }
        // Many conflicts: tell Z3 how the memberships relate, once.
        if round == RELATE_AFTER || (round == 0 && atoms.len() >= RELATE_EARLY) {
            let mut clauses = decls.clone();
            clauses.push_str(&relations(memo, atoms));
            skeleton.from_string(clauses);
        }
        match skeleton.check() {
            z3::SatResult::Unsat => return Sat::No,
            z3::SatResult::Unknown => return Sat::Unknown(reason(skeleton)),
            z3::SatResult::Sat => {}
        }
        let Some(model) = skeleton.get_model() else {
            return Sat::Unknown("the model could not be read".into());
        };
        let truth: Vec<bool> = (0..atoms.len())
            .map(|i| {
                model
                    .eval(&ZBool::new_const(ctx, format!("p{i}")), true)
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false)
            })
            .collect();
        let mut values = BTreeMap::new();
        let mut conflict = None;
        for (members, group_vars) in &groups {
            let literals: Vec<(usize, bool)> =
                members.iter().map(|i| (*i, truth.get(*i).copied().unwrap_or(false))).collect();
            match check_group(z, memo, atoms, &literals, group_vars) {
                Sat::Yes(m) => values.extend(m.values),
                Sat::Unknown(why) => return Sat::Unknown(why),
                Sat::No => {
                    conflict = Some(minimise(z, memo, atoms, literals, group_vars));
                    break;
                }
            }
        }
        match conflict {
            Some(core) => {
                let mut block = decls.clone();
                block.push_str("(assert (not (and true");
                for (i, polarity) in core {
                    block.push_str(&if polarity {
                        format!(" p{i}")
                    } else {
                        format!(" (not p{i})")
                    });
                }
                block.push_str(")))\n");
                skeleton.from_string(block);
            }
            None => {
                for v in 0..vars.len() {
                    let name = format!("x{v}");
                    let value = match vars.sort(v) {
                        Sort::Str => continue,
                        Sort::Bool => model
                            .eval(&ZBool::new_const(ctx, name), true)
                            .and_then(|b| b.as_bool())
                            .map(Value::Bool),
                        Sort::Int => model
                            .eval(&ZInt::new_const(ctx, name), true)
                            .and_then(|i| parse_int(&i.to_string()))
                            .map(Value::Int),
                        Sort::Bv => model
                            .eval(&BV::new_const(ctx, name, 128), true)
                            .and_then(|b| parse_bv(&b.to_string()))
                            .map(Value::Bv),
                    };
                    match value {
                        Some(value) => {
                            values.insert(v, value);
                        }
                        None => return Sat::Unknown("the model could not be read".into()),
                    }
                }
                return Sat::Yes(Model { action_class: 0, values });
            }
        }
    }
    Sat::Unknown(format!("more than {max_rounds} string conflicts"))
}

fn reason(s: &z3::Solver<'_>) -> String {
    s.get_reason_unknown().unwrap_or_else(|| "unknown".into())
}

/// Membership answers already worked out (the lazy loop and a question's queries ask the same
/// again), and [`propagate`]'s decisions per confining language and atom.
#[derive(Clone, Debug, Default)]
struct Memo {
    answers: HashMap<Re, Sat>,
    decided: HashMap<Re, HashMap<Re, Option<bool>>>,
}

impl Memo {
    fn new() -> Memo {
        Memo::default()
    }

    fn len(&self) -> usize {
        self.answers.len() + self.decided.values().map(HashMap::len).sum::<usize>()
    }

    fn clear(&mut self) {
        self.answers.clear();
        self.decided.clear();
    }
}

fn member_memo(memo: &mut Memo, re: Re) -> Sat {
    if let Some(known) = memo.answers.get(&re) {
        return known.clone();
    }
    let answer = member(&re);
    memo.answers.insert(re, answer.clone());
    answer
}

/// Whether some string is in `re`, decided by derivatives (Z3 4.8.12 is slow on regex
/// intersections); the model holds the word as variable 0.
fn member(re: &Re) -> Sat {
    match re.witness(MAX_STATES) {
        Ok(Some(word)) => {
            Sat::Yes(Model { action_class: 0, values: BTreeMap::from([(0, Value::Str(word))]) })
        }
        Ok(None) => Sat::No,
        Err(_) => {
            Sat::Unknown(format!("a regular expression needed more than {MAX_STATES} states"))
        }
    }
}

/// Most derivatives one membership check may visit.
const MAX_STATES: usize = 50_000;

/// The language of a formula over one string variable's memberships.
fn as_re(f: &Formula) -> Re {
    match f {
        Formula::True => Re::all(),
        Formula::Not(inner) => Re::comp(as_re(inner)),
        Formula::And(parts) => Re::inter(parts.iter().map(as_re).collect()),
        Formula::Or(parts) => Re::union(parts.iter().map(as_re).collect()),
        Formula::In(_, re) => re.clone(),
        _ => Re::none(),
    }
}

/// Conflicts after which [`relations`] are worked out.
const RELATE_AFTER: usize = 16;

/// String atoms from which [`relations`] are worked out before the first round.
const RELATE_EARLY: usize = 24;

/// What the languages of memberships on the same string say about each other, as clauses
/// over their proxies: an empty or universal language fixes its atom; disjoint languages
/// exclude each other; a language inside another implies it. Telling Z3 up front saves a
/// conflict round per pair (a policy's resource patterns are mostly disjoint).
fn relations(memo: &mut Memo, atoms: &[Formula]) -> String {
    /// Pairs beyond this many atoms on one variable are left to the lazy loop.
    const MAX_ATOMS: usize = 400;
    let mut per_var: BTreeMap<Var, Vec<(usize, &Re)>> = BTreeMap::new();
    for (i, a) in atoms.iter().enumerate() {
        if let Formula::In(v, re) = a {
            per_var.entry(*v).or_default().push((i, re));
        }
    }
    let mut empty = |re: Re| member_memo(memo, re) == Sat::No;
    let mut out = String::new();
    for list in per_var.values().filter(|l| l.len() <= MAX_ATOMS) {
        for (i, a) in list {
            if empty((*a).clone()) {
                out.push_str(&format!("(assert (not p{i}))\n"));
            } else if empty(Re::comp((*a).clone())) {
                out.push_str(&format!("(assert p{i})\n"));
            }
        }
        for (n, (i, a)) in list.iter().enumerate() {
            for (j, b) in list.iter().skip(n + 1) {
                if a.disjoint_by_prefix(b) || empty(Re::inter(vec![(*a).clone(), (*b).clone()])) {
                    out.push_str(&format!("(assert (or (not p{i}) (not p{j})))\n"));
                    continue;
                }
                if empty(Re::inter(vec![(*a).clone(), Re::comp((*b).clone())])) {
                    out.push_str(&format!("(assert (or (not p{i}) p{j}))\n"));
                }
                if empty(Re::inter(vec![(*b).clone(), Re::comp((*a).clone())])) {
                    out.push_str(&format!("(assert (or (not p{j}) p{i}))\n"));
                }
            }
        }
    }
    out
}

/// Drops literals of an unsatisfiable string group while it stays unsatisfiable, so the
/// blocking clause rules out more than one assignment.
fn minimise(
    z: &Backend<'_>,
    memo: &mut Memo,
    atoms: &[Formula],
    literals: Vec<(usize, bool)>,
    vars: &[Var],
) -> Vec<(usize, bool)> {
    let memberships = literals.iter().all(|(i, _)| matches!(atoms.get(*i), Some(Formula::In(..))));
    let mut literals = if memberships { prune(atoms, &literals) } else { literals };
    if memberships {
        // A conflict of one or two memberships is the usual case: look for it first.
        let re = |(i, polarity): &(usize, bool)| match atoms.get(*i) {
            Some(Formula::In(v, re)) => {
                Some((*v, if *polarity { re.clone() } else { Re::comp(re.clone()) }))
            }
            _ => None,
        };
        let langs: Vec<Option<(Var, Re)>> = literals.iter().map(re).collect();
        for (n, a) in langs.iter().enumerate() {
            let Some((va, ra)) = a else { continue };
            if member_memo(memo, ra.clone()) == Sat::No {
                return literals.get(n).into_iter().copied().collect();
            }
            for (m, b) in langs.iter().enumerate().skip(n + 1) {
                let Some((vb, rb)) = b else { continue };
                if va != vb {
                    continue;
                }
                let disjoint = ra.disjoint_by_prefix(rb)
                    || (literals.len() <= 64
                        && member_memo(memo, Re::inter(vec![ra.clone(), rb.clone()])) == Sat::No);
                if disjoint {
                    return [literals.get(n), literals.get(m)]
                        .into_iter()
                        .flatten()
                        .copied()
                        .collect();
                }
            }
        }
    }
    if literals.len() > 24 {
        return literals;
    }
    let mut i = 0;
    while i < literals.len() {
        let mut without = literals.clone();
        without.remove(i);
        if check_group(z, memo, atoms, &without, vars) == Sat::No {
            literals = without;
        } else {
            i += 1;
        }
    }
    literals
}

/// Membership literals without the negative ones a positive one on the same variable already
/// implies (their languages are disjoint by prefix): they change nothing.
fn prune(atoms: &[Formula], literals: &[(usize, bool)]) -> Vec<(usize, bool)> {
    let positives: Vec<(Var, &Re)> = literals
        .iter()
        .filter(|(_, p)| *p)
        .filter_map(|(i, _)| match atoms.get(*i) {
            Some(Formula::In(v, re)) => Some((*v, re)),
            _ => None,
        })
        .collect();
    literals
        .iter()
        .filter(|(i, polarity)| {
            *polarity
                || !matches!(atoms.get(*i), Some(Formula::In(v, re))
                    if positives.iter().any(|(pv, p)| pv == v && p.disjoint_by_prefix(re)))
        })
        .copied()
        .collect()
}

/// The string atoms with their truth values as assertions: one membership per variable (the
/// intersection of its literals' languages and complements), and the splits as they are.
fn string_query(atoms: &[Formula], literals: &[(usize, bool)]) -> String {
    let mut per_var: BTreeMap<Var, Vec<String>> = BTreeMap::new();
    let mut out = String::new();
    for (i, polarity) in literals {
        match atoms.get(*i) {
            Some(Formula::In(v, re)) => {
                let mut text = String::new();
                write_re(re, &mut text);
                if !polarity {
                    text = format!("(re.comp {text})");
                }
                per_var.entry(*v).or_default().push(text);
            }
            Some(Formula::Split { var, head, tail }) => {
                let mut h = String::from("(str.++ \"\"");
                for t in head {
                    match t {
                        Term::Lit(text) => h.push_str(&format!(" \"{}\"", escape(text))),
                        Term::Var(v) => h.push_str(&format!(" x{v}")),
                    }
                }
                h.push(')');
                let mut t = String::new();
                write_re(tail, &mut t);
                let split = format!(
                    "(and (str.prefixof {h} x{var}) (str.in_re (str.substr x{var} (str.len {h}) (str.len x{var})) {t}))"
                );
                if *polarity {
                    out.push_str(&format!("(assert {split})\n"));
                } else {
                    out.push_str(&format!("(assert (not {split}))\n"));
                }
            }
            _ => {}
        }
    }
    for (v, res) in per_var {
        let re = match res.len() {
            1 => res.concat(),
            _ => format!("(re.inter {})", res.join(" ")),
        };
        out.push_str(&format!("(assert (str.in_re x{v} {re}))\n"));
    }
    out
}

/// Checks a group's literals: one membership per variable by derivatives when the group has
/// only memberships, else Z3.
fn check_group(
    z: &Backend<'_>,
    memo: &mut Memo,
    atoms: &[Formula],
    literals: &[(usize, bool)],
    vars: &[Var],
) -> Sat {
    let splits = literals.iter().any(|(i, _)| matches!(atoms.get(*i), Some(Formula::Split { .. })));
    if splits {
        let answer = Backend::scoped(z.strings(), |solver| {
            strings(z.ctx(), solver, &string_query(atoms, literals), vars)
        });
        return match answer {
            Sat::Yes(m) if !satisfies(atoms, literals, &m) => Sat::Unknown(
                "Z3's strings for a policy variable do not satisfy their constraints".into(),
            ),
            other => other,
        };
    }
    let mut per_var: BTreeMap<Var, Vec<Re>> = BTreeMap::new();
    for (i, polarity) in &prune(atoms, literals) {
        if let Some(Formula::In(v, re)) = atoms.get(*i) {
            per_var.entry(*v).or_default().push(if *polarity {
                re.clone()
            } else {
                Re::comp(re.clone())
            });
        }
    }
    let mut values = BTreeMap::new();
    for (v, res) in per_var {
        match member_memo(memo, Re::inter(res)) {
            Sat::Yes(m) => {
                values.insert(v, Value::Str(m.string(0)));
            }
            other => return other,
        }
    }
    Sat::Yes(Model { action_class: 0, values })
}

/// Whether `model`'s strings make each literal hold as it says, checked here rather than
/// trusted: a query Z3 could not parse leaves its solver without those assertions, and the
/// values it then gives mean nothing.
fn satisfies(atoms: &[Formula], literals: &[(usize, bool)], model: &Model) -> bool {
    let value = |v: &Var| match model.values.get(v) {
        Some(Value::Str(s)) => Some(s.as_str()),
        _ => None,
    };
    literals.iter().all(|(i, polarity)| {
        let holds = match atoms.get(*i) {
            Some(Formula::In(v, re)) => value(v).map(|text| re.accepts(text)),
            Some(Formula::Split { var, head, tail }) => {
                let mut prefix = String::new();
                let complete = head.iter().all(|t| match t {
                    Term::Lit(text) => {
                        prefix.push_str(text);
                        true
                    }
                    Term::Var(v) => value(v).map(|text| prefix.push_str(text)).is_some(),
                });
                match value(var) {
                    Some(text) if complete => Some(
                        text.strip_prefix(prefix.as_str()).is_some_and(|rest| tail.accepts(rest)),
                    ),
                    _ => None,
                }
            }
            _ => None,
        };
        holds == Some(*polarity)
    })
}

/// Checks string assertions over `vars` in `solver` and reads their values.
fn strings<'ctx>(
    ctx: &'ctx z3::Context,
    solver: &z3::Solver<'ctx>,
    assertions: &str,
    vars: &[Var],
) -> Sat {
    let mut text = String::new();
    for v in vars {
        text.push_str(&format!("(declare-const x{v} String)\n"));
    }
    text.push_str(assertions);
    solver.from_string(text);
    match solver.check() {
        z3::SatResult::Unsat => Sat::No,
        z3::SatResult::Unknown => Sat::Unknown(reason(solver)),
        z3::SatResult::Sat => {
            let Some(model) = solver.get_model() else {
                return Sat::Unknown("the model could not be read".into());
            };
            let mut values = BTreeMap::new();
            for v in vars {
                let text = model
                    .eval(&ZString::new_const(ctx, format!("x{v}")), true)
                    .and_then(|s| s.as_string());
                match text {
                    Some(text) => {
                        values.insert(*v, Value::Str(unescape(&text)));
                    }
                    None => return Sat::Unknown("the model could not be read".into()),
                }
            }
            Sat::Yes(Model { action_class: 0, values })
        }
    }
}

/// The string variables `f` mentions, and whether it mentions anything else (numbers,
/// booleans, addresses).
fn mentioned(f: &Formula) -> (Vec<Var>, bool) {
    fn walk(f: &Formula, out: &mut (Vec<Var>, bool)) {
        let mut add = |v: Var| {
            if !out.0.contains(&v) {
                out.0.push(v);
            }
        };
        match f {
            Formula::True | Formula::False | Formula::ActionIn(_) => {}
            Formula::Not(inner) => walk(inner, out),
            Formula::And(parts) | Formula::Or(parts) => parts.iter().for_each(|p| walk(p, out)),
            Formula::In(v, _) => add(*v),
            Formula::Split { var, head, .. } => {
                add(*var);
                for t in head {
                    if let Term::Var(v) = t {
                        add(*v);
                    }
                }
                // A split is not a membership: it never goes alone.
                out.1 = true;
            }
            Formula::Int(..) | Formula::Bool(_) | Formula::BvTop { .. } => out.1 = true,
        }
    }
    let mut out = (Vec::new(), false);
    walk(f, &mut out);
    out
}

/// The string atoms (`In`, `Split`) of `f`, each once; `natives` says whether it has others.
fn collect_atoms(f: &Formula, atoms: &mut Vec<Formula>, natives: &mut bool) {
    match f {
        Formula::True | Formula::False | Formula::ActionIn(_) => {}
        Formula::Not(inner) => collect_atoms(inner, atoms, natives),
        Formula::And(parts) | Formula::Or(parts) => {
            parts.iter().for_each(|p| collect_atoms(p, atoms, natives))
        }
        Formula::In(..) | Formula::Split { .. } => {
            if !atoms.contains(f) {
                atoms.push(f.clone());
            }
        }
        Formula::Int(..) | Formula::Bool(_) | Formula::BvTop { .. } => *natives = true,
    }
}

/// The string atoms grouped by shared variables: (atom indexes, variables) per group.
fn groups(atoms: &[Formula]) -> Vec<(Vec<usize>, Vec<Var>)> {
    let mut out: Vec<(Vec<usize>, Vec<Var>)> = Vec::new();
    for (i, atom) in atoms.iter().enumerate() {
        // Each variable once (`mentioned` lists them so): `strings` declares them, and a key
        // compared with its own variable (`${aws:PrincipalTag/team}`) names one twice.
        let mut mine: Vec<Var> = match atom {
            Formula::In(..) | Formula::Split { .. } => mentioned(atom).0,
            _ => continue,
        };
        let mut members = vec![i];
        // Merge every group that shares a variable with this atom.
        let mut k = 0;
        while k < out.len() {
            if out.get(k).is_some_and(|(_, vs)| vs.iter().any(|v| mine.contains(v))) {
                let (m, vs) = out.remove(k);
                members.extend(m);
                for v in vs {
                    if !mine.contains(&v) {
                        mine.push(v);
                    }
                }
            } else {
                k += 1;
            }
        }
        members.sort_unstable();
        out.push((members, mine));
    }
    out
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

/// An SMT-LIB boolean term for `f`, string atoms as their proxies `p<index>`.
fn write_formula(f: &Formula, index: &HashMap<&Formula, usize>, out: &mut String) {
    let list = |op: &str, unit: &str, parts: &[Formula], out: &mut String| {
        out.push('(');
        out.push_str(op);
        out.push(' ');
        out.push_str(unit);
        for p in parts {
            out.push(' ');
            write_formula(p, index, out);
        }
        out.push(')');
    };
    match f {
        Formula::True => out.push_str("true"),
        // Never reached after `specialize`; false is the closed answer.
        Formula::False | Formula::ActionIn(_) => out.push_str("false"),
        Formula::Not(inner) => {
            out.push_str("(not ");
            write_formula(inner, index, out);
            out.push(')');
        }
        Formula::And(parts) => list("and", "true", parts, out),
        Formula::Or(parts) => list("or", "false", parts, out),
        Formula::In(..) | Formula::Split { .. } => match index.get(f) {
            Some(i) => out.push_str(&format!("p{i}")),
            None => out.push_str("false"),
        },
        Formula::Int(v, cmp, c) => {
            let op = match cmp {
                Cmp::Eq => "=",
                Cmp::Lt => "<",
                Cmp::Le => "<=",
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
            };
            let c = if *c < 0 { format!("(- {})", c.unsigned_abs()) } else { c.to_string() };
            out.push_str(&format!("({op} x{v} {c})"));
        }
        Formula::Bool(v) => out.push_str(&format!("x{v}")),
        Formula::BvTop { var, bits, value } => {
            if *bits == 0 {
                out.push_str("true");
            } else {
                let bits = (*bits).min(128);
                let top: String = (0..bits)
                    .map(|i| if (value >> (127 - i)) & 1 == 1 { '1' } else { '0' })
                    .collect();
                out.push_str(&format!(
                    "(= ((_ extract 127 {}) x{var}) #b{top})",
                    128 - u32::from(bits)
                ));
            }
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
        Re::Range(lo, hi) => out.push_str(&format!(
            "(re.range \"{}\" \"{}\")",
            escape(&lo.to_string()),
            escape(&hi.to_string())
        )),
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
        Re::Inter(parts) => {
            out.push_str("(re.inter re.all");
            for p in parts {
                out.push(' ');
                write_re(p, out);
            }
            out.push(')');
        }
        Re::Comp(inner) => {
            out.push_str("(re.comp ");
            write_re(inner, out);
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

/// An SMT-LIB integer as Z3 prints it: `12` or `(- 12)`.
fn parse_int(text: &str) -> Option<i128> {
    let t = text.trim();
    match t.strip_prefix("(-").and_then(|r| r.strip_suffix(')')) {
        Some(inner) => inner.trim().parse::<i128>().ok().map(|n| -n),
        None => t.parse().ok(),
    }
}

/// An SMT-LIB bit-vector literal: `#x…` or `#b…`.
fn parse_bv(text: &str) -> Option<u128> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("#x") {
        u128::from_str_radix(hex, 16).ok()
    } else if let Some(bin) = t.strip_prefix("#b") {
        u128::from_str_radix(bin, 2).ok()
    } else {
        None
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

    /// The truth of `f` under an assignment of words to strings, addresses to 128-bit
    /// variables and booleans (only the atoms `propagate` folds).
    fn eval(
        f: &Formula,
        words: &BTreeMap<Var, &str>,
        ips: &BTreeMap<Var, u128>,
        bools: &BTreeMap<Var, bool>,
    ) -> bool {
        match f {
            Formula::True => true,
            Formula::False => false,
            Formula::Not(inner) => !eval(inner, words, ips, bools),
            Formula::And(parts) => parts.iter().all(|p| eval(p, words, ips, bools)),
            Formula::Or(parts) => parts.iter().any(|p| eval(p, words, ips, bools)),
            Formula::In(v, re) => re.accepts(words[v]),
            Formula::Bool(v) => bools[v],
            Formula::BvTop { var, bits, value } => {
                *bits == 0 || (ips[var] ^ value) >> (128 - u32::from(*bits)) == 0
            }
            other => panic!("{other:?}"),
        }
    }

    /// `propagate` (both modes) keeps every formula's truth under every assignment of a small
    /// domain: units of every kind and polarity against atoms of every kind.
    #[test]
    fn propagation_is_equivalence() {
        let v4 = |a: u32, p: u8| Formula::BvTop {
            var: 2,
            bits: 96 + p,
            value: 0xffffu128 << 32 | u128::from(a),
        };
        let ranges = [
            v4(10 << 24, 8),
            v4(10 << 24 | 1 << 16, 16),
            v4(10 << 24, 16),
            v4(11 << 24, 8),
            Formula::BvTop { var: 2, bits: 0, value: 0 },
            Formula::BvTop {
                var: 2,
                bits: 128,
                value: 0xffffu128 << 32 | 10 << 24 | 1 << 16 | 2 << 8 | 3,
            },
        ];
        let lit = |t: &str| Re::Lit(t.into());
        let star = |t: &str| Re::Concat(vec![Re::Lit(t.into()), Re::Star(Box::new(Re::AnyChar))]);
        let langs = [
            lit("a"),
            lit("ab"),
            star("a"),
            star("b"),
            Re::all(),
            Re::union(vec![lit("a"), lit("b:")]),
        ];
        let mut atoms: Vec<Formula> = Vec::new();
        atoms.extend(ranges.iter().cloned());
        atoms.extend(langs.iter().map(|re| Formula::In(0, re.clone())));
        atoms.extend(langs.iter().map(|re| Formula::In(1, re.clone())));
        atoms.push(Formula::Bool(3));
        let mut units: Vec<Formula> = Vec::new();
        for a in &atoms {
            units.push(a.clone());
            units.push(a.clone().negate());
        }
        let words = ["", "a", "ab", "b", "b:", "a:x"];
        let addresses: Vec<u128> =
            [10u32 << 24 | 1 << 16 | 2 << 8 | 3, 10 << 24 | 2 << 16 | 1, 11 << 24 | 1, 12 << 24]
                .iter()
                .map(|a| 0xffffu128 << 32 | u128::from(*a))
                .chain([1u128])
                .collect();
        let mut memo = Memo::new();
        let mut checked = 0;
        // A second unit: none, or one of every fourth.
        let seconds: Vec<Formula> =
            std::iter::once(Formula::True).chain(units.iter().step_by(4).cloned()).collect();
        for u in &units {
            for w in &seconds {
                for a in &atoms {
                    // The atom under a disjunction (not a unit itself), either way round.
                    for atom in [a.clone(), a.clone().negate()] {
                        let f = Formula::And(vec![
                            u.clone(),
                            w.clone(),
                            Formula::Or(vec![atom, Formula::Bool(4)]),
                        ]);
                        for thorough in [false, true] {
                            let g = propagate(&mut memo, &f, thorough);
                            for w0 in words {
                                for w1 in ["", "ab", "b:"] {
                                    for ip in &addresses {
                                        for b in [false, true] {
                                            let words = BTreeMap::from([(0, w0), (1, w1)]);
                                            let ips = BTreeMap::from([(2, *ip)]);
                                            let bools = BTreeMap::from([(3, b), (4, false)]);
                                            assert_eq!(
                                                eval(&f, &words, &ips, &bools),
                                                eval(&g, &words, &ips, &bools),
                                                "{f:?}\n{g:?}\n{w0} {w1} {ip:x} {b}"
                                            );
                                            checked += 1;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn a_key_compared_with_its_own_variable_is_checked() {
        // `aws:PrincipalTag/team` (x5) like `${aws:PrincipalTag/team}`, and a resource (x0)
        // under `bucket/${aws:PrincipalTag/team}/`: one group, each variable declared once.
        let own = Formula::Split { var: 5, head: vec![Term::Var(5)], tail: Re::concat(vec![]) };
        let home = Formula::Split {
            var: 0,
            head: vec![Term::Lit("bucket/".into()), Term::Var(5)],
            tail: Re::concat(vec![Re::Lit("/".into()), Re::all()]),
        };
        let atoms =
            vec![own, home, Formula::In(0, Re::concat(vec![Re::Lit("bucket/".into()), Re::all()]))];
        assert_eq!(groups(&atoms), vec![(vec![0, 1, 2], vec![0, 5])]);
        // Z3's answer is taken only if it satisfies the literals.
        let model = |x0: &str, x5: &str| Model {
            action_class: 0,
            values: BTreeMap::from([(0, Value::Str(x0.into())), (5, Value::Str(x5.into()))]),
        };
        let literals = [(0, true), (1, false), (2, true)];
        assert!(satisfies(&atoms, &literals, &model("bucket/x", "red")));
        assert!(!satisfies(&atoms, &literals, &model("bucket/red/x", "red")));
        assert!(!satisfies(&atoms, &literals, &model("", "")));
        assert!(!satisfies(&atoms, &[(0, false)], &model("", "")));
        // The same literals, solved.
        let mut z = Z3::default();
        let f = Formula::and(vec![atoms[0].clone(), atoms[1].clone().negate(), atoms[2].clone()]);
        let mut vars = Vars::default();
        for v in 0..6 {
            vars.add(format!("s{v}"), Sort::Str);
        }
        let Sat::Yes(m) = z.check(&f, &vars, 1) else { panic!("no model") };
        assert!(satisfies(&atoms, &literals, &m), "{m:?}");
    }

    #[test]
    fn escapes_round_trip() {
        for text in ["plain", "a\\b", "é", "\u{e000}x", "tab\there"] {
            assert_eq!(unescape(&escape(text)), text);
        }
        assert_eq!(unescape("\\u00e9"), "é");
    }

    #[test]
    fn literals_parse() {
        assert_eq!(parse_int("(- 12)"), Some(-12));
        assert_eq!(parse_int("7"), Some(7));
        assert_eq!(parse_bv("#x00ff"), Some(255));
        assert_eq!(parse_bv("#b101"), Some(5));
    }

    #[test]
    fn strings_numbers_and_addresses_together() {
        let mut vars = Vars::default();
        let r = vars.add("resource", Sort::Str);
        let n = vars.add("n", Sort::Int);
        let ip = vars.add("ip", Sort::Bv);
        let bucket = Re::Concat(vec![Re::Lit("arn:aws:s3:::b/".into()), Re::all()]);
        let public = Re::Concat(vec![Re::Lit("arn:aws:s3:::b/public/".into()), Re::all()]);
        // In the bucket, outside public/, n ≥ 5 only outside public/, ip in 10.0.0.0/8 (mapped).
        let f = Formula::and(vec![
            Formula::In(r, bucket.clone()),
            Formula::In(r, public.clone()).negate(),
            Formula::Or(vec![Formula::In(r, public), Formula::Int(n, Cmp::Ge, 5)]),
            Formula::BvTop { var: ip, bits: 104, value: (0xffffu128 << 32) | (10u128 << 24) },
        ]);
        let Sat::Yes(m) = Z3::default().check(&f, &vars, 1) else { panic!("expected sat") };
        assert!(m.string(r).starts_with("arn:aws:s3:::b/"), "{m:?}");
        assert!(!m.string(r).starts_with("arn:aws:s3:::b/public/"), "{m:?}");
        assert!(m.int(n) >= 5);
        assert_eq!(m.bv(ip) >> 24, (0xffffu128 << 8) | 10);
        // Contradictory string atoms come back unsatisfiable through the lazy loop.
        let g = Formula::and(vec![
            Formula::In(r, bucket.clone()),
            Formula::In(r, Re::Lit("x".into())),
            Formula::Int(n, Cmp::Ge, 5),
        ]);
        assert_eq!(Z3::default().check(&g, &vars, 1), Sat::No);
    }
}
