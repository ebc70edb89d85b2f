//! The recovery path: each declaration (from one column-0 keyword to the next) is parsed
//! alone, and inside one that pest refuses, each broken member — a field, a parameter, a
//! test step — is reported and left out, so the declaration keeps its name and everything
//! else that was written. A broken field whose key can be read stays in the tree as that
//! key with an `ExprKind::Error` value, so the checker reports neither the field missing
//! nor anything its value would have said.
//!
//! pest stays the judge and the voice: every message is pest's failure (or the scanner's
//! problem) explained by `errors`, and a text counts as parsed only when pest accepts it;
//! only a `}` that closed a block too early is told here, where it was typed, instead of
//! the block's own `}` the scanner then found stray. Recovery only decides what to leave
//! out before asking pest again: the member around where pest stopped is turned into
//! blanks (offsets unchanged), until the declaration parses or what is wrong is its
//! header; a declaration's name a space was typed into (`action gre et {`) is read joined,
//! the space moved after it.

use pest::Parser as _;

use super::ast::{self, AgentEntry, Expr, ExprKind, Field, Ident, Item, Name, Word};
use super::build::Builder;
use super::errors;
use super::grammar::{AgentParser, Rule};
use super::keywords;
use super::lexer::{self, Quote};
use super::scan;
use super::{Source, MAX_ERRORS};
use crate::diagnostics::{Code, Diagnostic, FileId, Span};

/// How often one declaration is parsed again after leaving a member out: each try blanks
/// at least one more character, this bounds the work on a declaration broken everywhere.
const TRIES_PER_DECLARATION: usize = 24;

/// What the recovery path makes of a file.
pub struct Recovered<'o> {
    pub items: &'o mut Vec<Item>,
    pub diagnostics: &'o mut Vec<Diagnostic>,
    pub unparsed: &'o mut Vec<ast::Unparsed>,
}

/// Parses every declaration of the file alone and keeps what parses of each.
pub fn parse_each_item(source: &Source, scanned: &scan::Scan, out: &mut Recovered) {
    let Source { original, base, .. } = *source;
    let starts = &scanned.item_starts;
    let in_chunk = |d: &&Diagnostic, end: usize| (d.span().start as usize) < base + end;
    let mut problems = scanned.problems.iter().peekable();
    let mut strays = scanned.stray_closers.iter().peekable();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(original.len());
        let chunk_problems: Vec<&Diagnostic> =
            std::iter::from_fn(|| problems.next_if(|p| in_chunk(p, end))).collect();
        let chunk_strays: Vec<&Diagnostic> =
            std::iter::from_fn(|| strays.next_if(|p| in_chunk(p, end))).collect();
        if out.diagnostics.len() > MAX_ERRORS {
            break;
        }
        Declaration::new(source, start, end).recover(&chunk_problems, &chunk_strays, out);
    }
}

/// What a list of a declaration holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holds {
    /// `key: value` fields (and, in an agent, its `params` entry).
    Fields,
    /// An agent's `params: { … }` or a task's `( … )`.
    Params,
    /// A test's steps.
    Steps,
}

/// One member of a list: a field, a parameter or a step, from after the separator before
/// it to the separator (or closer) after it; offsets in the declaration's text.
#[derive(Clone, Copy, Debug)]
struct Member {
    start: usize,
    end: usize,
    /// `None`: not a member but a declaration after this one, to the end of the text.
    holds: Option<Holds>,
}

/// Where in a declaration a position is.
#[derive(Debug)]
enum Place {
    /// Inside a member of one of its lists.
    Member(Member),
    /// In its first words, or anywhere no list explains.
    Header,
    /// On a line of its own after the declaration ended: text the scanner did not see
    /// start a declaration (`acton greet {`).
    After { line_start: usize },
    /// After the declaration's block was closed, but not on a line of its own at column 0,
    /// with a `}` still to come: the block went on, and the closer at this offset ended it
    /// too early (`task t() on api {}`, then its fields); or an agent's `params` list did
    /// (`params: {}`, then parameters).
    ClosedEarly { closer: usize, params: bool },
    /// On the opener of one of its lists.
    ListOpener,
}

/// One declaration being recovered.
struct Declaration<'s, 't> {
    source: &'s Source<'t>,
    start: usize,
    /// The text pest is given: blanked as `Source::blanked`, and then every member left
    /// out turned into spaces.
    text: String,
    /// The declaration's first word (`action`, `on`, …) and where it starts.
    keyword: Ident,
    left_out: Vec<Member>,
    /// The name it declares, when a space was typed into it (`action gre et {`): joined,
    /// as it was meant, over the two pieces.
    joined: Option<Ident>,
    /// `text` differs from the blanked source: messages then quote `text`, where what was
    /// left out no longer stands.
    changed: bool,
}

impl<'s, 't> Declaration<'s, 't> {
    fn new(source: &'s Source<'t>, start: usize, end: usize) -> Self {
        let text = source.blanked[start..end].to_string();
        let at = text.len() - text.trim_start_matches([' ', '\n']).len();
        let keyword = word_at(&text, at, source.file, source.base + start);
        Declaration {
            source,
            start,
            text,
            keyword,
            left_out: Vec::new(),
            joined: None,
            changed: false,
        }
    }

    fn original(&self) -> &'t str {
        &self.source.original[self.start..self.start + self.text.len()]
    }

    fn base(&self) -> usize {
        self.source.base + self.start
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source.file, self.base() + start, self.base() + end)
    }

    fn recover(mut self, problems: &[&Diagnostic], strays: &[&Diagnostic], out: &mut Recovered) {
        out.diagnostics
            .extend(problems.iter().map(|p| (*p).clone()));
        for problem in problems {
            if !self.leave_out_problem(problem) {
                return self.give_up(problems, out);
            }
        }
        if !problems.is_empty() {
            // A string that ran to the end of its line took the list's closer with it.
            if let Some(opener) = Walk::new(&self.text, &self.keyword.name).open_list() {
                self.close_list(opener, opener + 1);
            }
        }
        let mut strays: Vec<&Diagnostic> = strays.to_vec();
        let mut reopened = None;
        let early = Walk::new(&self.text, &self.keyword.name).params_closer_not_alone();
        let stray = early.and_then(|closer| self.stray_after(closer, &strays));
        if let (Some(closer), Some(stray)) = (early, stray) {
            // A `}` typed into the parameters closed them: theirs then closed the agent, and
            // the agent's is the stray one the scanner found. The mistake is the first.
            strays.remove(stray);
            self.reopen(closer);
            reopened = Some(closer);
            out.diagnostics.push(self.closed_too_early(closer, true));
        }
        for _ in 0..TRIES_PER_DECLARATION {
            let error = match errors::parse_detailed(Rule::file, &self.text) {
                Ok(pair) => {
                    out.diagnostics.extend(strays.into_iter().cloned());
                    return self.build(pair, out);
                }
                Err(error) => error,
            };
            let at = errors::stopped_at(&error).min(self.text.len());
            let stray_to_come = !strays.is_empty();
            let place = self.place(at);
            let in_header = matches!(place, Place::Header);
            if let (true, Place::ClosedEarly { closer, params }) = (stray_to_come, &place) {
                let closer = *closer;
                // The `}` still to come (a stray closer, which the scanner reports) is where
                // the block ends. The mistake is the first, typed into the block, when
                // something was written between the two or only the second is on a line of
                // its own; else (`}}`) either could be.
                let typed = self.stray_after(closer, &strays).filter(|&k| {
                    let (text, stray) = (self.text.as_bytes(), self.offset(strays[k]));
                    !self.text[closer + 1..stray].trim().is_empty()
                        || (alone_on_its_line(text, stray) && !alone_on_its_line(text, closer))
                });
                if let Some(stray) = typed {
                    strays.remove(stray);
                    out.diagnostics.push(self.closed_too_early(closer, *params));
                }
                self.reopen(closer);
                reopened = Some(closer);
                continue;
            }
            if let (Some(closer), Place::Member(member)) = (reopened.take(), place) {
                // Without the closer the rest of its line may not read (`pati ent: record`,
                // `/ /` of a comment): that is the closer's doing too.
                let bytes = self.text.as_bytes();
                let line_end = lexer::line_end(bytes, closer);
                let rest = bytes.get(member.end..line_end).unwrap_or_default();
                let member = Member {
                    end: if closes_nothing(rest) {
                        member.end.max(line_end)
                    } else {
                        member.end
                    },
                    ..member
                };
                if (member.start..=member.end).contains(&closer) && self.leave_out(member) {
                    continue;
                }
            }
            let quoted = if self.changed {
                &self.text
            } else {
                self.original()
            };
            let described = errors::describe(&error, self.source.file, quoted, self.base());
            if in_header && self.join_name(at) {
                out.diagnostics.push(described);
                continue;
            }
            if let Some(stray) = self.open_params(at, &strays) {
                // The `}` the scanner found stray closes the `{` that was left out.
                strays.remove(stray);
                out.diagnostics.push(described);
                continue;
            }
            // A stray closer is the better explanation unless pest stopped before it.
            let explained = match strays
                .iter()
                .position(|s| s.span().start <= described.span().start)
            {
                Some(k) => strays.remove(k).clone(),
                None => described,
            };
            let deep = explained.code == Code::TooDeep;
            let left_out = !deep && self.leave_out_at(at);
            // Once something was left out, an error nothing more can be left out for is
            // its consequence (the block's end swallowed with it), not a mistake of its own.
            if left_out || self.left_out.is_empty() {
                out.diagnostics.push(explained);
            }
            if !left_out || out.diagnostics.len() > MAX_ERRORS {
                break;
            }
        }
        self.give_up(&[], out);
    }

    /// `action gre et {`, with pest stopped at `et`: the name is read joined (`greet` and
    /// the space after it, offsets after it unchanged), and declared as it was meant.
    fn join_name(&mut self, at: usize) -> bool {
        let pos = at + self.text[at..].len() - self.text[at..].trim_start_matches(' ').len();
        let Some((start, first, rest)) = errors::space_in_name(&self.text, pos, false) else {
            return false;
        };
        let name = format!("{first}{rest}");
        if self.joined.is_some() || keywords::is_keyword(&name) {
            return false;
        }
        let end = pos + rest.len();
        self.text.replace_range(start..end, &format!("{name} "));
        self.changed = true;
        self.joined = Some(Ident {
            name,
            span: self.span(start, end),
        });
        true
    }

    /// The first of `strays` after `at`.
    fn stray_after(&self, at: usize, strays: &[&Diagnostic]) -> Option<usize> {
        strays.iter().position(|s| self.offset(s) > at)
    }

    /// Where a diagnostic starts in the declaration's text.
    fn offset(&self, d: &Diagnostic) -> usize {
        (d.span().start as usize)
            .saturating_sub(self.base())
            .min(self.text.len())
    }

    /// The `}` at `closer`, typed into the declaration's block (or an agent's `params`),
    /// closed it: the block's own closer is then stray.
    fn closed_too_early(&self, closer: usize, params: bool) -> Diagnostic {
        let (what, rest) = if params {
            ("`params`".to_string(), "the parameters go")
        } else {
            (
                format!("the `{}` block", self.keyword.name),
                "the block goes",
            )
        };
        Diagnostic::new(
            Code::Unclosed,
            "unexpected `}`",
            self.span(closer, closer + 1),
        )
        .with_label_message(format!("this closes {what} too early"))
        .with_help(format!("remove it: {rest} on after it"))
    }

    /// `params:` with nothing after it on its line, in an agent, and a stray `}` to come:
    /// its `{` was left out (the parameters below it read as fields, and their `}` closed
    /// the agent). Puts the `{` in the blank after the `:`; the stray closer it pairs with.
    fn open_params(&mut self, at: usize, strays: &[&Diagnostic]) -> Option<usize> {
        if self.keyword.name != "agent" || at >= self.text.len() {
            return None;
        }
        let line_start = self.text[..at].rfind('\n').map_or(0, |n| n + 1);
        let line_end = lexer::line_end(self.text.as_bytes(), at);
        let head = self.text[line_start..at].trim();
        if head != "params:" || !self.text[at..line_end].trim().is_empty() {
            return None;
        }
        if !matches!(
            self.place(at),
            Place::Member(Member {
                holds: Some(Holds::Fields),
                ..
            })
        ) {
            return None;
        }
        let stray = self.stray_after(at, strays)?;
        let colon = line_start + self.text[line_start..at].find(':')?;
        let blank = (colon + 1..=line_end.min(self.text.len() - 1))
            .find(|&i| matches!(self.text.as_bytes()[i], b' ' | b'\n'))?;
        self.text.replace_range(blank..blank + 1, "{");
        self.changed = true;
        Some(stray)
    }

    /// Leaves out what a scanner problem spoils; `false` when that is the header.
    fn leave_out_problem(&mut self, problem: &Diagnostic) -> bool {
        let at = |span: Span| (span.start as usize).saturating_sub(self.base());
        let primary = at(problem.span());
        match problem.code {
            Code::UnterminatedString
                if Quote::at(self.text.as_bytes(), primary) == Some(Quote::Plain) =>
            {
                self.leave_out_member(primary)
            }
            Code::Unclosed => {
                let opener = problem
                    .labels
                    .iter()
                    .find(|l| !l.primary)
                    .map(|l| at(l.span));
                match opener {
                    Some(opener) if matches!(self.place(opener), Place::ListOpener) => {
                        self.close_list(opener, primary)
                    }
                    Some(opener) => self.leave_out_member(opener),
                    None => self.leave_out_member(primary),
                }
            }
            _ => false,
        }
    }

    /// A list left open: its closer is put where the scanner expected it, when a blank
    /// stands there to take its place.
    fn close_list(&mut self, opener: usize, expected: usize) -> bool {
        let closer = match self.text.as_bytes()[opener] {
            b'(' => ")",
            _ => "}",
        };
        // The last blank, so that every member written before it stays inside the list.
        let bytes = self.text.as_bytes();
        let blank_at = (expected.min(bytes.len())..bytes.len())
            .rev()
            .find(|&i| bytes[i] == b' ' || bytes[i] == b'\n');
        match blank_at {
            Some(i) => {
                self.text.replace_range(i..i + 1, closer);
                self.changed = true;
                true
            }
            None => false,
        }
    }

    /// Leaves out the member around `at`; `false` when `at` is in the header.
    fn leave_out_member(&mut self, at: usize) -> bool {
        match self.place(at) {
            Place::Member(member) => self.leave_out(member),
            Place::After { line_start } => self.leave_out_after(line_start),
            Place::ClosedEarly { .. } | Place::Header | Place::ListOpener => false,
        }
    }

    /// Leaves out what pest stopped at; `false` when nothing can be left out.
    fn leave_out_at(&mut self, at: usize) -> bool {
        match self.place(at) {
            Place::Member(member) => {
                if self.separate_at(member, at) {
                    return true;
                }
                let member = self.with_dangling_operator(member);
                self.leave_out(member)
            }
            Place::After { line_start } => self.leave_out_after(line_start),
            Place::ClosedEarly { closer, .. } => {
                self.reopen(closer);
                true
            }
            Place::Header | Place::ListOpener => false,
        }
    }

    /// `member` and the one before it when that one ends with an infix operator (`x -`):
    /// a line may break after one, so it read on into `member`, and leaving out `member`
    /// alone would let it read on into the next.
    fn with_dangling_operator(&self, member: Member) -> Member {
        let before = self.text[..member.start].trim_end_matches([' ', '\n', ',']);
        // Among parameters a lone `?` ends a type (`text?`): only `??` is an operator.
        let question = before.ends_with('?')
            && (member.holds != Some(Holds::Params) || before.ends_with("??"));
        let dangling = question
            || before.ends_with(['+', '-', '*', '/', '%', '<', '>', '='])
            || [" and", " or", " in", " not"]
                .iter()
                .any(|w| before.ends_with(w));
        match self.place(before.len().saturating_sub(1)) {
            Place::Member(previous) if dangling && previous.holds == member.holds => Member {
                start: previous.start,
                ..member
            },
            _ => member,
        }
    }

    /// `a: 1 b: 2`: a new field (or step) starts where pest stopped, after a blank; the
    /// blank becomes the line break that was forgotten.
    fn separate_at(&mut self, member: Member, at: usize) -> bool {
        let bytes = self.text.as_bytes();
        if at <= member.start || at >= bytes.len() || bytes[at - 1] != b' ' {
            return false;
        }
        let word = lexer::word_len(bytes, at);
        let starts_member = match member.holds.unwrap_or(Holds::Fields) {
            Holds::Steps => ["mock", "send", "expect"].contains(&&self.text[at..at + word]),
            Holds::Fields | Holds::Params => {
                word > 0
                    && self.text[at + word..]
                        .trim_start_matches(' ')
                        .starts_with(':')
            }
        };
        let before = self.text[member.start..at].trim();
        let written_before = !before.is_empty();
        // Inside a bracket of the member (`f(l ength: 1)`) a `key:` is not a member of
        // the list; after a lone word (`patient _id: text`) it is the rest of a name a
        // space was typed into.
        let nested = open_brackets(&bytes[member.start..at]) > 0;
        let in_name = member.holds != Some(Holds::Steps) && lexer::is_word(before);
        if nested || in_name {
            return false;
        }
        if starts_member && written_before {
            self.text.replace_range(at - 1..at, "\n");
            self.changed = true;
        }
        starts_member && written_before
    }

    /// Takes out a closer that ended a list too early. It counts as left out, so that what
    /// the list seems to lack or have too many of is not reported (the checker's
    /// `incomplete_declarations`).
    fn reopen(&mut self, closer: usize) {
        self.blank(closer, closer + 1);
        self.left_out.push(Member {
            start: closer,
            end: closer + 1,
            holds: Some(Holds::Steps),
        });
    }

    fn leave_out(&mut self, member: Member) -> bool {
        if self.text[member.start..member.end].trim().is_empty() {
            return false;
        }
        // The comma after it goes too, so that what is left is still a list.
        let comma = self.text.as_bytes().get(member.end) == Some(&b',');
        self.blank(member.start, member.end + comma as usize);
        self.left_out.push(member);
        true
    }

    /// A declaration the scanner did not see start, after this one: reported as pest
    /// explained it, recorded as unparsed, and left out.
    fn leave_out_after(&mut self, line_start: usize) -> bool {
        if self.text[line_start..].trim().is_empty() {
            return false;
        }
        self.left_out.push(Member {
            start: line_start,
            end: self.text.len(),
            holds: None,
        });
        self.blank(line_start, self.text.len());
        true
    }

    fn blank(&mut self, start: usize, end: usize) {
        let blanks: String = self.text[start..end]
            .bytes()
            .map(|b| if b == b'\n' { '\n' } else { ' ' })
            .collect();
        // Spaces for whole characters keep the length: every byte of a character is
        // replaced, so `blanks` has as many bytes as the range.
        let blanks = if blanks.len() == end - start {
            blanks
        } else {
            " ".repeat(end - start)
        };
        self.text.replace_range(start..end, &blanks);
        self.changed = true;
    }

    /// The declaration parses now: its tree, with the broken fields as error nodes, and
    /// what was left out recorded as unparsed.
    fn build(&self, pair: pest::iterators::Pair<Rule>, out: &mut Recovered) {
        let first = out.items.len();
        Builder::new(
            self.source.file,
            self.base(),
            self.original(),
            out.diagnostics,
        )
        .items(pair, out.items);
        if let Some(joined) = &self.joined {
            let declared = out.items[first..]
                .iter_mut()
                .find_map(|item| name_of(item).filter(|name| name.span.start == joined.span.start));
            if let Some(name) = declared {
                *name = joined.clone();
            }
        }
        for member in &self.left_out {
            let Some(holds) = member.holds else {
                let (start, end) = trimmed(self.original(), member.start, member.end);
                out.unparsed.push(self.declaration_at(start, end));
                continue;
            };
            for (start, end) in self.heads(member) {
                let span = self.span(start, end);
                let head = head_at(self.original(), start, end, self.source.file, self.base());
                if holds == Holds::Fields && !head.name.is_empty() && head.name != "params" {
                    let key_end = head.span.end as usize - self.base();
                    let value_start = self.value_start(key_end, end);
                    let field = Field {
                        key: Word {
                            name: Name::new(&head.name),
                            span: head.span,
                        },
                        value: Expr {
                            kind: ExprKind::Error,
                            span: self.span(value_start, end),
                            parens: false,
                        },
                        span,
                    };
                    let items = &mut out.items[first..];
                    if let Some(item) = items.iter_mut().find(|i| contains(i.span(), span)) {
                        insert_field(item, field);
                    }
                }
                if holds == Holds::Params && !head.name.is_empty() {
                    let items = &mut out.items[first..];
                    if let Some(item) = items.iter_mut().find(|i| contains(i.span(), span)) {
                        insert_param(item, head.clone(), span);
                    }
                }
                // A parameter, or an agent's whole `params` entry, declares names.
                let declares = holds == Holds::Params || head.name == "params";
                out.unparsed.push(ast::Unparsed {
                    keyword: self.keyword.clone(),
                    name: (declares && !head.name.is_empty()).then_some(head),
                    member: true,
                    span,
                });
            }
        }
    }

    /// The members a member left out stands for: itself, and each later line it swallowed
    /// (an unclosed bracket runs on) that starts like a field, `key: …` (a key that is no
    /// field, such as a record's, is not reported: its value is broken).
    fn heads(&self, member: &Member) -> Vec<(usize, usize)> {
        let written = self.written();
        let (start, end) = trimmed(written, member.start, member.end);
        // A character typed before the key (`(blocks: […]`, `1blocks: […]`) does not
        // hide it: the first `key:` of the line is the key.
        let bytes = written.as_bytes();
        let line_end = written[start..end].find('\n').map_or(end, |n| start + n);
        let keyed = |at: usize| {
            let word = lexer::word_len(bytes, at);
            word > 0
                && written[at + word..end]
                    .trim_start_matches(' ')
                    .starts_with(':')
        };
        let start = if lexer::word_len(bytes, start) > 0 {
            start
        } else {
            (start..line_end)
                .find(|&at| !lexer::is_word_char(bytes[at.max(1) - 1]) && keyed(at))
                .unwrap_or(start)
        };
        // A bracket the member closes holds what is written inside it (`f(\n x: 1\n)`):
        // only one it leaves open runs on into other fields.
        let runs_on = open_brackets(&bytes[start..end]) > 0;
        let mut starts = vec![start];
        let mut line = start;
        while let Some(n) = written[line..end].find('\n') {
            line += n + 1;
            let at =
                line + written[line..end].len() - written[line..end].trim_start_matches(' ').len();
            let word = lexer::word_len(written.as_bytes(), at);
            let keyed = word > 0
                && written[at + word..end]
                    .trim_start_matches(' ')
                    .starts_with(':');
            let own_level = open_brackets(&bytes[start..line]) == 0;
            if keyed && (runs_on || own_level) {
                starts.push(at);
            }
        }
        let ends = starts.iter().skip(1).copied().chain([end]);
        starts
            .iter()
            .zip(ends)
            .map(|(&s, e)| trimmed(written, s, e))
            .collect()
    }

    /// The declaration's text as written, blanked as pest sees it (comments are spaces),
    /// whatever was left out since.
    fn written(&self) -> &'t str {
        &self.source.blanked[self.start..self.start + self.text.len()]
    }

    /// Where a broken field's value starts: after its key and `:`.
    fn value_start(&self, after_key: usize, end: usize) -> usize {
        let rest = &self.written()[after_key..end];
        let skipped = rest.len() - rest.trim_start_matches(' ').len();
        let colon = rest[skipped..].starts_with(':') as usize;
        let rest = &rest[skipped + colon..];
        (after_key + skipped + colon + rest.len() - rest.trim_start_matches([' ', '\n']).len())
            .min(end)
    }

    /// Nothing of the declaration parses: only its first words are kept, so that a name
    /// it declares is not reported unknown. Declarations that end before the first problem
    /// (rare: text glued to the previous one) are still kept.
    fn give_up(&self, problems: &[&Diagnostic], out: &mut Recovered) {
        if let Some(first) = problems.first() {
            let at = (first.span().start as usize).saturating_sub(self.base());
            let line_start = self.original()[..at.min(self.text.len())]
                .rfind('\n')
                .map_or(0, |n| n + 1);
            let blanked = &self.source.blanked[self.start..self.start + line_start];
            if let Ok(Some(pair)) = AgentParser::parse(Rule::file, blanked).map(|mut p| p.next()) {
                Builder::new(
                    self.source.file,
                    self.base(),
                    self.original(),
                    out.diagnostics,
                )
                .items(pair, out.items);
            }
        }
        let (_, end) = trimmed(&self.text, 0, self.text.len());
        let at = self.keyword.span.start as usize - self.base();
        out.unparsed.push(self.declaration_at(at, end));
    }

    /// A declaration of which nothing parsed, from `start` to `end`: its first word, and
    /// the name it declares when the second word reads as one (a misspelt keyword, as in
    /// `acton greet`, is taken to declare its second word too).
    fn declaration_at(&self, start: usize, end: usize) -> ast::Unparsed {
        let written = self.written();
        // A stray character before the keyword (`{agent a {`) does not hide it.
        let line_end = written[start..end].find('\n').map_or(end, |n| start + n);
        let start = written[start..line_end]
            .find(|c: char| c.is_ascii_alphabetic() || c == '_')
            .map_or(start, |n| start + n);
        let keyword = word_at(written, start, self.source.file, self.base());
        let after = start + keyword.name.len();
        let rest = &written[after..end];
        let name_at = after + rest.len() - rest.trim_start_matches(' ').len();
        let mut name = match &self.joined {
            Some(joined) => joined.clone(),
            None => head_at(written, name_at, end, self.source.file, self.base()),
        };
        let misspelt = !keywords::starts_declaration(&keyword.name);
        if name.name.is_empty() && !misspelt {
            // `target{ mail: smtp {`, `target {mail: smtp {`: a character typed before
            // the name does not hide it.
            let mut after_slip = written[name_at.min(line_end)..line_end].chars();
            after_slip.next();
            let rest = after_slip.as_str();
            let at = line_end - rest.len() + rest.len() - rest.trim_start_matches(' ').len();
            name = word_at(written, at, self.source.file, self.base());
        }
        if name.name.is_empty() {
            // `a{ction greet {`, `action{ greet {`: the name is the word before the block.
            // (`task{ t(…) on api {`: the word before its parameters.)
            let line = written[start..line_end].trim_end();
            let word_before = |before: &str| {
                let before = before.trim_end();
                let at = start + lexer::word_chars_start(before.as_bytes(), before.len());
                Some(word_at(written, at, self.source.file, self.base()))
                    .filter(|w| !w.name.is_empty() && !keywords::is_keyword(&w.name))
            };
            let before_params = line.find('(').and_then(|paren| word_before(&line[..paren]));
            let before_block = line.strip_suffix('{').and_then(word_before);
            if let Some(found) = before_params.or(before_block) {
                name = found;
            }
        }
        let declares = misspelt || keywords::NAMED.contains(&keyword.name.as_str());
        ast::Unparsed {
            span: self.span(start, end),
            name: (declares
                && !keyword.name.is_empty()
                && !name.name.is_empty()
                && !keywords::is_keyword(&name.name))
            .then_some(name),
            member: false,
            keyword,
        }
    }

    /// Where `at` is: walks the declaration's brackets and strings from its start.
    fn place(&self, at: usize) -> Place {
        Walk::new(&self.text, &self.keyword.name).place(at)
    }
}

/// The name a declaration declares.
fn name_of(item: &mut Item) -> Option<&mut Ident> {
    match item {
        Item::Agent(a) => Some(&mut a.name),
        Item::Target(t) => Some(&mut t.name),
        Item::Task(t) => Some(&mut t.name),
        Item::Action(a) => Some(&mut a.name),
        Item::Reply(r) => Some(&mut r.name),
        Item::Usecase(u) => Some(&mut u.name),
        Item::Import(_) | Item::Binding(_) | Item::Test(_) => None,
    }
}

/// Puts a field into the declaration it belongs to, in source order.
fn insert_field(item: &mut Item, field: Field) -> bool {
    let fields = match item {
        Item::Action(a) => &mut a.fields,
        Item::Reply(r) => &mut r.fields,
        Item::Usecase(u) => &mut u.fields,
        Item::Target(t) => &mut t.fields,
        Item::Task(t) => &mut t.fields,
        Item::Agent(a) => {
            let at = a
                .entries
                .partition_point(|e| entry_start(e) < field.span.start);
            a.entries.insert(at, AgentEntry::Field(field));
            return true;
        }
        _ => return false,
    };
    let at = fields.partition_point(|f| f.span.start < field.span.start);
    fields.insert(at, field);
    true
}

/// Puts a parameter that did not parse into its list, as its name alone: of no type
/// (`ast::Ident` empty: any value, nothing to report) and optional, so that neither its
/// uses nor the calls that pass it or leave it out are reported.
fn insert_param(item: &mut Item, name: Ident, span: Span) {
    let no_type = Ident {
        name: String::new(),
        span: Span::new(span.file, span.end as usize, span.end as usize),
    };
    match item {
        Item::Task(t) => {
            let at = t.params.partition_point(|p| p.span.start < span.start);
            let param = ast::TaskParam {
                name,
                ty: no_type,
                optional: true,
                default: None,
                span,
            };
            t.params.insert(at, param);
        }
        Item::Agent(a) => {
            let params = a.entries.iter_mut().find_map(|e| match e {
                AgentEntry::Params { params, span: list } if contains(*list, span) => Some(params),
                _ => None,
            });
            if let Some(params) = params {
                let at = params.partition_point(|p| p.span.start < span.start);
                let param = ast::ParamDecl {
                    name,
                    ty: no_type,
                    default: None,
                    span,
                };
                params.insert(at, param);
            }
        }
        _ => {}
    }
}

fn entry_start(entry: &AgentEntry) -> u32 {
    match entry {
        AgentEntry::Field(f) => f.span.start,
        AgentEntry::Params { span, .. } => span.start,
    }
}

/// How many brackets `text` leaves open, outside its `"` strings (a rough count: it only
/// tells a member's own level from what is nested in it).
fn open_brackets(text: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'(' | b'[' | b'{' if !in_string => depth += 1,
            b')' | b']' | b'}' if !in_string => depth = depth.saturating_sub(1),
            b'\n' => in_string = false,
            _ => {}
        }
        i += 1;
    }
    depth
}

/// Whether `text` closes no bracket it did not open (a rough count, as `open_brackets`).
fn closes_nothing(text: &[u8]) -> bool {
    let mut depth = 0usize;
    for &b in text {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => return false,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    true
}

/// Whether the bracket at `at` is the only thing on its line (blanks aside).
fn alone_on_its_line(text: &[u8], at: usize) -> bool {
    let line_start = text[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |n| n + 1);
    let line_end = lexer::line_end(text, at);
    let blank = |range: std::ops::Range<usize>| text[range].iter().all(|&b| b == b' ');
    blank(line_start..at) && blank(at + 1..line_end)
}

fn opener_of(closer: u8) -> u8 {
    match closer {
        b')' => b'(',
        b']' => b'[',
        _ => b'{',
    }
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// `start..end` of `text` without the blanks around it.
fn trimmed(text: &str, start: usize, end: usize) -> (usize, usize) {
    let inner = &text[start..end];
    let lead = inner.len() - inner.trim_start().len();
    let trail = inner.len() - inner.trim_end().len();
    (start + lead, (end - trail).max(start + lead))
}

/// The word at `at` of `text` (empty when none starts there), as an identifier.
fn word_at(text: &str, at: usize, file: FileId, base: usize) -> Ident {
    let len = lexer::word_len(text.as_bytes(), at);
    Ident {
        name: text[at..at + len].to_string(),
        span: Span::new(file, base + at, base + at + len),
    }
}

/// The key or parameter name a member left out starts with at `at`: its first word, or,
/// when a space or a `}` was typed inside it (`patient _id: text`, `pati}ent: record`), the
/// two pieces before its `:` joined, the name that was meant (so that its uses are not
/// reported unknown).
fn head_at(text: &str, at: usize, end: usize, file: FileId, base: usize) -> Ident {
    let first = word_at(text, at, file, base);
    let bytes = text.as_bytes();
    let gap = at + first.name.len();
    if first.name.is_empty() || gap >= end || !matches!(bytes[gap], b' ' | b'}') {
        return first;
    }
    let rest = gap + 1 + lexer::word_chars(bytes, gap + 1);
    let keyed = text
        .get(rest..end)
        .is_some_and(|after| after.trim_start_matches(' ').starts_with(':'));
    if rest == gap + 1 || !keyed {
        return first;
    }
    Ident {
        name: format!("{}{}", first.name, &text[gap + 1..rest]),
        span: Span::new(file, base + at, base + rest),
    }
}

/// Something open while walking a declaration.
#[derive(Clone, Copy, Debug)]
enum Frame {
    /// `(`, `[` or `{`; a list of the declaration holds members, separated where
    /// `member_start` was last moved.
    Bracket {
        byte: u8,
        list: Option<Holds>,
        member_start: usize,
    },
    Str(Quote),
    Interp,
}

/// The walk over a declaration's text that finds its lists and their members, reading
/// strings and brackets as the scanner does.
struct Walk<'t> {
    text: &'t [u8],
    keyword: &'t str,
    stack: Vec<Frame>,
    /// The declaration's main block (`{ … }`, or a task's `( … )`) has been opened.
    opened: bool,
    /// … and closed again, before this offset.
    closed: bool,
    closed_at: usize,
    /// Where the last parameter list opened and closed, at its brackets.
    params_opened_at: Option<usize>,
    params_closed_at: Option<usize>,
}

impl<'t> Walk<'t> {
    fn new(text: &'t str, keyword: &'t str) -> Self {
        Walk {
            text: text.as_bytes(),
            keyword,
            stack: Vec::new(),
            opened: false,
            closed: false,
            closed_at: 0,
            params_opened_at: None,
            params_closed_at: None,
        }
    }

    fn place(mut self, at: usize) -> Place {
        let mut i = 0;
        while i < at.min(self.text.len()) {
            i = self.step(i);
        }
        if i > at {
            // `at` is inside a token the walk stepped over (an escape, a triple quote).
            return Place::Header;
        }
        if self.opens_list(at) {
            return Place::ListOpener;
        }
        let Some(list) = self
            .stack
            .iter()
            .rposition(|f| matches!(f, Frame::Bracket { list: Some(_), .. }))
        else {
            return self.outside(at);
        };
        let Frame::Bracket {
            list: Some(holds),
            member_start,
            ..
        } = self.stack[list]
        else {
            return Place::Header;
        };
        let params_closed = self.params_closed_at.filter(|&c| self.text[c] == b'}');
        let mut end = self.text.len();
        while i < self.text.len() {
            let b = self.text[i];
            if self.stack.len() == list + 1 && matches!(b, b'\n' | b',') {
                end = i;
                break;
            }
            i = self.step(i);
            if self.stack.len() <= list {
                end = i - 1;
                break;
            }
        }
        // `params: {}`, `x: text}` or `} y: text` with parameters after it: a `}` that is
        // not alone on its line closed the list too early.
        if let Some(closer) = params_closed.filter(|&c| c < at && holds == Holds::Fields) {
            if !alone_on_its_line(self.text, closer) {
                return Place::ClosedEarly {
                    closer,
                    params: true,
                };
            }
        }
        Place::Member(Member {
            start: member_start,
            end: end.max(member_start),
            holds: Some(holds),
        })
    }

    /// The `}` that closed an agent's `params`, written over several lines, when it is not
    /// alone on its line (`pati}ent: record`, `x: list = []}`).
    fn params_closer_not_alone(mut self) -> Option<usize> {
        let mut i = 0;
        while i < self.text.len() {
            i = self.step(i);
        }
        let (opener, closer) = (self.params_opened_at?, self.params_closed_at?);
        let over_lines = self
            .text
            .get(opener..closer)
            .is_some_and(|list| list.contains(&b'\n'));
        (self.text[closer] == b'}' && over_lines && !alone_on_its_line(self.text, closer))
            .then_some(closer)
    }

    /// The opener of the declaration's main list, when it is still open at the end.
    fn open_list(mut self) -> Option<usize> {
        let mut i = 0;
        let mut opener = None;
        while i < self.text.len() {
            if self.stack.is_empty() && self.opens_list(i) {
                opener = Some(i);
            }
            i = self.step(i);
        }
        match self.stack.first() {
            Some(Frame::Bracket { list: Some(_), .. }) => opener,
            _ => None,
        }
    }

    /// Outside every list: after the declaration, on a line of its own, or in its header.
    fn outside(&self, at: usize) -> Place {
        // A line that starts at column 0, after the first: a declaration the scanner did
        // not see start (`a{ction greet {`), glued to this one.
        let line_start = self.text[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |n| n + 1);
        if self.closed && self.stack.is_empty() {
            // Text after the closed block: its own line, or the rest of the block's
            // (`action a { … }}`).
            let own_line = line_start >= self.closed_at;
            let indented = self.text.get(line_start) == Some(&b' ');
            let stray_later = self.text[at..].contains(&b'}');
            let starts_word = self
                .text
                .get(line_start)
                .is_some_and(|&b| lexer::is_word_start(b));
            let glued_declaration = own_line && !indented && starts_word;
            if !glued_declaration && stray_later && self.text[self.closed_at - 1] == b'}' {
                return Place::ClosedEarly {
                    closer: self.closed_at - 1,
                    params: false,
                };
            }
            return Place::After {
                line_start: if own_line { line_start } else { at },
            };
        }
        let at_column_0 = self.text.get(line_start).is_some_and(|&b| b != b' ');
        let after = self.stack.is_empty()
            && line_start > 0
            && (self.closed || (!self.opened && at_column_0));
        if after {
            Place::After { line_start }
        } else {
            Place::Header
        }
    }

    /// Whether the byte at `at` would open one of the declaration's lists.
    fn opens_list(&self, at: usize) -> bool {
        self.text
            .get(at)
            .is_some_and(|&b| self.list_for(b, at).is_some())
    }

    /// The list a bracket `b` opened at `at` would be, given what is open.
    fn list_for(&self, b: u8, at: usize) -> Option<Holds> {
        let keyword = self.keyword;
        match (self.stack.as_slice(), b) {
            ([], b'(') if keyword == "task" && !self.opened => Some(Holds::Params),
            ([], b'{') if !self.closed => match keyword {
                "test" => Some(Holds::Steps),
                "agent" | "target" | "task" | "action" | "reply" | "usecase" => Some(Holds::Fields),
                _ => None,
            },
            (
                [Frame::Bracket {
                    list: Some(Holds::Fields),
                    member_start,
                    ..
                }],
                b'{',
            ) if keyword == "agent" => {
                let head = std::str::from_utf8(&self.text[*member_start..at]).unwrap_or("");
                let head = head.trim();
                head.strip_prefix("params")
                    .is_some_and(|rest| rest.trim() == ":")
                    .then_some(Holds::Params)
            }
            _ => None,
        }
    }

    /// Reads the byte at `i`; returns where the next step starts.
    fn step(&mut self, i: usize) -> usize {
        let text = self.text;
        let b = text[i];
        if let Some(Frame::Str(quote)) = self.stack.last().copied() {
            return match b {
                b'\\' if text.get(i + 1) != Some(&b'\n') => i + lexer::escape_len(text, i),
                b'{' => {
                    self.stack.push(Frame::Interp);
                    i + 1
                }
                b'"' if quote.closes(text, i) => {
                    self.stack.pop();
                    i + quote.width()
                }
                b'\n' => {
                    self.newline(i);
                    i + 1
                }
                _ => i + 1,
            };
        }
        match b {
            b'\n' => self.newline(i),
            b',' => self.separator(i),
            b'"' => {
                let quote = Quote::at(text, i).unwrap_or(Quote::Plain);
                self.stack.push(Frame::Str(quote));
                return i + quote.width();
            }
            b'(' | b'[' | b'{' => {
                let list = self.list_for(b, i);
                if self.stack.is_empty() && list.is_some() && b == b'{' {
                    self.opened = true;
                }
                if self.stack.is_empty() && b == b'(' && list.is_some() {
                    self.opened = true;
                }
                if list == Some(Holds::Params) {
                    self.params_opened_at = Some(i);
                }
                self.stack.push(Frame::Bracket {
                    byte: b,
                    list,
                    member_start: i + 1,
                });
            }
            b')' | b']' | b'}' => {
                self.close(b, i);
                if self.closed && self.closed_at == 0 {
                    self.closed_at = i + 1;
                }
            }
            _ => {}
        }
        i + 1
    }

    fn newline(&mut self, i: usize) {
        // A `"` string ends at its line, with whatever it left open.
        if let Some(pos) = self
            .stack
            .iter()
            .position(|f| matches!(f, Frame::Str(Quote::Plain)))
        {
            // As the scanner reads it: an interpolation opened last on the line, with
            // nothing in it, is a block the string swallowed, and stays open.
            let swallowed_block = self.stack.len() == pos + 2
                && matches!(self.stack[pos + 1], Frame::Interp)
                && self.text[..i].trim_ascii_end().ends_with(b"{");
            self.stack.truncate(pos);
            if swallowed_block {
                self.stack.push(Frame::Bracket {
                    byte: b'{',
                    list: None,
                    member_start: i + 1,
                });
            }
        }
        self.separator(i);
    }

    fn separator(&mut self, i: usize) {
        if let Some(Frame::Bracket {
            list: Some(_),
            member_start,
            ..
        }) = self.stack.last_mut()
        {
            *member_start = i + 1;
        }
    }

    fn close(&mut self, b: u8, i: usize) {
        if b == b'}' && matches!(self.stack.last(), Some(Frame::Interp)) {
            self.stack.pop();
            return;
        }
        // As the scanner reads it: a closer that would skip a bracket closed later in the
        // declaration is stray.
        if let Some(&Frame::Bracket { byte, .. }) = self.stack.last() {
            if byte != opener_of(b) && scan::closes_later(self.text, i + 1, byte) {
                return;
            }
        }
        let opener = opener_of(b);
        // Inside an interpolation a closer closes only what the interpolation opened.
        let floor = self
            .stack
            .iter()
            .rposition(|f| matches!(f, Frame::Interp))
            .map_or(0, |pos| pos + 1);
        let matching = self.stack[floor..]
            .iter()
            .rposition(|f| matches!(f, Frame::Bracket { byte, .. } if *byte == opener))
            .map(|pos| floor + pos);
        if matching.is_none() && b == b'}' && floor > 0 {
            self.stack.truncate(floor - 1);
            return;
        }
        if let Some(pos) = matching {
            if matches!(
                self.stack[pos],
                Frame::Bracket {
                    list: Some(Holds::Params),
                    ..
                }
            ) {
                self.params_closed_at = Some(i);
            }
            let main = pos == 0
                && matches!(
                    self.stack[0],
                    Frame::Bracket {
                        list: Some(_),
                        byte: b'{',
                        ..
                    }
                );
            self.stack.truncate(pos);
            if main {
                self.closed = true;
            }
        }
    }
}
