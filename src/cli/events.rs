//! Reading `agentc run`'s event stream: one event a line, each line decoded and parsed on
//! its own so that a bad line (too long, not UTF-8, not an event) is reported with its
//! number and skipped, and memory stays bounded by one line's cap whatever the input.

use crate::runtime::{Event, EventError};
use std::fmt;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// The longest event line read, in bytes (newline excluded); a longer one is skipped.
pub const MAX_EVENT_LINE: usize = 1 << 20;

/// Why a line of the stream is skipped.
#[derive(Debug, PartialEq)]
pub enum LineError {
    /// Longer than [`MAX_EVENT_LINE`].
    TooLong,
    /// The first byte that is not UTF-8, and its column (from 1).
    NotUtf8 { byte: u8, column: usize },
    /// Text, but not an event.
    Event(EventError),
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::TooLong => write!(
                f,
                "the line is longer than {} MiB, the limit for an event line; it is skipped",
                MAX_EVENT_LINE >> 20
            ),
            LineError::NotUtf8 { byte, column } => write!(
                f,
                "the line is not UTF-8 text: byte 0x{byte:02X} at column {column} cannot be \
                 decoded; send the events as UTF-8"
            ),
            LineError::Event(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for LineError {}

/// The events of a JSON Lines stream, with their line numbers.
pub struct EventLines<R> {
    input: BufReader<R>,
    /// The number of the last line read.
    number: u64,
    line: Vec<u8>,
    /// Set while the rest of a line past the cap is still to be dropped.
    dropping: bool,
}

impl<R: AsyncRead + Unpin> EventLines<R> {
    pub fn new(input: R) -> Self {
        EventLines {
            input: BufReader::new(input),
            number: 0,
            line: Vec::new(),
            dropping: false,
        }
    }

    /// The number of the last line read (0 before the first).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The next non-blank line's number and its event, or what is wrong with the line.
    /// `None` at the end of the input; an error when the input cannot be read.
    pub async fn next(&mut self) -> std::io::Result<Option<(u64, Result<Event, LineError>)>> {
        loop {
            let Some(fits) = self.read_line().await? else {
                return Ok(None);
            };
            let text = if !fits {
                Err(LineError::TooLong)
            } else {
                decode(&self.line)
            };
            match text {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => {
                    let event = Event::parse_line(text).map_err(LineError::Event);
                    return Ok(Some((self.number, event)));
                }
                Err(problem) => return Ok(Some((self.number, Err(problem)))),
            }
        }
    }

    /// Reads the next line into `self.line` without its `\n` or `\r\n`: `Some(true)` when
    /// it fits the cap, `Some(false)` as soon as it passes it (its rest is dropped as it
    /// arrives, on the next call), `None` at the end of the input.
    async fn read_line(&mut self) -> std::io::Result<Option<bool>> {
        self.line.clear();
        while self.dropping {
            let chunk = self.input.fill_buf().await?;
            if chunk.is_empty() {
                return Ok(None);
            }
            let end = chunk.iter().position(|&b| b == b'\n');
            let used = end.map_or(chunk.len(), |at| at + 1);
            self.input.consume(used);
            self.dropping = end.is_none();
        }
        let mut empty_input = true;
        loop {
            let chunk = self.input.fill_buf().await?;
            if chunk.is_empty() {
                if empty_input {
                    return Ok(None);
                }
                break;
            }
            empty_input = false;
            let end = chunk.iter().position(|&b| b == b'\n');
            let part = &chunk[..end.unwrap_or(chunk.len())];
            if self.line.len() + part.len() > MAX_EVENT_LINE {
                // Reported now rather than at its end: a line may never end.
                self.line = Vec::new();
                self.dropping = true;
                self.number += 1;
                return Ok(Some(false));
            }
            self.line.extend_from_slice(part);
            let used = part.len() + usize::from(end.is_some());
            self.input.consume(used);
            if end.is_some() {
                break;
            }
        }
        self.number += 1;
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        Ok(Some(true))
    }
}

/// The line as text, or which byte is not UTF-8.
fn decode(line: &[u8]) -> Result<&str, LineError> {
    std::str::from_utf8(line).map_err(|e| {
        let at = e.valid_up_to();
        LineError::NotUtf8 {
            byte: line[at],
            column: at + 1,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Every line's number and either its event's conversation or its problem.
    async fn read_all(input: &[u8]) -> Vec<(u64, Result<String, LineError>)> {
        let mut lines = EventLines::new(input);
        let mut all = Vec::new();
        while let Some((number, event)) = lines.next().await.unwrap() {
            all.push((number, event.map(|e| e.conversation)));
        }
        all
    }

    const STARTED: &str = r#"{"conversation":"c","event":"conversation_started"}"#;

    #[tokio::test]
    async fn numbers_lines_and_skips_blank_ones() {
        let input = format!("{STARTED}\r\n\n  \n{STARTED}");
        let all = read_all(input.as_bytes()).await;
        assert_eq!(all, [(1, Ok("c".into())), (4, Ok("c".into()))]);
    }

    #[tokio::test]
    async fn a_line_that_is_not_utf8_is_reported_and_the_next_one_read() {
        let mut input = b"{\"conversation\":\"c\xff\"}\n".to_vec();
        input.extend_from_slice(STARTED.as_bytes());
        let all = read_all(&input).await;
        assert_eq!(all.len(), 2);
        let problem = all[0].1.as_ref().unwrap_err();
        assert_eq!(
            problem,
            &LineError::NotUtf8 {
                byte: 0xFF,
                column: 19
            }
        );
        assert!(
            problem.to_string().contains("byte 0xFF at column 19"),
            "{problem}"
        );
        assert_eq!(all[1], (2, Ok("c".into())));
    }

    #[tokio::test]
    async fn a_line_over_the_cap_is_skipped_and_the_next_one_read() {
        let mut input = vec![b' '; MAX_EVENT_LINE + 1];
        input.push(b'\n');
        input.extend_from_slice(STARTED.as_bytes());
        let all = read_all(&input).await;
        assert_eq!(all.len(), 2);
        let problem = all[0].1.as_ref().unwrap_err();
        assert_eq!(problem, &LineError::TooLong);
        assert!(problem.to_string().contains("longer than 1 MiB"));
        assert_eq!(all[1], (2, Ok("c".into())));
        // A line exactly at the cap is read.
        let mut at_cap = STARTED.as_bytes().to_vec();
        at_cap.resize(MAX_EVENT_LINE, b' ');
        assert_eq!(read_all(&at_cap).await, [(1, Ok("c".into()))]);
    }

    #[tokio::test]
    async fn a_line_that_never_ends_is_reported_once_past_the_cap() {
        let (mut writer, reader) = tokio::io::duplex(64 << 10);
        let endless = tokio::spawn(async move {
            let chunk = vec![b'a'; 64 << 10];
            // Until the reader is dropped.
            while writer.write_all(&chunk).await.is_ok() {}
        });
        let mut lines = EventLines::new(reader);
        let next = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next())
            .await
            .expect("reported before the line ends");
        let (number, event) = next.unwrap().unwrap();
        assert_eq!(number, 1);
        assert_eq!(event.unwrap_err(), LineError::TooLong);
        drop(lines);
        endless.await.unwrap();
    }
}
