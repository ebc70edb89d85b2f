//! The SMTP side of the mocks: enough of RFC 5321 for a real client (EHLO/HELO, AUTH PLAIN,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT), storing each accepted message.

use super::{RecordedEmail, Shared};
use base64::Engine;
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// No line or message beyond this is accepted (a mock has no business with huge mail).
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

pub async fn start(shared: Shared) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let shared = shared.clone();
            tokio::spawn(async move {
                let (read, write) = stream.into_split();
                // A client that goes away mid-session is its own business.
                let _ = Session::new(shared).run(read, write).await;
            });
        }
    });
    Ok((addr, task))
}

/// One client connection.
struct Session {
    shared: Shared,
    /// The target, from the login `redirect` set up.
    target: String,
    from: Option<String>,
    recipients: Vec<String>,
}

impl Session {
    fn new(shared: Shared) -> Self {
        Session {
            shared,
            target: String::new(),
            from: None,
            recipients: Vec::new(),
        }
    }

    async fn run(
        mut self,
        read: impl AsyncRead + Unpin,
        mut write: impl AsyncWrite + Unpin,
    ) -> std::io::Result<()> {
        let mut lines = BufReader::new(read);
        write.write_all(b"220 agentc-mock ESMTP ready\r\n").await?;
        let mut line = String::new();
        loop {
            line.clear();
            if read_line(&mut lines, &mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end();
            let verb = command
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let reply = match verb.as_str() {
                "EHLO" => {
                    "250-agentc-mock\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN".into()
                }
                "HELO" => "250 agentc-mock".into(),
                "AUTH" => self.auth(command, &mut lines, &mut write).await?,
                "MAIL" => {
                    self.from = Some(address(command));
                    self.recipients.clear();
                    "250 OK".into()
                }
                "RCPT" => self.recipient(command),
                "DATA" if self.from.is_none() || self.recipients.is_empty() => {
                    "503 need MAIL and RCPT first".into()
                }
                "DATA" => {
                    write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                    self.data(&mut lines).await?
                }
                "RSET" => {
                    self.from = None;
                    self.recipients.clear();
                    "250 OK".into()
                }
                "NOOP" => "250 OK".into(),
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await?;
                    return Ok(());
                }
                _ => "502 command not implemented".to_string(),
            };
            // One write per reply: two small writes stall on Nagle's algorithm and the
            // client's delayed ACK (~40 ms each, hundreds of ms per message).
            write.write_all(format!("{reply}\r\n").as_bytes()).await?;
        }
    }

    /// `AUTH PLAIN <base64 "\0user\0password">`, the response inline or on the next line.
    /// Any password is accepted; the user names the target.
    async fn auth(
        &mut self,
        command: &str,
        lines: &mut (impl AsyncBufReadExt + Unpin),
        write: &mut (impl AsyncWrite + Unpin),
    ) -> std::io::Result<String> {
        let mut parts = command.split_whitespace().skip(1);
        if !parts
            .next()
            .is_some_and(|m| m.eq_ignore_ascii_case("PLAIN"))
        {
            return Ok("504 only AUTH PLAIN is supported".into());
        }
        let encoded = match parts.next() {
            Some(inline) => inline.to_string(),
            None => {
                write.write_all(b"334 \r\n").await?;
                let mut answer = String::new();
                read_line(lines, &mut answer).await?;
                answer.trim().to_string()
            }
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            return Ok("501 malformed AUTH PLAIN response".into());
        };
        let user = decoded.split(|b| *b == 0).nth(1).unwrap_or_default();
        self.target = String::from_utf8_lossy(user).into_owned();
        Ok("235 authenticated".into())
    }

    fn recipient(&mut self, command: &str) -> String {
        if self.from.is_none() {
            return "503 need MAIL first".into();
        }
        let recipient = address(command);
        if let Some(rule) = self.shared.lock().rejection(&self.target, &recipient) {
            let text = match &rule.body {
                crate::ir::Value::Null => "mailbox unavailable".to_string(),
                other => other.to_string(),
            };
            return format!("{} {text}", rule.status.min(599));
        }
        self.recipients.push(recipient);
        "250 OK".into()
    }

    /// Reads the message up to the lone `.`, undoing dot-stuffing, and stores it.
    async fn data(
        &mut self,
        lines: &mut (impl AsyncBufReadExt + Unpin),
    ) -> std::io::Result<String> {
        let mut raw = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if read_line(lines, &mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line == ".\r\n" || line == ".\n" {
                break;
            }
            let unstuffed = line.strip_prefix('.').unwrap_or(&line);
            raw.extend_from_slice(unstuffed.as_bytes());
            if raw.len() > MAX_MESSAGE {
                return Ok("552 message too large".into());
            }
        }
        let email = parse_email(
            &self.target,
            self.from.take().unwrap_or_default(),
            std::mem::take(&mut self.recipients),
            &raw,
        );
        self.shared.lock().emails.push(email);
        Ok("250 OK: queued".into())
    }
}

/// Reads one line, refusing an endless one.
async fn read_line(
    lines: &mut (impl AsyncBufReadExt + Unpin),
    line: &mut String,
) -> std::io::Result<usize> {
    let mut limited = tokio::io::AsyncReadExt::take(&mut *lines, MAX_MESSAGE as u64);
    limited.read_line(line).await
}

/// The address inside `MAIL FROM:<a@b> SIZE=1` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    let after_colon = command.split_once(':').map_or("", |(_, rest)| rest);
    let inner = match (after_colon.find('<'), after_colon.find('>')) {
        (Some(open), Some(close)) if open < close => &after_colon[open + 1..close],
        _ => after_colon.split_whitespace().next().unwrap_or(""),
    };
    inner.trim().to_string()
}

fn parse_email(target: &str, from: String, recipients: Vec<String>, raw: &[u8]) -> RecordedEmail {
    let parsed = mail_parser::MessageParser::default().parse(raw);
    let addresses = |field: Option<&mail_parser::Address>| -> Vec<String> {
        field
            .map(|a| {
                a.iter()
                    .filter_map(|addr| addr.address())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    match parsed {
        Some(message) => RecordedEmail {
            target: target.to_string(),
            from,
            recipients,
            to: addresses(message.to()),
            cc: addresses(message.cc()),
            reply_to: addresses(message.reply_to()).into_iter().next(),
            subject: message.subject().unwrap_or_default().to_string(),
            // SMTP lines end in CRLF; the text as written used LF.
            body: message
                .body_text(0)
                .map(|b| b.replace("\r\n", "\n").trim_end_matches('\n').to_string())
                .unwrap_or_default(),
            message_id: message.message_id().map(str::to_string),
        },
        None => RecordedEmail {
            target: target.to_string(),
            from,
            recipients,
            to: Vec::new(),
            cc: Vec::new(),
            reply_to: None,
            subject: String::new(),
            body: String::from_utf8_lossy(raw).into_owned(),
            message_id: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_envelope_addresses() {
        assert_eq!(
            address("MAIL FROM:<bot@acme.example> SIZE=12"),
            "bot@acme.example"
        );
        assert_eq!(address("RCPT TO:<ana@x.example>"), "ana@x.example");
        assert_eq!(address("RCPT TO: ana@x.example"), "ana@x.example");
    }
}
