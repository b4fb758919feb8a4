//! The approval e-mail (spec §7) over SMTP with `lettre`: STARTTLS or TLS by configuration, a
//! timeout, recipients from configuration, the PDF attached. A body that is right for
//! electrical reports too.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

/// What the e-mail says about the submission.
pub struct ReportMail<'a> {
    pub job_id: i64,
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
        let mut builder =
            Message::builder().from(self.from.clone()).subject(subject(mail)).message_id(Some(format!(
                "<report-{}-{}@atm-maint>",
                mail.job_id,
                mail.interaction_id.replace(['<', '>', '@', ' '], "")
            )));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let message =
            builder.multipart(MultiPart::mixed().singlepart(SinglePart::plain(body(mail))).singlepart(
                Attachment::new(mail.file_name.to_string()).body(pdf, ContentType::parse("application/pdf")?),
            ))?;
        self.transport.send(message).await?;
        Ok(())
    }
}

pub fn subject(m: &ReportMail<'_>) -> String {
    format!("ATM {} Report – {} – Half {}", m.submission_type, m.interaction_id, m.half_month)
}

pub fn body(m: &ReportMail<'_>) -> String {
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
