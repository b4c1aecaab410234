//! The formula language the encoder writes and a solver backend translates: pure values, no Z3.
//! A formula speaks of the action (an index into the query's action classes) and of typed
//! variables: strings (the resource, the caller's name, context values), integers (numbers and
//! dates, scaled), booleans, and 128-bit vectors (IP addresses).

/// A regular language.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Re {
    /// Exactly this text.
    Lit(String),
    /// Any one character.
    AnyChar,
    /// Any one character but `:`.
    NoColon,
    /// One character in this inclusive range.
    Range(char, char),
    /// Any sequence of the inner language.
    Star(Box<Re>),
    /// One after the other.
    Concat(Vec<Re>),
    /// Either (no alternatives: the empty language).
    Union(Vec<Re>),
    /// Both.
    Inter(Vec<Re>),
    /// Everything but.
    Comp(Box<Re>),
}

impl Re {
    /// Every string.
    pub fn all() -> Re {
        Re::Star(Box::new(Re::AnyChar))
    }

    /// No string.
    pub fn none() -> Re {
        Re::Union(Vec::new())
    }

    /// Whether the empty string is in the language.
    pub fn nullable(&self) -> bool {
        match self {
            Re::Lit(text) => text.is_empty(),
            Re::AnyChar | Re::NoColon | Re::Range(..) => false,
            Re::Star(_) => true,
            Re::Concat(parts) => parts.iter().all(Re::nullable),
            Re::Union(parts) => parts.iter().any(Re::nullable),
            Re::Inter(parts) => parts.iter().all(Re::nullable),
            Re::Comp(inner) => !inner.nullable(),
        }
    }

    /// The words `w` such that `prefix ++ w` is in the language (the left quotient), so that a
    /// condition on `"fixed text" ++ name` becomes a condition on `name` alone.
    pub fn after(&self, prefix: &str) -> Re {
        prefix.chars().fold(self.clone(), |re, c| re.derive(c))
    }

    /// The Brzozowski derivative by one character.
    pub(crate) fn derive(&self, c: char) -> Re {
        match self {
            Re::Lit(text) => match text.strip_prefix(c) {
                Some(rest) => Re::Lit(rest.to_string()),
                None => Re::none(),
            },
            Re::AnyChar => Re::Lit(String::new()),
            Re::NoColon if c != ':' => Re::Lit(String::new()),
            Re::Range(lo, hi) if (*lo..=*hi).contains(&c) => Re::Lit(String::new()),
            Re::NoColon | Re::Range(..) => Re::none(),
            Re::Star(inner) => Re::concat(vec![inner.derive(c), self.clone()]),
            Re::Concat(parts) => {
                let mut options = Vec::new();
                for (i, part) in parts.iter().enumerate() {
                    let mut rest = vec![part.derive(c)];
                    rest.extend(parts.iter().skip(i + 1).cloned());
                    options.push(Re::concat(rest));
                    if !part.nullable() {
                        break;
                    }
                }
                Re::union(options)
            }
            Re::Union(parts) => Re::union(parts.iter().map(|p| p.derive(c)).collect()),
            Re::Inter(parts) => Re::inter(parts.iter().map(|p| p.derive(c)).collect()),
            Re::Comp(inner) => Re::comp(inner.derive(c)),
        }
    }

    fn is_none(&self) -> bool {
        matches!(self, Re::Union(parts) if parts.is_empty())
    }

    /// A concatenation, simplified: the empty language absorbs, empty words vanish.
    pub fn concat(parts: Vec<Re>) -> Re {
        let mut kept: Vec<Re> = Vec::new();
        for part in parts {
            match part {
                p if p.is_none() => return Re::none(),
                Re::Lit(text) if text.is_empty() => {}
                Re::Concat(inner) => kept.extend(inner),
                p => kept.push(p),
            }
        }
        match kept.len() {
            0 => Re::Lit(String::new()),
            1 => kept.pop().unwrap_or_else(Re::none),
            _ => Re::Concat(kept),
        }
    }

    /// A union, simplified: empty languages and repeats vanish, the rest in a canonical order
    /// (so derivatives stay finitely many).
    pub fn union(parts: Vec<Re>) -> Re {
        let mut kept: Vec<Re> = Vec::new();
        for part in parts {
            let flat = match part {
                Re::Union(inner) => inner,
                p => vec![p],
            };
            for p in flat {
                if p == Re::all() {
                    return Re::all();
                }
                if !p.is_none() {
                    kept.push(p);
                }
            }
        }
        kept.sort();
        kept.dedup();
        if kept.len() == 1 {
            kept.pop().unwrap_or_else(Re::none)
        } else {
            Re::Union(kept)
        }
    }

    /// An intersection, simplified like [`Re::union`].
    pub fn inter(parts: Vec<Re>) -> Re {
        let mut kept: Vec<Re> = Vec::new();
        for part in parts {
            let flat = match part {
                Re::Inter(inner) => inner,
                p => vec![p],
            };
            for p in flat {
                if p.is_none() {
                    return Re::none();
                }
                if p != Re::all() {
                    kept.push(p);
                }
            }
        }
        kept.sort();
        kept.dedup();
        // One word: it, if every other part has it.
        if let Some(Re::Lit(word)) = kept.iter().find(|p| matches!(p, Re::Lit(_))) {
            let word = word.clone();
            let all = kept.iter().all(|p| p.after(&word).nullable());
            return if all { Re::Lit(word) } else { Re::none() };
        }
        match kept.len() {
            0 => Re::all(),
            1 => kept.pop().unwrap_or_else(Re::all),
            _ => Re::Inter(kept),
        }
    }

    /// A complement, simplified.
    pub fn comp(inner: Re) -> Re {
        match inner {
            Re::Comp(x) => *x,
            x if x.is_none() => Re::all(),
            x if x == Re::all() => Re::none(),
            x => Re::Comp(Box::new(x)),
        }
    }

    /// Whether the language has `text`, by one derivative per character.
    pub fn accepts(&self, text: &str) -> bool {
        let mut re = self.clone();
        for c in text.chars() {
            re = re.derive(c);
            if re == Re::none() {
                return false;
            }
        }
        re.nullable()
    }

    /// A shortest word of the language, found by breadth-first search over derivatives (one
    /// character per class of characters the language treats alike); `Ok(None)` if the
    /// language is empty, `Err` if more than `limit` derivatives were needed.
    pub fn witness(&self, limit: usize) -> Result<Option<String>, TooManyStates> {
        let start = Re::union(vec![self.clone()]);
        let mut seen: std::collections::HashMap<Re, usize> = std::collections::HashMap::new();
        let mut states: Vec<(Re, Option<(usize, char)>)> = Vec::new();
        seen.insert(start.clone(), 0);
        states.push((start, None));
        let mut next = 0;
        while let Some((state, _)) = states.get(next) {
            if state.nullable() {
                let mut word = Vec::new();
                let mut at = next;
                while let Some((_, Some((parent, c)))) = states.get(at) {
                    word.push(*c);
                    at = *parent;
                }
                return Ok(Some(word.into_iter().rev().collect()));
            }
            let state = state.clone();
            for c in &state.classes() {
                let d = state.derive(*c);
                if d.is_none() || seen.contains_key(&d) {
                    continue;
                }
                if states.len() >= limit {
                    return Err(TooManyStates);
                }
                seen.insert(d.clone(), states.len());
                states.push((d, Some((next, *c))));
            }
            next += 1;
        }
        Ok(None)
    }

    /// The text every word of the language starts with, and whether that text is the only
    /// word.
    pub fn prefix(&self) -> (String, bool) {
        match self {
            Re::Lit(t) => (t.clone(), true),
            Re::Concat(parts) => {
                let mut text = String::new();
                for p in parts {
                    let (more, exact) = p.prefix();
                    text.push_str(&more);
                    if !exact {
                        return (text, false);
                    }
                }
                (text, true)
            }
            Re::Inter(parts) => {
                // The longest prefix of the parts holds for the intersection.
                let mut best = (String::new(), false);
                for p in parts {
                    let (t, e) = p.prefix();
                    if t.len() > best.0.len() || e {
                        best = (t, e);
                    }
                }
                (best.0, best.1 && parts.len() == 1)
            }
            _ => (String::new(), false),
        }
    }

    /// Whether the two languages are disjoint by their prefixes alone (a quick, incomplete
    /// test: `false` means "not shown").
    pub fn disjoint_by_prefix(&self, other: &Re) -> bool {
        let ((a, ea), (b, eb)) = (self.prefix(), other.prefix());
        if !a.starts_with(&b) && !b.starts_with(&a) {
            return true;
        }
        (ea && b.len() > a.len()) || (eb && a.len() > b.len()) || (ea && eb && a != b)
    }

    /// One character of each class of characters the language's derivatives cannot tell apart
    /// (a readable one where the class has it): only the characters a word can start with
    /// split the alphabet.
    fn classes(&self) -> Vec<char> {
        let mut cuts: Vec<u32> = vec![0, 0x11_0000];
        self.front(&mut cuts);
        cuts.sort_unstable();
        cuts.dedup();
        let mut out = Vec::new();
        for pair in cuts.windows(2) {
            let (lo, hi) = match pair {
                [lo, hi] => (*lo, *hi),
                _ => continue,
            };
            let nice = ['a', 'x', '0', 'A', '-', ' ']
                .into_iter()
                .find(|c| (lo..hi).contains(&u32::from(*c)))
                .or_else(|| (lo..hi).find_map(char::from_u32));
            if let Some(c) = nice {
                out.push(c);
            }
        }
        out
    }

    /// The class boundaries of the characters a word can start with.
    fn front(&self, out: &mut Vec<u32>) {
        let mut char_cut = |c: char| {
            out.push(u32::from(c));
            out.push(u32::from(c) + 1);
        };
        match self {
            Re::Lit(text) => text.chars().take(1).for_each(&mut char_cut),
            Re::NoColon => char_cut(':'),
            Re::Range(lo, hi) => {
                out.push(u32::from(*lo));
                out.push(u32::from(*hi) + 1);
            }
            Re::AnyChar => {}
            Re::Star(inner) | Re::Comp(inner) => inner.front(out),
            Re::Union(parts) | Re::Inter(parts) => parts.iter().for_each(|p| p.front(out)),
            Re::Concat(parts) => {
                for p in parts {
                    p.front(out);
                    if !p.nullable() {
                        break;
                    }
                }
            }
        }
    }
}

/// A language whose search needed more derivatives than allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyStates;

/// A variable of a query: an index into its [`Vars`].
pub type Var = usize;

/// The sort of a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sort {
    Str,
    Int,
    Bool,
    /// 128 bits (an IPv6 address; IPv4 addresses are IPv4-mapped).
    Bv,
}

/// The variables of one query, with a name each for messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars {
    list: Vec<(String, Sort)>,
}

impl Vars {
    /// A new variable.
    pub fn add(&mut self, name: impl Into<String>, sort: Sort) -> Var {
        self.list.push((name.into(), sort));
        self.list.len() - 1
    }

    /// The sort of `v` (strings for an unknown index, which the encoder never makes).
    pub fn sort(&self, v: Var) -> Sort {
        self.list.get(v).map_or(Sort::Str, |(_, s)| *s)
    }

    /// The name of `v`.
    pub fn name(&self, v: Var) -> &str {
        self.list.get(v).map_or("?", |(n, _)| n.as_str())
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// A string term: text or a string variable.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Term {
    Lit(String),
    Var(Var),
}

/// An integer comparison with a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A condition on the request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Formula {
    True,
    False,
    Not(Box<Formula>),
    And(Vec<Formula>),
    Or(Vec<Formula>),
    /// The action is one of these classes.
    ActionIn(Vec<usize>),
    /// The string variable is in the language.
    In(Var, Re),
    /// The string variable starts with the concatenation of `head`, and the rest of it is in
    /// `tail` (a resource pattern with policy variables).
    Split {
        var: Var,
        head: Vec<Term>,
        tail: Re,
    },
    /// The integer variable compared with a constant.
    Int(Var, Cmp, i128),
    /// The boolean variable is true.
    Bool(Var),
    /// The top `bits` bits of the 128-bit variable are those of `value`.
    BvTop {
        var: Var,
        bits: u8,
        value: u128,
    },
}

impl From<bool> for Formula {
    fn from(b: bool) -> Formula {
        if b {
            Formula::True
        } else {
            Formula::False
        }
    }
}

impl Formula {
    /// Negation.
    pub fn negate(self) -> Formula {
        match self {
            Formula::True => Formula::False,
            Formula::False => Formula::True,
            Formula::Not(inner) => *inner,
            other => Formula::Not(Box::new(other)),
        }
    }

    /// Conjunction, simplified for constants.
    pub fn and(parts: Vec<Formula>) -> Formula {
        let mut kept = Vec::new();
        for part in parts {
            match part {
                Formula::True => {}
                Formula::False => return Formula::False,
                Formula::And(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => Formula::True,
            1 => kept.pop().unwrap_or(Formula::True),
            _ => Formula::And(kept),
        }
    }

    /// Disjunction, simplified for constants.
    pub fn or(parts: Vec<Formula>) -> Formula {
        let mut kept = Vec::new();
        for part in parts {
            match part {
                Formula::False => {}
                Formula::True => return Formula::True,
                Formula::Or(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => Formula::False,
            1 => kept.pop().unwrap_or(Formula::False),
            _ => Formula::Or(kept),
        }
    }

    /// `a` if `c`, else `b`.
    pub fn ite(c: Formula, a: Formula, b: Formula) -> Formula {
        Formula::or(vec![Formula::and(vec![c.clone(), a]), Formula::and(vec![c.negate(), b])])
    }

    /// Whether `a` and `b` differ (exclusive or).
    pub fn xor(a: Formula, b: Formula) -> Formula {
        match (a, b) {
            (Formula::False, x) | (x, Formula::False) => x,
            (Formula::True, x) | (x, Formula::True) => x.negate(),
            (a, b) => Formula::ite(a, b.clone().negate(), b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(re: &Re, text: &str) -> bool {
        let by_fold = text.chars().fold(re.clone(), |r, c| r.derive(c)).nullable();
        assert_eq!(re.accepts(text), by_fold, "{re:?} {text}");
        by_fold
    }

    #[test]
    fn derivatives_decide_membership() {
        let re = Re::Concat(vec![
            Re::Lit("arn:".into()),
            Re::Star(Box::new(Re::NoColon)),
            Re::Lit(":x".into()),
            Re::all(),
        ]);
        assert!(matches(&re, "arn:aws:x"));
        assert!(matches(&re, "arn::xyz"));
        assert!(!matches(&re, "arn:a:b:x"));
        assert!(!matches(&re, "arn:aws"));
        let name = Re::Concat(vec![Re::Range('a', 'z'), Re::Star(Box::new(Re::Range('a', 'z')))]);
        assert!(matches(&name.after("ab"), "c"));
        assert!(matches(&name.after("ab"), ""));
        assert!(!matches(&name.after("aB"), ""));
    }

    #[test]
    fn witnesses_and_emptiness() {
        let bucket = Re::Concat(vec![Re::Lit("arn:aws:s3:::bucket/".into()), Re::all()]);
        let public = Re::Concat(vec![Re::Lit("arn:aws:s3:::bucket/public/".into()), Re::all()]);
        let outside = Re::inter(vec![bucket.clone(), Re::comp(public.clone())]);
        let w = outside.witness(10_000).unwrap().unwrap();
        assert!(matches(&bucket, &w) && !matches(&public, &w), "{w}");
        let none = Re::inter(vec![public, Re::comp(bucket)]);
        assert_eq!(none.witness(10_000), Ok(None));
        let digits = Re::Concat(vec![Re::Range('0', '9'); 3]);
        let not_123 = Re::inter(vec![digits, Re::comp(Re::Lit("123".into()))]);
        let w = not_123.witness(10_000).unwrap().unwrap();
        assert!(w.len() == 3 && w != "123", "{w}");
    }
}
