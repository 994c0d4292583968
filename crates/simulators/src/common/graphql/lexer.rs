//! Tokens of the GraphQL language, with positions, and graphql-ruby's token names (errors say
//! `Parse error on "}" (RCURLY) at [1, 20]`).

use super::{GqlError, Pos};

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Punct(&'static str),
    Name,
    Int,
    Float,
    Str,
    /// A character the language does not have.
    Bad,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub kind: Kind,
    /// The source text (for strings: the decoded value).
    pub text: String,
    pub pos: Pos,
}

impl Token {
    pub fn is_punct(&self, p: &str) -> bool {
        matches!(self.kind, Kind::Punct(q) if q == p)
    }

    pub fn is_name(&self, n: &str) -> bool {
        self.kind == Kind::Name && self.text == n
    }

    /// graphql-ruby's name for the token.
    fn ruby_name(&self) -> String {
        match &self.kind {
            Kind::Punct(p) => match *p {
                "{" => "LCURLY",
                "}" => "RCURLY",
                "(" => "LPAREN",
                ")" => "RPAREN",
                "[" => "LBRACKET",
                "]" => "RBRACKET",
                ":" => "COLON",
                "$" => "VAR_SIGN",
                "@" => "DIR_SIGN",
                "..." => "ELLIPSIS",
                "=" => "EQUALS",
                "!" => "BANG",
                "|" => "PIPE",
                "&" => "AMP",
                _ => "error",
            }
            .to_owned(),
            Kind::Name => match self.text.as_str() {
                "query" | "mutation" | "subscription" | "fragment" | "on" | "true" | "false"
                | "null" | "type" | "input" | "enum" | "interface" | "union" | "scalar"
                | "schema" | "implements" | "extend" | "directive" | "repeatable" => {
                    self.text.to_ascii_uppercase()
                }
                _ => "IDENTIFIER".into(),
            },
            Kind::Int => "INT".into(),
            Kind::Float => "FLOAT".into(),
            Kind::Str => "STRING".into(),
            Kind::Bad => "error".into(),
        }
    }

    /// The parse error for meeting this token where it does not fit.
    pub fn unexpected(&self) -> GqlError {
        let shown = match self.kind {
            Kind::Str => serde_json::Value::String(self.text.clone()).to_string(),
            _ => self.text.clone(),
        };
        let shown = serde_json::Value::String(shown).to_string();
        GqlError::new(format!(
            "Parse error on {shown} ({}) at [{}, {}]",
            self.ruby_name(),
            self.pos.line,
            self.pos.column
        ))
        .at(self.pos)
    }
}

/// Splits a document into tokens. A character outside the language becomes a `Bad` token,
/// reported by the parser where it stands.
pub fn tokens(src: &str) -> Result<Vec<Token>, GqlError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, column: col };
        match c {
            '\n' => {
                i += 1;
                line += 1;
                col = 1;
            }
            '\r' => {
                i += 1;
                if chars.get(i) != Some(&'\n') {
                    line += 1;
                    col = 1;
                }
            }
            ' ' | '\t' | ',' | '\u{feff}' => {
                i += 1;
                col += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' && chars[i] != '\r' {
                    i += 1;
                }
            }
            '{' | '}' | '(' | ')' | '[' | ']' | ':' | '$' | '@' | '=' | '!' | '|' | '&' => {
                let p: &'static str = match c {
                    '{' => "{",
                    '}' => "}",
                    '(' => "(",
                    ')' => ")",
                    '[' => "[",
                    ']' => "]",
                    ':' => ":",
                    '$' => "$",
                    '@' => "@",
                    '=' => "=",
                    '!' => "!",
                    '|' => "|",
                    _ => "&",
                };
                out.push(Token {
                    kind: Kind::Punct(p),
                    text: c.to_string(),
                    pos,
                });
                i += 1;
                col += 1;
            }
            '.' => {
                if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
                    out.push(Token {
                        kind: Kind::Punct("..."),
                        text: "...".into(),
                        pos,
                    });
                    i += 3;
                    col += 3;
                } else {
                    out.push(Token {
                        kind: Kind::Bad,
                        text: ".".into(),
                        pos,
                    });
                    i += 1;
                    col += 1;
                }
            }
            '"' => {
                let block = chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'"');
                let (text, used, lines) = if block {
                    block_string(&chars[i..])
                } else {
                    string(&chars[i..])
                }
                .map_err(|()| {
                    GqlError::new(format!(
                        "Parse error on bad Unicode escape sequence at [{line}, {col}]"
                    ))
                    .at(pos)
                })?;
                out.push(Token {
                    kind: Kind::Str,
                    text,
                    pos,
                });
                i += used;
                if lines > 0 {
                    line += lines;
                    col = 1;
                } else {
                    col += used;
                }
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                let mut float = false;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || matches!(chars[i], '.' | 'e' | 'E' | '+' | '-'))
                {
                    if matches!(chars[i], '.' | 'e' | 'E') {
                        float = true;
                    }
                    if matches!(chars[i], '+' | '-') && !matches!(chars[i - 1], 'e' | 'E') {
                        break;
                    }
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let valid = if float {
                    text.parse::<f64>().is_ok()
                } else {
                    text.parse::<i64>().is_ok()
                };
                let kind = match (valid, float) {
                    (false, _) => Kind::Bad,
                    (true, true) => Kind::Float,
                    (true, false) => Kind::Int,
                };
                col += i - start;
                out.push(Token { kind, text, pos });
            }
            c if c == '_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < chars.len() && (chars[i] == '_' || chars[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                col += i - start;
                out.push(Token {
                    kind: Kind::Name,
                    text: chars[start..i].iter().collect(),
                    pos,
                });
            }
            other => {
                out.push(Token {
                    kind: Kind::Bad,
                    text: other.to_string(),
                    pos,
                });
                i += 1;
                col += 1;
            }
        }
    }
    Ok(out)
}

/// A `"…"` string: its value, the characters it used, and the lines it spans (0).
fn string(chars: &[char]) -> Result<(String, usize, usize), ()> {
    let mut s = String::new();
    let mut i = 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((s, i + 1, 0)),
            '\n' | '\r' => return Err(()),
            '\\' => {
                let esc = chars.get(i + 1).ok_or(())?;
                match esc {
                    '"' => s.push('"'),
                    '\\' => s.push('\\'),
                    '/' => s.push('/'),
                    'b' => s.push('\u{8}'),
                    'f' => s.push('\u{c}'),
                    'n' => s.push('\n'),
                    'r' => s.push('\r'),
                    't' => s.push('\t'),
                    'u' => {
                        let hex: String = chars.get(i + 2..i + 6).ok_or(())?.iter().collect();
                        let code = u32::from_str_radix(&hex, 16).map_err(|_| ())?;
                        s.push(char::from_u32(code).ok_or(())?);
                        i += 4;
                    }
                    _ => return Err(()),
                }
                i += 2;
            }
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err(())
}

/// A `"""…"""` block string, with the common indentation removed as the spec says.
fn block_string(chars: &[char]) -> Result<(String, usize, usize), ()> {
    let mut i = 3;
    let mut raw = String::new();
    while i < chars.len() {
        if chars[i] == '"' && chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'"') {
            let lines = raw.matches('\n').count();
            return Ok((dedent(&raw), i + 3, lines));
        }
        if chars[i] == '\\' && chars.get(i + 1..i + 4) == Some(&['"', '"', '"']) {
            raw.push_str("\"\"\"");
            i += 4;
            continue;
        }
        raw.push(chars[i]);
        i += 1;
    }
    Err(())
}

fn dedent(raw: &str) -> String {
    let lines: Vec<&str> = raw.split('\n').collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            if n == 0 {
                (*l).to_owned()
            } else {
                l.get(indent..).unwrap_or("").to_owned()
            }
        })
        .collect();
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}
