//! The `$filter` recursive-descent parser (precedence: `or` < `and` < `not` < comparison).

use super::ODataError;
use super::ast::{CaseFunction, CmpOp, Expr, Literal, Operand, StringFunction};
use super::lexer::{Tok, Token, tokenize};
use crate::domain::time::parse_ticks;

/// Longest accepted `$filter` value, in characters.
pub const MAX_FILTER_LEN: usize = 4096;

/// Deepest accepted nesting of parentheses and `not`.
pub const MAX_FILTER_DEPTH: usize = 64;

/// Parses a decoded `$filter` value.
pub fn parse_filter(input: &str) -> Result<Expr, ODataError> {
    if input.chars().count() > MAX_FILTER_LEN {
        return Err(ODataError::FilterTooLong(MAX_FILTER_LEN));
    }
    let mut parser = Parser {
        tokens: tokenize(input)?,
        idx: 0,
        depth: 0,
    };
    let expr = parser.or_expr()?;
    let end = parser.next();
    if end.tok != Tok::End {
        return Err(unexpected(&end, "'and', 'or' or the end"));
    }
    Ok(expr)
}

// Binary chains are built in loops, so only parentheses and `not` recurse in the parser; the
// length limit bounds the (left-deep) chains that compilation walks recursively.
struct Parser {
    tokens: Vec<Token>,
    idx: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.idx).map_or(&Tok::End, |t| &t.tok)
    }

    fn peek_at(&self, offset: usize) -> &Tok {
        self.tokens
            .get(self.idx + offset)
            .map_or(&Tok::End, |t| &t.tok)
    }

    fn next(&mut self) -> Token {
        let token = self.tokens.get(self.idx).cloned();
        self.idx += 1;
        token.unwrap_or(Token {
            tok: Tok::End,
            pos: self.tokens.last().map_or(0, |t| t.pos),
        })
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let hit = matches!(self.peek(), Tok::Bare(w) if w.eq_ignore_ascii_case(keyword));
        if hit {
            self.idx += 1;
        }
        hit
    }

    fn expect(&mut self, want: &Tok) -> Result<(), ODataError> {
        let token = self.next();
        if &token.tok == want {
            return Ok(());
        }
        Err(unexpected(&token, &want.describe()))
    }

    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, ODataError>,
    ) -> Result<T, ODataError> {
        if self.depth >= MAX_FILTER_DEPTH {
            return Err(ODataError::FilterTooDeep(MAX_FILTER_DEPTH));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn or_expr(&mut self) -> Result<Expr, ODataError> {
        let mut left = self.and_expr()?;
        while self.eat_keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, ODataError> {
        let mut left = self.unary()?;
        while self.eat_keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ODataError> {
        if self.eat_keyword("not") {
            return self.nested(|p| Ok(Expr::Not(Box::new(p.unary()?))));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ODataError> {
        let token = self.next();
        match token.tok {
            Tok::LParen => self.nested(|p| {
                let inner = p.or_expr()?;
                p.expect(&Tok::RParen)?;
                Ok(inner)
            }),
            Tok::Bare(ref name) if *self.peek() == Tok::LParen => self.function(name, &token),
            Tok::Bare(_) => {
                let property = self.property(&token)?;
                self.comparison(property)
            }
            _ => Err(unexpected(&token, "an expression")),
        }
    }

    /// A property, or a type-cast path `microsoft.graph.T/property`; rejects other paths,
    /// naming lambdas (`tags/any(...)`) when present.
    fn property(&mut self, token: &Token) -> Result<Operand, ODataError> {
        let Tok::Bare(name) = &token.tok else {
            return Err(unexpected(token, "a property name"));
        };
        if *self.peek() == Tok::Slash {
            if is_qualified_name(name)
                && let Tok::Bare(segment) = self.peek_at(1).clone()
                && is_identifier(&segment)
                && !matches!(self.peek_at(2), Tok::Slash | Tok::LParen)
            {
                self.idx += 2;
                return Ok(Operand {
                    name: segment,
                    cast: Some(name.clone()),
                    case: None,
                });
            }
            return Err(self.path_error(name));
        }
        if !is_identifier(name) {
            return Err(unexpected(token, "a property name"));
        }
        Ok(Operand::property(name.clone()))
    }

    /// The error for an unsupported path starting at `name` (the `/` is next).
    fn path_error(&mut self, name: &str) -> ODataError {
        let mut path = name.to_owned();
        while *self.peek() == Tok::Slash {
            self.idx += 1;
            let segment = match self.next().tok {
                Tok::Bare(s) => s,
                other => other.describe(),
            };
            if ["any", "all"]
                .iter()
                .any(|l| segment.eq_ignore_ascii_case(l))
                && *self.peek() == Tok::LParen
            {
                return ODataError::unsupported("lambda operator", segment);
            }
            path = format!("{path}/{segment}");
        }
        ODataError::PropertyPath {
            path,
            clause: "$filter",
        }
    }

    /// An operand: a property (or cast path), or `tolower(…)`/`toupper(…)` around one.
    fn operand(&mut self, token: &Token) -> Result<Operand, ODataError> {
        if let Tok::Bare(name) = &token.tok
            && *self.peek() == Tok::LParen
        {
            let case = match name.to_ascii_lowercase().as_str() {
                "tolower" => CaseFunction::ToLower,
                "toupper" => CaseFunction::ToUpper,
                _ => return Err(unexpected(token, "a property name")),
            };
            self.expect(&Tok::LParen)?;
            let inner = self.next();
            let mut operand = self.property(&inner)?;
            self.expect(&Tok::RParen)?;
            operand.case = Some(case);
            return Ok(operand);
        }
        self.property(token)
    }

    fn comparison(&mut self, property: Operand) -> Result<Expr, ODataError> {
        let token = self.next();
        let Tok::Bare(word) = &token.tok else {
            return Err(unexpected(
                &token,
                &format!("an operator after '{}'", property.describe()),
            ));
        };
        if word.eq_ignore_ascii_case("in") {
            return self.in_list(property);
        }
        if word.eq_ignore_ascii_case("has") {
            let value = self.literal()?;
            return Ok(Expr::Has { property, value });
        }
        let Some(op) = CmpOp::parse(word) else {
            return Err(unknown_operator(&token, word));
        };
        let value = self.literal()?;
        Ok(Expr::Compare {
            property,
            op,
            value,
        })
    }

    fn in_list(&mut self, property: Operand) -> Result<Expr, ODataError> {
        self.expect(&Tok::LParen)?;
        let mut values = vec![self.literal()?];
        while *self.peek() == Tok::Comma {
            self.idx += 1;
            values.push(self.literal()?);
        }
        self.expect(&Tok::RParen)?;
        Ok(Expr::In { property, values })
    }

    fn function(&mut self, name: &str, token: &Token) -> Result<Expr, ODataError> {
        let func = match name.to_ascii_lowercase().as_str() {
            "startswith" => StringFunction::StartsWith,
            "endswith" => StringFunction::EndsWith,
            "contains" => StringFunction::Contains,
            "tolower" | "toupper" => {
                let operand = self.operand(token)?;
                return self.comparison(operand);
            }
            "isof" => return self.isof(),
            "any" | "all" => return Err(ODataError::unsupported("lambda operator", name)),
            _ if is_identifier(name) || name.contains('.') => {
                return Err(ODataError::unsupported("function", name));
            }
            _ => return Err(unexpected(token, "an expression")),
        };
        self.expect(&Tok::LParen)?;
        let property = self.next();
        let property = self.operand(&property)?;
        self.expect(&Tok::Comma)?;
        let token = self.next();
        let Tok::Str(value) = token.tok else {
            return Err(unexpected(&token, "a string"));
        };
        self.expect(&Tok::RParen)?;
        Ok(self.function_comparison(Expr::Function {
            func,
            property,
            value,
        }))
    }

    /// `isof('microsoft.graph.T')` or `isof(microsoft.graph.T)`, about the item itself; the
    /// two-argument form (a property's type) is refused.
    fn isof(&mut self) -> Result<Expr, ODataError> {
        self.expect(&Tok::LParen)?;
        let token = self.next();
        let type_name = match token.tok {
            Tok::Str(ref s) => s.clone(),
            Tok::Bare(ref s) if is_qualified_name(s) => s.clone(),
            Tok::Bare(_) if *self.peek() == Tok::Comma => {
                return Err(ODataError::unsupported("function", "isof(property, type)"));
            }
            _ => return Err(unexpected(&token, "a type name")),
        };
        self.expect(&Tok::RParen)?;
        Ok(self.function_comparison(Expr::IsOf { type_name }))
    }

    /// Accepts the redundant `startswith(p,'x') eq true` spelling some clients use.
    fn function_comparison(&mut self, call: Expr) -> Expr {
        let op = match self.peek() {
            Tok::Bare(w) => CmpOp::parse(w).filter(|op| matches!(op, CmpOp::Eq | CmpOp::Ne)),
            _ => None,
        };
        let expected = match self.peek_at(1) {
            Tok::Bare(w) if w.eq_ignore_ascii_case("true") => true,
            Tok::Bare(w) if w.eq_ignore_ascii_case("false") => false,
            _ => return call,
        };
        let Some(op) = op else { return call };
        self.idx += 2;
        if (op == CmpOp::Eq) == expected {
            call
        } else {
            Expr::Not(Box::new(call))
        }
    }

    fn literal(&mut self) -> Result<Literal, ODataError> {
        let token = self.next();
        match token.tok {
            Tok::Str(s) => Ok(Literal::String(s)),
            Tok::Bare(ref text) => {
                bare_literal(text).unwrap_or_else(|| Err(unexpected(&token, "a literal")))
            }
            _ => Err(unexpected(&token, "a literal")),
        }
    }
}

/// "expected X but found Y" at the token.
fn unexpected(token: &Token, expected: &str) -> ODataError {
    let found = token.tok.describe();
    ODataError::syntax(token.pos, format!("expected {expected} but found {found}"))
}

fn unknown_operator(token: &Token, word: &str) -> ODataError {
    const UNSUPPORTED: [&str; 6] = ["add", "sub", "mul", "div", "divby", "mod"];
    if UNSUPPORTED.iter().any(|op| word.eq_ignore_ascii_case(op)) {
        return ODataError::unsupported("operator", word);
    }
    unexpected(token, "a comparison operator")
}

/// Classifies an unquoted literal; `None` when it is not a literal at all (e.g. a property).
fn bare_literal(text: &str) -> Option<Result<Literal, ODataError>> {
    let literal = match text.to_ascii_lowercase().as_str() {
        "null" => Literal::Null,
        "true" => Literal::Bool(true),
        "false" => Literal::Bool(false),
        _ if is_guid(text) => Literal::Guid(text.to_owned()),
        _ => match text.parse::<i64>() {
            Ok(n) => Literal::Int(n),
            Err(_)
                if text
                    .trim_start_matches(['-', '+'])
                    .starts_with(|c: char| c.is_ascii_digit()) =>
            {
                let ticks =
                    parse_ticks(text).ok_or_else(|| ODataError::unsupported("literal", text));
                return Some(ticks.map(Literal::DateTime));
            }
            Err(_) => return None,
        },
    };
    Some(Ok(literal))
}

/// `letters, digits and _`, not starting with a digit.
pub(crate) fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A namespace-qualified type name such as `microsoft.graph.depIOSEnrollmentProfile`.
fn is_qualified_name(s: &str) -> bool {
    s.contains('.') && s.split('.').all(is_identifier)
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
