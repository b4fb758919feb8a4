//! The approval e-mail (spec §7) over SMTP with `lettre`: STARTTLS or TLS by configuration, a
//! timeout, recipients from configuration, the PDF attached. A body that is right for
//! electrical reports too.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

use crate::config::Settings;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

/// What the e-mail says about the submission.
pub struct ReportMail<'a> {
    pub job_id: i64,
    pub submission_id: i64,
    pub submission_type: &'a str,
    pub electrical: bool,
    pub interaction_id: &'a str,
    pub cost_center: &'a str,
    pub city: &'a str,
    pub half_month: i64,
    pub technician: &'a str,
    pub technician_city: &'a str,
    pub visit_date: &'a str,
    pub submitted_at: &'a str,
    pub file_name: &'a str,
}

impl Mailer {
    /// `None` when e-mail is not configured (no EMAIL_HOST or no recipients).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Mailer>> {
        let e = &settings.email;
        let (Some(host), false) = (&e.host, settings.report.recipients.is_empty()) else { return Ok(None) };
        let mut b = if e.use_ssl {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host)?
        } else if e.use_tls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        };
        b = b.port(e.port).timeout(Some(Duration::from_secs(e.timeout_seconds)));
        if let (Some(user), Some(pass)) = (&e.user, &e.password) {
            b = b.credentials(Credentials::new(user.clone(), pass.expose().to_string()));
        }
        let from =
            e.default_from.clone().or_else(|| e.user.clone()).unwrap_or_else(|| "atm-maint@localhost".into());
        let from: Mailbox = from
            .parse()
            .map_err(|err| anyhow::anyhow!("DEFAULT_FROM_EMAIL {from:?} is not an address: {err}"))?;
        let to = settings
            .report
            .recipients
            .iter()
            .map(|r| r.parse::<Mailbox>().map_err(|err| anyhow::anyhow!("recipient {r:?}: {err}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Some(Mailer { transport: b.build(), from, to }))
    }

    pub async fn send(&self, mail: &ReportMail<'_>, pdf: Vec<u8>) -> anyhow::Result<()> {
        self.transport.send(message(&self.from, &self.to, mail, pdf)?).await?;
        Ok(())
    }
}

/// The whole message. Subject and attachment name go through lettre's header encoding, which
/// turns CR, LF and non-ASCII into an encoded word, so user data cannot add a header line.
fn message(from: &Mailbox, to: &[Mailbox], mail: &ReportMail<'_>, pdf: Vec<u8>) -> anyhow::Result<Message> {
    let mut builder =
        Message::builder().from(from.clone()).subject(subject(mail)).message_id(Some(message_id(mail)));
    for to in to {
        builder = builder.to(to.clone());
    }
    Ok(builder.multipart(MultiPart::mixed().singlepart(SinglePart::plain(body(mail))).singlepart(
        Attachment::new(mail.file_name.to_string()).body(pdf, ContentType::parse("application/pdf")?),
    ))?)
}

/// `<report-…@atm-maint>` made only of `[A-Za-z0-9._-]` on the left (RFC 5322 dot-atom: no two
/// dots in a row). The interaction id is a device's, typed by people: anything else in it is
/// mapped to `_` and cut to 40 characters, so the readable part may collide; the submission
/// and job ids and a hash of the original id keep it unique. Deterministic on purpose: a
/// retried send carries the same id, and a receiving server can drop the duplicate.
pub(crate) fn message_id(m: &ReportMail<'_>) -> String {
    let mut readable = String::new();
    for c in m.interaction_id.chars().take(40) {
        let keep =
            c.is_ascii_alphanumeric() || c == '-' || c == '_' || (c == '.' && !readable.ends_with('.'));
        readable.push(if keep { c } else { '_' });
    }
    let digest = Sha256::digest(format!("{}\n{}\n{}", m.submission_id, m.job_id, m.interaction_id));
    format!("<report-{}-{}-{readable}-{}@atm-maint>", m.submission_id, m.job_id, &hex::encode(digest)[..16])
}

pub(crate) fn subject(m: &ReportMail<'_>) -> String {
    format!("ATM {} Report – {} – Half {}", m.submission_type, m.interaction_id, m.half_month)
}

pub(crate) fn body(m: &ReportMail<'_>) -> String {
    let rule = "=".repeat(50);
    let contents = if m.electrical {
        "- Cover page\n- Sections 1-5: site machine (2), equipment, components and final check photos\n- Preventive maintenance checklist"
    } else {
        "- Cover page\n- Sections 1-3: site machine, zoomed front and back, asphalt and pavement photos\n- Preventive cleaning checklist"
    };
    format!(
        "Dear Team,\n\nPlease find attached the approved maintenance report ({file}).\n\n{rule}\nSUBMISSION DETAILS\n{rule}\n\
         ATM ID (GFM):     {gfm}\nCost Center:      {cost}\nCity:             {city}\nType:             {kind}\n\
         Half Month:       {half}\nTechnician:       {tech}\nTechnician City:  {tcity}\nVisit Date:       {visit}\n\
         Submission Date:  {submitted}\nStatus:           Approved\n{rule}\n\nThe PDF contains:\n{contents}\n\n\
         This is an automated notification; please do not reply to this e-mail.\n\nBest regards,\nATM Maintenance System\n",
        file = m.file_name,
        gfm = m.interaction_id,
        cost = m.cost_center,
        city = m.city,
        kind = m.submission_type,
        half = m.half_month,
        tech = m.technician,
        tcity = m.technician_city,
        visit = m.visit_date,
        submitted = m.submitted_at,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(interaction_id: &str, job_id: i64) -> ReportMail<'_> {
        ReportMail {
            job_id,
            submission_id: 7,
            submission_type: "Cleaning",
            electrical: false,
            interaction_id,
            cost_center: "CC1",
            city: "Cairo",
            half_month: 1,
            technician: "Tech",
            technician_city: "Cairo",
            visit_date: "01/12/2026",
            submitted_at: "01/12/2026 10:00",
            file_name: "report.pdf",
        }
    }

    const HOSTILE: &[&str] = &[
        "ATM\r\nBcc: victim@example.com",
        "ATM\n123",
        "<ATM>",
        "ATM@example.com",
        "ATM 1 2",
        "ATM..1...",
        ".leading.dot.",
        "أجهزة-صراف-١٢٣",
        "ATM\u{0}\u{7f}\t\"(x)\\",
        "",
        "x-very-long-interaction-id-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on",
    ];

    #[test]
    fn message_ids_from_hostile_interaction_ids_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for (i, id) in HOSTILE.iter().enumerate() {
            let mid = message_id(&mail(id, 1));
            let inner = mid.strip_prefix('<').and_then(|m| m.strip_suffix('>')).unwrap();
            let (left, right) = inner.split_once('@').unwrap();
            assert_eq!(right, "atm-maint", "{mid}");
            assert!(
                left.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
                "{id:?} gave {mid}"
            );
            assert!(!left.contains("..") && !left.starts_with('.') && !left.ends_with('.'), "{mid}");
            assert!(mid.len() < 120, "{mid}");
            assert!(seen.insert(mid.clone()), "{id:?} (#{i}) repeats an earlier id: {mid}");
        }
        // Ids that map to the same readable part still differ, and so do two jobs.
        assert_ne!(message_id(&mail("a b", 1)), message_id(&mail("a@b", 1)));
        assert_ne!(message_id(&mail("ATM1", 1)), message_id(&mail("ATM1", 2)));
        assert_eq!(message_id(&mail("ATM1", 1)), message_id(&mail("ATM1", 1)));
    }

    #[test]
    fn hostile_interaction_ids_cannot_add_header_lines() {
        let from: Mailbox = "atm@example.com".parse().unwrap();
        let to: Mailbox = "team@example.com".parse().unwrap();
        for id in HOSTILE {
            let raw = message(&from, std::slice::from_ref(&to), &mail(id, 1), b"%PDF".to_vec())
                .unwrap()
                .formatted();
            let text = String::from_utf8_lossy(&raw);
            let headers = text.split("\r\n\r\n").next().unwrap();
            for line in headers.split("\r\n") {
                assert!(!line.contains('\n') && !line.contains('\r'), "{id:?}: bare newline in {line:?}");
                let folded = line.starts_with(' ') || line.starts_with('\t');
                let name = line.split(':').next().unwrap_or("");
                assert!(
                    folded
                        || ["From", "To", "Subject", "Message-ID", "MIME-Version", "Date", "Content-Type"]
                            .contains(&name),
                    "{id:?}: unexpected header line {line:?}"
                );
            }
            assert_eq!(headers.matches("\r\nMessage-ID: ").count(), 1, "{headers}");
            assert!(!headers.to_ascii_lowercase().contains("\r\nbcc:"), "{headers}");
        }
    }
}
