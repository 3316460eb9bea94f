//! Free-text fields every surface takes (the APIs, the CLI, later the dashboard): lengths,
//! control characters, URLs and email addresses. One rule per kind of field; each surface
//! renders a [`FieldError`] its own way (an API error code, a CLI flag).

/// Longest free-text identifier (reference, invoice, names).
pub const MAX_TEXT: usize = 255;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 1000;
/// Longest URL.
pub const MAX_URL: usize = 2048;

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Given, but empty.
    Empty,
    /// Longer than the limit, in characters.
    TooLong(usize),
    /// A control character other than a newline or a tab.
    ControlCharacters,
    /// Not an absolute http(s) URL.
    NotUrl,
    /// Not an email address.
    NotEmail,
}

/// A field refused, with its name as the caller knows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {}", describe(.problem))]
pub struct FieldError {
    /// The field's name (`description`, `--site-url`).
    pub field: String,
    /// What is wrong.
    pub problem: Problem,
}

fn describe(p: &Problem) -> String {
    match p {
        Problem::Empty => "must not be empty".to_owned(),
        Problem::TooLong(max) => format!("is longer than {max} characters"),
        Problem::ControlCharacters => "contains control characters".to_owned(),
        Problem::NotUrl => "must be an absolute http(s) URL".to_owned(),
        Problem::NotEmail => "is not an email address".to_owned(),
    }
}

impl FieldError {
    fn new(field: &str, problem: Problem) -> Self {
        FieldError { field: field.to_owned(), problem }
    }

    /// The same problem under another name (a CLI flag for an engine field).
    pub fn renamed(self, field: impl Into<String>) -> Self {
        FieldError { field: field.into(), ..self }
    }
}

/// An optional text field, kept as given: refused when empty, longer than `max` characters
/// or holding control characters (newlines and tabs are text).
pub fn text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, FieldError> {
    let Some(v) = v else { return Ok(None) };
    if v.is_empty() {
        return Err(FieldError::new(field, Problem::Empty));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(field, Problem::TooLong(max)));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, Problem::ControlCharacters));
    }
    Ok(Some(v))
}

/// An optional absolute http(s) URL.
pub fn url(field: &str, v: Option<String>) -> Result<Option<String>, FieldError> {
    let Some(v) = text(field, v, MAX_URL)? else { return Ok(None) };
    match url::Url::parse(&v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(Some(v)),
        _ => Err(FieldError::new(field, Problem::NotUrl)),
    }
}

/// An optional email address (one `@`, something on each side, a dot in the domain, no
/// spaces).
pub fn email(field: &str, v: Option<String>) -> Result<Option<String>, FieldError> {
    let Some(v) = text(field, v, MAX_TEXT)? else { return Ok(None) };
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(Some(v))
    } else {
        Err(FieldError::new(field, Problem::NotEmail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_name_themselves_in_their_errors() {
        let e = text("name", Some(String::new()), MAX_TEXT).err();
        assert_eq!(e.map(|e| e.to_string()).as_deref(), Some("`name` must not be empty"));
        assert_eq!(
            text("d", Some("a\u{7}".into()), 5).err().map(|e| e.problem),
            Some(Problem::ControlCharacters)
        );
        assert_eq!(text("d", Some("a\nb\tc".into()), 5), Ok(Some("a\nb\tc".into())));
        assert_eq!(text("d", Some("abcdef".into()), 5).err().map(|e| e.problem), Some(Problem::TooLong(5)));
        assert_eq!(url("u", Some("ftp://x".into())).err().map(|e| e.problem), Some(Problem::NotUrl));
        assert_eq!(email("e", Some("a b@c.d".into())).err().map(|e| e.problem), Some(Problem::NotEmail));
        let e = email("email", Some("x".into())).err().map(|e| e.renamed("--email").to_string());
        assert_eq!(e.as_deref(), Some("`--email` is not an email address"));
    }
}
