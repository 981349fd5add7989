//! Reads the mail Stratus sent during a test: from the test SMTP server's Maildir
//! (`TEST_MAILDIR`, set by `scripts/test.sh`) or, without one, from the server's outbox folder.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One delivered message.
#[derive(Debug, Clone)]
pub struct DeliveredMail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

impl DeliveredMail {
    /// The first link in the body that starts with `prefix` (e.g. `http://…/verify-email`).
    pub fn link(&self, prefix: &str) -> Option<String> {
        let start = self.body.find(prefix)?;
        let link: String = self.body[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        Some(link)
    }

    /// The token in a link's fragment (`…#token=XYZ`).
    pub fn link_token(&self, page: &str) -> Option<String> {
        let link = self.link("http")?;
        let link = if link.contains(page) {
            link
        } else {
            self.body
                .split_whitespace()
                .find(|word| word.contains(page))?
                .to_owned()
        };
        link.split_once("#token=")
            .map(|(_, token)| token.to_owned())
    }
}

/// Where the mail of one test ends up.
#[derive(Debug, Clone)]
pub struct Mailbox {
    folders: Vec<PathBuf>,
}

impl Mailbox {
    /// The test SMTP server's Maildir when there is one, else `outbox`.
    pub fn for_test(outbox: &Path) -> Self {
        match std::env::var_os("TEST_MAILDIR") {
            Some(maildir) => {
                let maildir = PathBuf::from(maildir);
                Self {
                    folders: vec![maildir.join("new"), maildir.join("cur")],
                }
            }
            None => Self {
                folders: vec![outbox.to_owned()],
            },
        }
    }

    /// Every message delivered to `address` so far, oldest first.
    pub fn messages_to(&self, address: &str) -> Vec<DeliveredMail> {
        let address = address.trim().to_lowercase();
        let mut found: Vec<(std::time::SystemTime, DeliveredMail)> = Vec::new();
        for folder in &self.folders {
            let Ok(entries) = std::fs::read_dir(folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(bytes) = std::fs::read(entry.path()) else {
                    continue;
                };
                let Some(message) = mail_parser::MessageParser::default().parse(&bytes) else {
                    continue;
                };
                let to: Vec<String> = message
                    .to()
                    .map(|list| {
                        list.iter()
                            .filter_map(|a| a.address().map(str::to_lowercase))
                            .collect()
                    })
                    .unwrap_or_default();
                if !to.contains(&address) {
                    continue;
                }
                let modified = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                found.push((
                    modified,
                    DeliveredMail {
                        to,
                        subject: message.subject().unwrap_or_default().to_owned(),
                        body: message.body_text(0).unwrap_or_default().into_owned(),
                    },
                ));
            }
        }
        found.sort_by_key(|(modified, _)| *modified);
        found.into_iter().map(|(_, mail)| mail).collect()
    }

    /// Waits (up to 10 s) until `address` has received `count` messages; returns the newest.
    pub async fn wait_for_message(
        &self,
        address: &str,
        count: usize,
    ) -> Result<DeliveredMail, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut messages = self.messages_to(address);
            if messages.len() >= count {
                if let Some(newest) = messages.pop() {
                    return Ok(newest);
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{address} received {} message(s) in {:?}, expected {count}",
                    messages.len(),
                    self.folders
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
