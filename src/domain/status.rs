//! The review status of a submission: Pending until a supervisor approves or rejects it; a
//! rejected one becomes Pending again when the technician resubmits it.

use std::fmt;

/// Stored, compared and sent as the original's strings ("Pending", "Approved", "Rejected").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SubmissionStatus {
    Pending,
    Approved,
    Rejected,
}

impl SubmissionStatus {
    pub const ALL: [SubmissionStatus; 3] =
        [SubmissionStatus::Pending, SubmissionStatus::Approved, SubmissionStatus::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::Pending => "Pending",
            SubmissionStatus::Approved => "Approved",
            SubmissionStatus::Rejected => "Rejected",
        }
    }

    /// Exactly the stored spelling: the API's filter has always been case-sensitive.
    pub fn parse(s: &str) -> Option<SubmissionStatus> {
        SubmissionStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for SubmissionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::SubmissionStatus;

    #[test]
    fn each_status_parses_back_from_its_string_and_serialises_as_it() {
        for s in SubmissionStatus::ALL {
            assert_eq!(SubmissionStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<SubmissionStatus>(&format!("\"{s}\"")).unwrap(), s);
        }
        for bad in ["pending", "APPROVED", "All", "", "Active"] {
            assert_eq!(SubmissionStatus::parse(bad), None, "{bad:?}");
        }
    }
}
