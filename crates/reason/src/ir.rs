//! The formula language the encoder writes and a solver backend translates: pure values, no Z3.
//! The request is two variables: the resource (a string) and the action (an index into the
//! query's action classes).

/// A regular language over the query's alphabet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Re {
    /// Exactly this text.
    Lit(String),
    /// Any one character of the alphabet.
    AnyChar,
    /// Any one character of the alphabet but `:`.
    NoColon,
    /// Any sequence of the inner language.
    Star(Box<Re>),
    /// One after the other.
    Concat(Vec<Re>),
    /// Either.
    Union(Vec<Re>),
}

impl Re {
    /// Every string over the alphabet.
    pub fn all() -> Re {
        Re::Star(Box::new(Re::AnyChar))
    }
}

/// A condition on the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Formula {
    True,
    False,
    Not(Box<Formula>),
    And(Vec<Formula>),
    Or(Vec<Formula>),
    /// The resource is in the language.
    ResourceIn(Re),
    /// The action is one of these classes.
    ActionIn(Vec<usize>),
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
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => Formula::False,
            1 => kept.pop().unwrap_or(Formula::False),
            _ => Formula::Or(kept),
        }
    }
}
