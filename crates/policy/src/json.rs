//! A small JSON reader that keeps the line and column of every value, so policy diagnostics can
//! point at the exact place in the document. It accepts RFC 8259 JSON and nothing else, keeps
//! object members in document order (duplicates included, so the validator can report them) and
//! bounds nesting depth so hostile input cannot exhaust the stack.

use std::fmt;

/// Deepest nesting accepted; IAM policies are shallow (five levels at most in practice).
pub const MAX_DEPTH: usize = 64;

/// A 1-based line and column (columns count Unicode scalar values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number, starting at 1.
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A JSON value with the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Json {
    /// Where the value starts.
    pub pos: Position,
    /// The value itself.
    pub value: JsonValue,
}

/// The JSON value kinds. Numbers keep their source text so no precision is lost.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object: members in document order, duplicates kept.
    Object(Vec<Member>),
}

/// One `"name": value` member of an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// Where the member name starts.
    pub name_pos: Position,
    /// The member name, unescaped.
    pub name: String,
    /// The member value.
    pub value: Json,
}

impl JsonValue {
    /// The JSON type name, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "boolean",
            JsonValue::Number(_) => "number",
            JsonValue::String(_) => "string",
            JsonValue::Array(_) => "array",
            JsonValue::Object(_) => "object",
        }
    }
}

/// Why a document is not JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {pos}")]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub pos: Position,
}

/// Parses a whole document: one value, optionally surrounded by whitespace.
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut reader = Reader { chars: text.chars().collect(), at: 0, line: 1, column: 1 };
    // A UTF-8 byte order mark is tolerated, as IAM does.
    if reader.peek() == Some('\u{feff}') {
        reader.bump();
    }
    reader.skip_ws();
    let value = reader.value(0)?;
    reader.skip_ws();
    match reader.peek() {
        None => Ok(value),
        Some(c) => Err(reader.error(format!("unexpected `{c}` after the end of the document"))),
    }
}

struct Reader {
    chars: Vec<char>,
    at: usize,
    line: u32,
    column: u32,
}

impl Reader {
    fn pos(&self) -> Position {
        Position { line: self.line, column: self.column }
    }

    fn error(&self, message: String) -> JsonError {
        JsonError { message, pos: self.pos() }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn expect(&mut self, want: char) -> Result<(), JsonError> {
        match self.peek() {
            Some(c) if c == want => {
                self.bump();
                Ok(())
            }
            Some(c) => Err(self.error(format!("expected `{want}` but found `{c}`"))),
            None => Err(self.error(format!("expected `{want}` but the document ended"))),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let pos = self.pos();
        let value = match self.peek() {
            Some('{') => self.object(depth)?,
            Some('[') => self.array(depth)?,
            Some('"') => JsonValue::String(self.string()?),
            Some('t') => self.literal("true", JsonValue::Bool(true))?,
            Some('f') => self.literal("false", JsonValue::Bool(false))?,
            Some('n') => self.literal("null", JsonValue::Null)?,
            Some(c) if c == '-' || c.is_ascii_digit() => JsonValue::Number(self.number()?),
            Some(c) => return Err(self.error(format!("unexpected `{c}`: expected a value"))),
            None => return Err(self.error("the document ended where a value was expected".into())),
        };
        Ok(Json { pos, value })
    }

    fn literal(&mut self, word: &str, value: JsonValue) -> Result<JsonValue, JsonError> {
        for want in word.chars() {
            if self.peek() != Some(want) {
                return Err(self.error(format!("invalid literal: expected `{word}`")));
            }
            self.bump();
        }
        Ok(value)
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        self.expect('{')?;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(JsonValue::Object(members));
        }
        loop {
            self.skip_ws();
            let name_pos = self.pos();
            if self.peek() != Some('"') {
                return Err(self.error("expected a member name in double quotes".into()));
            }
            let name = self.string()?;
            self.skip_ws();
            self.expect(':')?;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push(Member { name_pos, name, value });
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some('}') => return Ok(JsonValue::Object(members)),
                Some(c) => {
                    return Err(JsonError {
                        message: format!("expected `,` or `}}` but found `{c}`"),
                        pos: self.pos(),
                    })
                }
                None => return Err(self.error("the document ended inside an object".into())),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        self.expect('[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(JsonValue::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some(']') => return Ok(JsonValue::Array(items)),
                Some(c) => {
                    return Err(JsonError {
                        message: format!("expected `,` or `]` but found `{c}`"),
                        pos: self.pos(),
                    })
                }
                None => return Err(self.error("the document ended inside an array".into())),
            }
        }
    }

    fn number(&mut self) -> Result<String, JsonError> {
        let mut text = String::new();
        if self.peek() == Some('-') {
            text.push('-');
            self.bump();
        }
        match self.peek() {
            Some('0') => {
                text.push('0');
                self.bump();
            }
            Some(c) if c.is_ascii_digit() => self.digits(&mut text),
            _ => return Err(self.error("invalid number".into())),
        }
        if self.peek() == Some('.') {
            text.push('.');
            self.bump();
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.error("invalid number: digits must follow `.`".into()));
            }
            self.digits(&mut text);
        }
        if let Some(e @ ('e' | 'E')) = self.peek() {
            text.push(e);
            self.bump();
            if let Some(s @ ('+' | '-')) = self.peek() {
                text.push(s);
                self.bump();
            }
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.error("invalid number: digits must follow the exponent".into()));
            }
            self.digits(&mut text);
        }
        Ok(text)
    }

    fn digits(&mut self, text: &mut String) {
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            text.push(c);
            self.bump();
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.expect('"')?;
        let mut out = String::new();
        loop {
            let pos = self.pos();
            match self.bump() {
                None => return Err(JsonError { message: "unterminated string".into(), pos }),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('/') => out.push('/'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('u') => out.push(self.unicode_escape(pos)?),
                    _ => return Err(JsonError { message: "invalid escape in string".into(), pos }),
                },
                Some(c) if (c as u32) < 0x20 => {
                    return Err(JsonError {
                        message: "control character in string must be escaped".into(),
                        pos,
                    })
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn hex4(&mut self, pos: Position) -> Result<u32, JsonError> {
        let mut n = 0u32;
        for _ in 0..4 {
            let digit = self.bump().and_then(|c| c.to_digit(16));
            match digit {
                Some(d) => n = n * 16 + d,
                None => return Err(JsonError { message: "invalid \\u escape".into(), pos }),
            }
        }
        Ok(n)
    }

    fn unicode_escape(&mut self, pos: Position) -> Result<char, JsonError> {
        let first = self.hex4(pos)?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.bump() != Some('\\') || self.bump() != Some('u') {
                return Err(JsonError { message: "unpaired surrogate in \\u escape".into(), pos });
            }
            let second = self.hex4(pos)?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(JsonError { message: "unpaired surrogate in \\u escape".into(), pos });
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code)
            .ok_or(JsonError { message: "invalid code point in \\u escape".into(), pos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_tracked() {
        let doc = parse("{\n  \"a\": [1, \"x\"],\n  \"b\": true\n}").unwrap();
        let JsonValue::Object(members) = doc.value else { panic!("object") };
        assert_eq!(members[0].name_pos, Position { line: 2, column: 3 });
        assert_eq!(members[1].value.pos, Position { line: 3, column: 8 });
        let JsonValue::Array(items) = &members[0].value.value else { panic!("array") };
        assert_eq!(items[1].pos, Position { line: 2, column: 12 });
    }

    #[test]
    fn duplicates_are_kept_in_order() {
        let doc = parse(r#"{"a":1,"a":2}"#).unwrap();
        let JsonValue::Object(members) = doc.value else { panic!("object") };
        assert_eq!(members.len(), 2);
    }

    #[test]
    fn escapes_and_surrogates() {
        let doc = parse(r#""a\u00e9\ud83d\ude00\n""#).unwrap();
        assert_eq!(doc.value, JsonValue::String("aé😀\n".into()));
    }

    #[test]
    fn rejects_bad_documents() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "tru", "{} x", "\"\u{1}\""]
        {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(parse(&deep).is_err());
    }
}
