//! Approval reports: the PDF, the e-mail, and the job runner that produces them.

pub(crate) mod build;
pub(crate) mod email;
pub(crate) mod jobs;
pub(crate) mod pdf;
mod pdf_wording;
pub(crate) mod photos;
pub(crate) mod text;
