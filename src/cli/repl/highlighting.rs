//! Colours for what is being typed: keywords, strings, numbers, comments, `:commands` and
//! the names the session declares.

use super::names::Names;
use super::render::{paint, palette};
use super::scan::{self, Kind};

pub fn highlight(names: &Names, line: &str) -> String {
    let tokens = scan::tokens(line);
    let mut out = String::with_capacity(line.len() * 2);
    let mut at = 0;
    for (i, token) in tokens.iter().enumerate() {
        let text = token.text(line);
        let style = match token.kind {
            Kind::Command => palette::COMMAND,
            Kind::Str { .. } => palette::STRING,
            Kind::Number => palette::NUMBER,
            Kind::Comment => palette::COMMENT,
            Kind::Word if scan::is_keyword(line, &tokens, i) => palette::KEYWORD,
            Kind::Word if names.contains(text) => palette::NAME,
            Kind::Word | Kind::Punct(_) => continue,
        };
        out.push_str(&line[at..token.range.start]);
        out.push_str(&paint(true, style, text));
        at = token.range.end;
    }
    out.push_str(&line[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_keywords_strings_and_declared_names_only() {
        let names = Names {
            actions: vec!["tag_vip".into()],
            ..Names::default()
        };
        let painted = highlight(&names, r#"on x do tag_vip // "no""#);
        let strip = |s: &str| {
            let mut out = String::new();
            let mut in_escape = false;
            for c in s.chars() {
                match (in_escape, c) {
                    (_, '\x1b') => in_escape = true,
                    (true, 'm') => in_escape = false,
                    (false, c) => out.push(c),
                    _ => {}
                }
            }
            out
        };
        assert_eq!(strip(&painted), r#"on x do tag_vip // "no""#);
        assert!(painted.starts_with(&paint(true, palette::KEYWORD, "on")));
        assert!(painted.contains(&paint(true, palette::NAME, "tag_vip")));
        assert!(painted.contains(&paint(true, palette::COMMENT, r#"// "no""#)));
        assert!(painted.contains(" x "), "undeclared names stay plain");
    }
}
