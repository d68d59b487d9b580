//! The `$filter` tokenizer: punctuation, quoted strings and "bare" runs (words, numbers, GUIDs,
//! dates), each with its character position for error messages.

use super::ODataError;

/// One token of a `$filter` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Comma,
    Slash,
    Colon,
    /// A single-quoted string with `''` unescaped, or the value of a qualified enum literal
    /// (`microsoft.graph.depTokenType'dep'` lexes as `Str("dep")`).
    Str(String),
    /// An unquoted run: keyword, property, function name, number, GUID or `DateTimeOffset`.
    Bare(String),
    End,
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::LParen => "'('".to_owned(),
            Tok::RParen => "')'".to_owned(),
            Tok::Comma => "','".to_owned(),
            Tok::Slash => "'/'".to_owned(),
            Tok::Colon => "':'".to_owned(),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Bare(s) => format!("'{s}'"),
            Tok::End => "end of input".to_owned(),
        }
    }
}

/// A token and the zero-based character offset where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) pos: usize,
}

/// Splits a decoded `$filter` value into tokens; the last token is always [`Tok::End`].
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, ODataError> {
    let mut lexer = Lexer {
        chars: input.chars().collect(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        while lexer.peek().is_some_and(char::is_whitespace) {
            lexer.pos += 1;
        }
        let pos = lexer.pos;
        let tok = match lexer.peek() {
            None => {
                out.push(Token { tok: Tok::End, pos });
                return Ok(out);
            }
            Some('\'') => Tok::Str(lexer.string()?),
            Some(c) if is_bare_start(c) => lexer.bare()?,
            Some(c) => {
                lexer.pos += 1;
                punctuation(c)
                    .ok_or_else(|| ODataError::syntax(pos, format!("unexpected character '{c}'")))?
            }
        };
        out.push(Token { tok, pos });
    }
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// A quoted string starting at the current `'`; `''` stands for one quote.
    fn string(&mut self) -> Result<String, ODataError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(ODataError::syntax(start, "unterminated string literal")),
                Some('\'') if self.chars.get(self.pos + 1) == Some(&'\'') => {
                    value.push('\'');
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(value);
                }
                Some(c) => {
                    value.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A run of word characters. Runs that start like a number may also hold `:` and `+`, so a
    /// `DateTimeOffset` such as `2026-01-01T00:00:00+02:00` is one token.
    fn bare(&mut self) -> Result<Tok, ODataError> {
        let start = self.pos;
        let first_digit = self.chars[start..].iter().find(|c| !matches!(c, '-' | '+'));
        let numeric = first_digit.is_some_and(char::is_ascii_digit);
        while let Some(c) = self.peek() {
            let dated = numeric && matches!(c, ':' | '+');
            if !(is_bare_start(c) || c == '.' || dated) {
                break;
            }
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if !numeric && text.contains('.') && self.peek() == Some('\'') {
            // Qualified enum literal: the type name is dropped, the member is compared as a string.
            return self.string().map(Tok::Str);
        }
        Ok(Tok::Bare(text))
    }
}

fn is_bare_start(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+')
}

fn punctuation(c: char) -> Option<Tok> {
    match c {
        '(' => Some(Tok::LParen),
        ')' => Some(Tok::RParen),
        ',' => Some(Tok::Comma),
        '/' => Some(Tok::Slash),
        ':' => Some(Tok::Colon),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(input: &str) -> Vec<Tok> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn splits_words_strings_and_punctuation() {
        let bare = |s: &str| Tok::Bare(s.to_owned());
        assert_eq!(
            toks("contains(serialNumber,'C0''2')"),
            vec![
                bare("contains"),
                Tok::LParen,
                bare("serialNumber"),
                Tok::Comma,
                Tok::Str("C0'2".into()),
                Tok::RParen,
                Tok::End
            ]
        );
        assert_eq!(
            toks("d ge 2026-01-01T00:00:00.5+02:00"),
            vec![
                bare("d"),
                bare("ge"),
                bare("2026-01-01T00:00:00.5+02:00"),
                Tok::End
            ]
        );
        assert_eq!(
            toks("t eq microsoft.graph.depTokenType'dep'"),
            vec![bare("t"), bare("eq"), Tok::Str("dep".into()), Tok::End]
        );
        assert_eq!(
            toks("tags/any(t:t eq 1)")[..5],
            [
                bare("tags"),
                Tok::Slash,
                bare("any"),
                Tok::LParen,
                bare("t")
            ]
        );
    }

    #[test]
    fn reports_positions() {
        let tokens = tokenize("  a eq 'x'").unwrap();
        assert_eq!(
            tokens.iter().map(|t| t.pos).collect::<Vec<_>>(),
            vec![2, 4, 7, 10]
        );
        assert_eq!(
            tokenize("a eq 'x").unwrap_err().to_string(),
            "Syntax error in $filter at position 5: unterminated string literal."
        );
        assert_eq!(
            tokenize("a eq ;").unwrap_err().to_string(),
            "Syntax error in $filter at position 5: unexpected character ';'."
        );
    }
}
