//! Reasoning about wildcard patterns as sets of strings: whether one pattern's matches are all
//! matched by another (for redundancy findings) and whether two patterns match a common string
//! (for checking a resource ARN against a resource type's ARN format).

use crate::pattern::Tok;

/// A dynamic-programming table over two token lists, indexed `(i, j)` with `i <= m`, `j <= n`.
struct Table {
    cells: Vec<bool>,
    width: usize,
}

impl Table {
    fn new(m: usize, n: usize) -> Table {
        Table { cells: vec![false; (m + 1).saturating_mul(n + 1)], width: n + 1 }
    }

    fn get(&self, i: usize, j: usize) -> bool {
        self.cells.get(i * self.width + j).copied().unwrap_or(false)
    }

    fn set(&mut self, i: usize, j: usize, v: bool) {
        if let Some(c) = self.cells.get_mut(i * self.width + j) {
            *c = v;
        }
    }
}

/// Whether every string matched by `a` is also matched by `b`. Sound (a `true` is always right)
/// and complete for the patterns policies use. With `star_crosses_colon` false a `*` of `b` never
/// absorbs a literal `:` of `a`, which keeps the answer right under per-segment ARN matching.
pub(crate) fn covers(b: &[Tok], a: &[Tok], star_crosses_colon: bool) -> bool {
    let (m, n) = (a.len(), b.len());
    let mut t = Table::new(m, n);
    for i in (0..=m).rev() {
        for j in (0..=n).rev() {
            let v = match (a.get(i), b.get(j)) {
                (None, None) => true,
                (ta, Some(Tok::Star)) => {
                    let absorb = match ta {
                        Some(Tok::Char(c)) => star_crosses_colon || *c != ':',
                        Some(_) => true,
                        None => false,
                    };
                    t.get(i, j + 1) || (absorb && t.get(i + 1, j))
                }
                (Some(ta), Some(tb)) => {
                    let step = match (ta, tb) {
                        (Tok::Char(x), Tok::Char(y)) => x == y,
                        (Tok::Char(_) | Tok::One, Tok::One) => true,
                        _ => false,
                    };
                    step && t.get(i + 1, j + 1)
                }
                _ => false,
            };
            t.set(i, j, v);
        }
    }
    t.get(0, 0)
}

/// Whether some string is matched by both `a` and `b`.
pub(crate) fn intersects(a: &[Tok], b: &[Tok]) -> bool {
    let (m, n) = (a.len(), b.len());
    let mut t = Table::new(m, n);
    for i in (0..=m).rev() {
        for j in (0..=n).rev() {
            let v = match (a.get(i), b.get(j)) {
                (None, None) => true,
                (Some(Tok::Star), _) => t.get(i + 1, j) || (j < n && t.get(i, j + 1)),
                (_, Some(Tok::Star)) => t.get(i, j + 1) || (i < m && t.get(i + 1, j)),
                (Some(x), Some(y)) => {
                    let step = match (x, y) {
                        (Tok::Char(p), Tok::Char(q)) => p == q,
                        _ => true,
                    };
                    step && t.get(i + 1, j + 1)
                }
                _ => false,
            };
            t.set(i, j, v);
        }
    }
    t.get(0, 0)
}

/// Compiles `text` with `*` and `?` as wildcards.
pub(crate) fn toks(text: &str) -> Vec<Tok> {
    crate::pattern::Glob::new(text, true).toks().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(b: &str, a: &str) -> bool {
        covers(&toks(b), &toks(a), true)
    }

    #[test]
    fn coverage() {
        assert!(c("s3:get*", "s3:getobject"));
        assert!(c("s3:*", "s3:get*"));
        assert!(c("*", "s3:get?bject"));
        assert!(c("s3:get?bject", "s3:getobject"));
        assert!(!c("s3:getobject", "s3:get*"));
        assert!(!c("s3:get*", "s3:*"));
        assert!(!c("s3:?", "s3:*"));
        assert!(c("a*b*c", "a*bxb*c"));
        assert!(!covers(&toks("arn:aws:*"), &toks("arn:aws:s3:::b"), false));
        assert!(covers(&toks("arn:aws:s3:::b/*"), &toks("arn:aws:s3:::b/x/y"), false));
    }

    #[test]
    fn intersection() {
        let i = |a: &str, b: &str| intersects(&toks(a), &toks(b));
        assert!(i("log-group:*", "*"));
        assert!(i("bucket/*", "*/*"));
        assert!(i("role/a*", "role/*b"));
        assert!(!i("role/a*", "user/*"));
        assert!(!i("a?", "abc"));
    }
}
