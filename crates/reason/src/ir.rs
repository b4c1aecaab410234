//! The formula language the encoder writes and a solver backend translates: pure values, no Z3.
//! A formula speaks of the action (an index into the query's action classes) and of typed
//! variables: strings (the resource, the caller's name, context values), integers (numbers and
//! dates, scaled), booleans, and 128-bit vectors (IP addresses).

/// A regular language.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
        }
    }

    /// The words `w` such that `prefix ++ w` is in the language (the left quotient), so that a
    /// condition on `"fixed text" ++ name` becomes a condition on `name` alone.
    pub fn after(&self, prefix: &str) -> Re {
        prefix.chars().fold(self.clone(), |re, c| re.derive(c))
    }

    /// The Brzozowski derivative by one character.
    fn derive(&self, c: char) -> Re {
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

    /// A union, simplified: empty languages and repeats vanish.
    pub fn union(parts: Vec<Re>) -> Re {
        let mut kept: Vec<Re> = Vec::new();
        for part in parts {
            let flat = match part {
                Re::Union(inner) => inner,
                p => vec![p],
            };
            for p in flat {
                if !p.is_none() && !kept.contains(&p) {
                    kept.push(p);
                }
            }
        }
        if kept.len() == 1 {
            kept.pop().unwrap_or_else(Re::none)
        } else {
            Re::Union(kept)
        }
    }
}

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
        text.chars().fold(re.clone(), |r, c| r.derive(c)).nullable()
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
}
