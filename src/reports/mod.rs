//! Approval reports: the PDF, the e-mail, and the job runner that produces them.

pub mod build;
pub mod email;
pub mod jobs;
pub mod pdf;
mod pdf_wording;
pub mod photos;
pub mod text;
