//! Sending e-mail over SMTP.

use std::time::Duration;

use anyhow::{Context, Result};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

/// An SMTP connection setup and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer the configuration asks for, or `None` when no SMTP server is set.
    pub fn from_config(config: &Config) -> Result<Option<Self>> {
        let Some(url) = &config.smtp_url else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("WARMLINE_SMTP_URL is not a valid SMTP URL")?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        let from = config
            .mail_from
            .parse()
            .context("WARMLINE_MAIL_FROM is not a valid address")?;
        Ok(Some(Self { transport, from }))
    }

    /// Sends a plain-text message.
    pub async fn send(
        &self,
        to_name: &str,
        to_email: &str,
        subject: &str,
        body: String,
    ) -> Result<()> {
        let to = Mailbox::new(
            Some(to_name.to_string()),
            to_email.parse().context("recipient address")?,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body)
            .context("could not build the message")?;
        self.transport
            .send(message)
            .await
            .context("the SMTP server did not take the message")?;
        Ok(())
    }
}
