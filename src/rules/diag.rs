//! Rule-file diagnostics: a stable code, the file, line and column, the offending line with a
//! caret under the exact span, and a hint that says how to fix it (after yara-x and rustc).

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// A loaded rule file: its path as the user gave it and its text, kept for rendering.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    fn line_text(&self, line: usize) -> &str {
        self.text.lines().nth(line - 1).unwrap_or("")
    }
}

/// One problem in a rule file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Stable identifier, documented in the README (`R001`…).
    pub code: &'static str,
    pub message: String,
    pub file: Arc<SourceFile>,
    pub span: Range<usize>,
    /// Short text printed after the caret.
    pub label: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, file: &Arc<SourceFile>, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            file: Arc::clone(file),
            span,
            label: String::new(),
            hint: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn location(&self) -> String {
        let (line, col) = self.file.line_col(self.span.start);
        format!("{}:{line}:{col}", self.file.path.display())
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.file.line_col(self.span.start);
        let text = self.file.line_text(line);
        let gutter = line.to_string().len();
        writeln!(f, "error[{}]: {}", self.code, self.message)?;
        writeln!(f, "{:gutter$}--> {}", "", self.location())?;
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{line} | {text}")?;
        // The caret covers the span on its first line, at least one character.
        let line_chars = text.chars().count();
        let span_chars = self
            .file
            .text
            .get(self.span.clone())
            .map_or(1, |s| s.lines().next().unwrap_or("").chars().count())
            .max(1);
        let width = span_chars.min(line_chars.saturating_sub(col - 1).max(1));
        let label = if self.label.is_empty() {
            String::new()
        } else {
            format!(" {}", self.label)
        };
        writeln!(f, "{:gutter$} | {}{}{label}", "", " ".repeat(col - 1), "^".repeat(width))?;
        if let Some(hint) = &self.hint {
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{:gutter$} = hint: {hint}", "")?;
        }
        Ok(())
    }
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_caret_and_hint() {
        let file = Arc::new(SourceFile {
            path: "x.toml".into(),
            text: "[[zone]]\ntz = \"Europe/Pari\"\n".into(),
        });
        let d = Diagnostic::new("R010", &file, 14..27, "unknown time zone `Europe/Pari`")
            .label("not an IANA zone")
            .hint("did you mean `Europe/Paris`?");
        assert_eq!(d.location(), "x.toml:2:6");
        let text = d.to_string();
        assert!(
            text.contains("2 | tz = \"Europe/Pari\"\n  |      ^^^^^^^^^^^^^ not an IANA zone\n"),
            "{text}"
        );
        assert!(text.ends_with("= hint: did you mean `Europe/Paris`?\n"));
    }

    #[test]
    fn suggestions_only_for_close_words() {
        assert_eq!(did_you_mean("polls_clsoe", ["polls_close", "polls_open"]), Some("polls_close"));
        assert_eq!(did_you_mean("banana", ["polls_close", "polls_open"]), None);
    }
}
