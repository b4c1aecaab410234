//! Wildcard patterns and policy-variable templates.
//!
//! `*` matches any run of characters (including none) and `?` exactly one character; both count
//! Unicode scalar values, not bytes. A template is text with `${key}` / `${key, 'default'}`
//! variables and the escapes `${*}`, `${?}` and `${$}`; substituted values and escapes are always
//! literal, so a request value can never inject a wildcard.

use std::borrow::Cow;

/// One element of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Tok {
    /// A literal character.
    Char(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A compiled wildcard pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Glob {
    toks: Vec<Tok>,
    /// The literal text when the pattern has no wildcard (fast path: plain comparison).
    literal: Option<String>,
}

impl Glob {
    /// Compiles `text`; with `wildcards` false every character is literal.
    pub fn new(text: &str, wildcards: bool) -> Glob {
        Glob::from_toks(
            text.chars()
                .map(|c| match c {
                    '*' if wildcards => Tok::Star,
                    '?' if wildcards => Tok::One,
                    c => Tok::Char(c),
                })
                .collect(),
        )
    }

    /// Builds a pattern from tokens.
    pub fn from_toks(toks: Vec<Tok>) -> Glob {
        let literal = toks
            .iter()
            .map(|t| match t {
                Tok::Char(c) => Some(*c),
                _ => None,
            })
            .collect::<Option<String>>();
        Glob { toks, literal }
    }

    /// The pattern lowercased (for case-insensitive matching against lowercased text).
    pub fn to_lowercase(&self) -> Glob {
        let mut toks = Vec::with_capacity(self.toks.len());
        for t in &self.toks {
            match t {
                Tok::Char(c) => toks.extend(c.to_lowercase().map(Tok::Char)),
                other => toks.push(other.clone()),
            }
        }
        Glob::from_toks(toks)
    }

    /// The tokens.
    pub fn toks(&self) -> &[Tok] {
        &self.toks
    }

    /// The pattern written out: characters as themselves, wildcards as `*` and `?`.
    pub fn text(&self) -> String {
        self.toks
            .iter()
            .map(|t| match t {
                Tok::Char(c) => *c,
                Tok::Star => '*',
                Tok::One => '?',
            })
            .collect()
    }

    /// The literal text when the pattern has no wildcard.
    pub fn literal(&self) -> Option<&str> {
        self.literal.as_deref()
    }

    /// True when the pattern is exactly `*`.
    pub fn is_match_all(&self) -> bool {
        self.toks.len() == 1 && self.toks.first() == Some(&Tok::Star)
    }

    /// Whether the pattern has a wildcard.
    pub fn has_wildcard(&self) -> bool {
        self.literal.is_none()
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        match &self.literal {
            Some(lit) => lit == text,
            None => toks_match(&self.toks, text),
        }
    }

    /// ARN matching: the six colon-separated parts are matched one by one, so a wildcard never
    /// spans a separator of the first five. When the pattern has fewer parts, its last part is
    /// matched against the rest of the text (`arn:aws:s3:*` covers every S3 ARN, while
    /// `arn:aws:sqs:u*1:orders` cannot stretch `u*1` over the region and account).
    pub fn matches_arn(&self, text: &str) -> bool {
        if self.is_match_all() {
            return true;
        }
        let mut pattern = self.toks.as_slice();
        let mut value = text;
        for _ in 0..5 {
            // A pattern with fewer than six parts: its last part matches the rest of the text.
            let Some(p) = pattern.iter().position(|t| *t == Tok::Char(':')) else { break };
            let Some(v) = value.find(':') else { return false };
            let (p_head, p_tail) = pattern.split_at(p);
            let (v_head, v_tail) = value.split_at(v);
            if !toks_match(p_head, v_head) {
                return false;
            }
            pattern = p_tail.get(1..).unwrap_or_default();
            value = v_tail.get(1..).unwrap_or_default();
        }
        toks_match(pattern, value)
    }

    /// Resource-element matching: part by part for ARN patterns, otherwise the whole text.
    pub fn matches_resource(&self, text: &str) -> bool {
        if self.literal.is_some() || self.is_match_all() {
            return self.matches(text);
        }
        let arn_prefix = [Tok::Char('a'), Tok::Char('r'), Tok::Char('n'), Tok::Char(':')];
        if self.toks.starts_with(&arn_prefix) {
            self.matches_arn(text)
        } else {
            self.matches(text)
        }
    }
}

/// Iterative wildcard matching with single-star backtracking: linear in practice, O(n·m) worst.
fn toks_match(toks: &[Tok], text: &str) -> bool {
    let mut t = 0usize;
    let mut s = 0usize;
    let mut resume: Option<(usize, usize)> = None;
    loop {
        let rest = text.get(s..).unwrap_or_default();
        let next = rest.chars().next();
        match toks.get(t) {
            Some(Tok::Star) => {
                resume = Some((t + 1, s));
                t += 1;
                continue;
            }
            Some(Tok::One) => {
                if let Some(c) = next {
                    s += c.len_utf8();
                    t += 1;
                    continue;
                }
            }
            Some(Tok::Char(want)) => {
                if next == Some(*want) {
                    s += want.len_utf8();
                    t += 1;
                    continue;
                }
            }
            None => {
                if next.is_none() {
                    return true;
                }
            }
        }
        // Mismatch: let the last star absorb one more character, or fail.
        match resume {
            Some((rt, rs)) => {
                let Some(c) = text.get(rs..).and_then(|r| r.chars().next()) else {
                    return false;
                };
                let ns = rs + c.len_utf8();
                resume = Some((rt, ns));
                t = rt;
                s = ns;
            }
            None => return false,
        }
    }
}

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Pattern tokens (literal characters and wildcards).
    Toks(Vec<Tok>),
    /// `${key}` or `${key, 'default'}`.
    Var {
        /// The key as written.
        key: String,
        /// The key lowercased, for lookup.
        key_lower: String,
        /// The default value, if given.
        default: Option<String>,
    },
    /// A `${` that does not form a valid variable: substitution fails, so nothing matches.
    Invalid(String),
}

/// Text that may contain policy variables, compiled.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Template {
    pieces: Vec<Piece>,
    /// The compiled pattern when there is nothing to substitute.
    fixed: Option<Glob>,
}

/// Where a template looks up variable values: one value per key, or none.
pub trait Variables {
    /// The single value of `key_lower`; `None` when absent or multi-valued.
    fn variable(&self, key_lower: &str) -> Option<&str>;
}

impl Template {
    /// Compiles `text`. With `substitute` false (version 2008-10-17) `${...}` is literal text.
    pub fn new(text: &str, substitute: bool, wildcards: bool) -> Template {
        if !substitute || !text.contains("${") {
            let glob = Glob::new(text, wildcards);
            return Template { pieces: vec![Piece::Toks(glob.toks().to_vec())], fixed: Some(glob) };
        }
        let mut pieces = Vec::new();
        let mut toks = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let (before, after) = rest.split_at(start);
            push_text(&mut toks, before, wildcards);
            let body_and_rest = after.get(2..).unwrap_or_default();
            match parse_variable(body_and_rest) {
                Some((var, consumed)) => {
                    match var {
                        VarSyntax::Escape(c) => toks.push(Tok::Char(c)),
                        VarSyntax::Key { key, default } => {
                            if !toks.is_empty() {
                                pieces.push(Piece::Toks(std::mem::take(&mut toks)));
                            }
                            pieces.push(Piece::Var { key_lower: key.to_lowercase(), key, default });
                        }
                    }
                    rest = body_and_rest.get(consumed..).unwrap_or_default();
                }
                None => {
                    if !toks.is_empty() {
                        pieces.push(Piece::Toks(std::mem::take(&mut toks)));
                    }
                    pieces.push(Piece::Invalid(after.to_string()));
                    rest = "";
                }
            }
        }
        push_text(&mut toks, rest, wildcards);
        if !toks.is_empty() {
            pieces.push(Piece::Toks(toks));
        }
        let fixed = if pieces.iter().all(|p| matches!(p, Piece::Toks(_))) {
            Some(Glob::from_toks(
                pieces
                    .iter()
                    .flat_map(|p| match p {
                        Piece::Toks(t) => t.clone(),
                        _ => Vec::new(),
                    })
                    .collect(),
            ))
        } else {
            None
        };
        Template { pieces, fixed }
    }

    /// The pieces.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The compiled pattern when the template has no variables.
    pub fn fixed(&self) -> Option<&Glob> {
        self.fixed.as_ref()
    }

    /// Whether the template has variables (or invalid variable syntax).
    pub fn has_variables(&self) -> bool {
        self.fixed.is_none()
    }

    /// Substitutes variables; `None` when one cannot be resolved (the element then matches
    /// nothing, as IAM does).
    pub fn resolve(&self, vars: &dyn Variables) -> Option<Cow<'_, Glob>> {
        if let Some(g) = &self.fixed {
            return Some(Cow::Borrowed(g));
        }
        let mut toks = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Toks(t) => toks.extend_from_slice(t),
                Piece::Var { key_lower, default, .. } => {
                    let value = vars.variable(key_lower).or(default.as_deref())?;
                    toks.extend(value.chars().map(Tok::Char));
                }
                Piece::Invalid(_) => return None,
            }
        }
        Some(Cow::Owned(Glob::from_toks(toks)))
    }

    /// The keys of the variables used, as written.
    pub fn variable_keys(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var { key, .. } => Some(key.as_str()),
            _ => None,
        })
    }
}

fn push_text(toks: &mut Vec<Tok>, text: &str, wildcards: bool) {
    toks.extend(Glob::new(text, wildcards).toks().iter().cloned());
}

enum VarSyntax {
    Escape(char),
    Key { key: String, default: Option<String> },
}

/// Parses the inside of `${...}` (text after `${`); returns the variable and bytes consumed
/// including the closing brace.
fn parse_variable(text: &str) -> Option<(VarSyntax, usize)> {
    for (esc, c) in [("*}", '*'), ("?}", '?'), ("$}", '$')] {
        if text.starts_with(esc) {
            return Some((VarSyntax::Escape(c), 2));
        }
    }
    let mut chars = text.char_indices().peekable();
    let mut key = String::new();
    // Key: up to `,` or `}`; no spaces inside the key itself.
    let mut end_of_key = None;
    for (i, c) in chars.by_ref() {
        match c {
            '}' | ',' => {
                end_of_key = Some((i, c));
                break;
            }
            '$' | '{' => return None,
            c => key.push(c),
        }
    }
    let (i, c) = end_of_key?;
    let key = key.trim().to_string();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    if c == '}' {
        return Some((VarSyntax::Key { key, default: None }, i + 1));
    }
    // Default: `, 'text'` with `''` standing for one quote.
    while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
        chars.next();
    }
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut default = String::new();
    loop {
        let (_, c) = chars.next()?;
        if c == '\'' {
            if chars.peek().is_some_and(|(_, c)| *c == '\'') {
                chars.next();
                default.push('\'');
            } else {
                break;
            }
        } else {
            default.push(c);
        }
    }
    while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
        chars.next();
    }
    let (close, c) = chars.next()?;
    if c != '}' {
        return None;
    }
    Some((VarSyntax::Key { key, default: Some(default) }, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    impl Variables for HashMap<&str, &str> {
        fn variable(&self, key_lower: &str) -> Option<&str> {
            self.get(key_lower).copied()
        }
    }

    #[test]
    fn wildcards_count_characters() {
        let g = Glob::new("a?c*", true);
        assert!(g.matches("abc"));
        assert!(g.matches("aéc"));
        assert!(g.matches("a😀cdef"));
        assert!(!g.matches("ac"));
        assert!(Glob::new("*", true).matches(""));
        assert!(Glob::new("*a*b*", true).matches("xxaxxbxx"));
        assert!(!Glob::new("*a*b", true).matches("xxaxxbxx"));
        assert!(!Glob::new("a*", false).matches("abc"));
        assert!(Glob::new("a*", false).matches("a*"));
    }

    #[test]
    fn arn_matching_is_per_segment() {
        let g = Glob::new("arn:aws:iam::*:role/x", true);
        assert!(g.matches_arn("arn:aws:iam::123456789012:role/x"));
        assert!(!g.matches_arn("arn:aws:iam::1:2:role/x"));
        let g = Glob::new("arn:aws:s3:::bucket/*", true);
        assert!(g.matches_arn("arn:aws:s3:::bucket/a:b/c"));
        assert!(Glob::new("arn:aws:*", true).matches_arn("arn:aws:s3:::b"));
        assert!(Glob::new("arn:aws:s3:*", true).matches_resource("arn:aws:s3:::b/k"));
        assert!(!Glob::new("arn:aws:sqs:u*1:orders", true)
            .matches_resource("arn:aws:sqs:us-east-1:1:orders"));
    }

    #[test]
    fn variables_and_escapes() {
        let vars: HashMap<&str, &str> = [("aws:username", "bob*")].into_iter().collect();
        let t = Template::new("home/${aws:username}/${*}x${?}${$}", true, true);
        let g = t.resolve(&vars).unwrap();
        assert!(g.matches("home/bob*/*x?$"));
        assert!(!g.matches("home/bobby/*x?$"));
        let t = Template::new("${aws:PrincipalTag/team, 'none'}", true, true);
        assert!(t.resolve(&vars).unwrap().matches("none"));
        let t = Template::new("${ aws:PrincipalTag/team , 'it''s' }", true, true);
        assert!(t.resolve(&vars).unwrap().matches("it's"));
        let t = Template::new("${aws:userid}", true, true);
        assert!(t.resolve(&vars).is_none());
        let t = Template::new("${oops", true, true);
        assert!(t.resolve(&vars).is_none());
        let t = Template::new("${aws:username}", false, true);
        assert!(t.resolve(&vars).unwrap().matches("${aws:username}"));
    }
}
