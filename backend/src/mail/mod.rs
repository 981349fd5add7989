//! Outgoing mail through lettre: SMTP when configured, otherwise one `.eml` file a message in
//! `<data_dir>/outbox/`, so the embedded default needs no mail server.

pub mod templates;

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Settings, SmtpTls};

/// Where mail goes.
#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(AsyncFileTransport<Tokio1Executor>),
}

/// Sends the portal's mails; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

/// One mail to one person.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    /// Builds the transport the settings ask for (SMTP, or the outbox folder).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let from: Mailbox = settings.mail_from.parse().with_context(|| {
            format!("STRATUS_MAIL_FROM is not a mailbox: {}", settings.mail_from)
        })?;
        let transport = if settings.smtp_host.trim().is_empty() {
            let outbox: PathBuf = settings.data_dir.join("outbox");
            std::fs::create_dir_all(&outbox)
                .with_context(|| format!("cannot create {}", outbox.display()))?;
            tracing::info!(outbox = %outbox.display(), "no SMTP server configured: mail is written to the outbox folder");
            Transport::Outbox(AsyncFileTransport::new(outbox))
        } else {
            let host = settings.smtp_host.trim();
            let tls_parameters =
                || TlsParameters::new(host.to_owned()).context("cannot set up TLS for SMTP");
            let tls = match settings.smtp_tls {
                SmtpTls::None => Tls::None,
                SmtpTls::Starttls => Tls::Required(tls_parameters()?),
                SmtpTls::Tls => Tls::Wrapper(tls_parameters()?),
            };
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(settings.smtp_port)
                .tls(tls)
                .timeout(Some(std::time::Duration::from_secs(20)));
            if let (Some(user), Some(password)) = (&settings.smtp_username, &settings.smtp_password)
            {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            tracing::info!(host, port = settings.smtp_port, tls = ?settings.smtp_tls, "mail goes through SMTP");
            Transport::Smtp(builder.build())
        };
        Ok(Self { transport, from })
    }

    /// Sends now and reports failure.
    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        let to: Mailbox = mail.to.parse().context("recipient is not a mailbox")?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .context("cannot build the message")?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .context("SMTP delivery failed"),
            Transport::Outbox(outbox) => outbox
                .send(message)
                .await
                .map(|_| ())
                .context("cannot write to the outbox"),
        }
    }

    /// Sends without making the caller wait: answers then take the same time whether or not
    /// a mail was due, which keeps account existence from showing in response times.
    pub fn send_in_background(&self, mail: Mail) {
        let mailer = self.clone();
        actix_web::rt::spawn(async move {
            let subject = mail.subject.clone();
            if let Err(error) = mailer.send(mail).await {
                tracing::error!(error = format!("{error:#}"), %subject, "mail not sent");
            }
        });
    }
}
