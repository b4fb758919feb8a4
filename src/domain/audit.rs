//! The audit trail's rules: the actions it records and the hash that chains each row to the
//! one before it, so that a row changed or deleted afterwards is detectable.

use sha2::{Digest, Sha256};

/// The previous hash of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is recorded. Stored as the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    SignIn,
    SignInFailed,
    SignOut,
    Approve,
    Reject,
    PreviewPdf,
    CreateTechnician,
    DeleteTechnician,
    ExcelImport,
    PasswordChange,
    CreateUser,
    StorageAdopt,
    Restore,
    ImportOriginal,
    CheckFinding,
}

impl Action {
    pub const ALL: [Action; 15] = [
        Action::SignIn,
        Action::SignInFailed,
        Action::SignOut,
        Action::Approve,
        Action::Reject,
        Action::PreviewPdf,
        Action::CreateTechnician,
        Action::DeleteTechnician,
        Action::ExcelImport,
        Action::PasswordChange,
        Action::CreateUser,
        Action::StorageAdopt,
        Action::Restore,
        Action::ImportOriginal,
        Action::CheckFinding,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::SignInFailed => "sign_in_failed",
            Action::SignOut => "sign_out",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::PreviewPdf => "preview_pdf",
            Action::CreateTechnician => "create_technician",
            Action::DeleteTechnician => "delete_technician",
            Action::ExcelImport => "excel_import",
            Action::PasswordChange => "password_change",
            Action::CreateUser => "create_user",
            Action::StorageAdopt => "storage_adopt",
            Action::Restore => "restore",
            Action::ImportOriginal => "import_original",
            Action::CheckFinding => "check_finding",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The fields of one row that its hash covers, in their stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields<'a> {
    pub id: i64,
    pub at: &'a str,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: &'a str,
    pub client: Option<&'a str>,
}

/// SHA-256 (hex) of the previous row's hash and this row's fields, written as one JSON array:
/// unambiguous, whatever the fields hold.
pub fn chain_hash(prev_hash: &str, f: &Fields<'_>) -> String {
    let canonical = serde_json::json!([
        prev_hash, f.id, f.at, f.actor_id, f.actor, f.action, f.target, f.detail, f.client
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(detail: &str) -> Fields<'_> {
        Fields {
            id: 1,
            at: "2026-12-01T00:00:00.000000Z",
            actor_id: Some(3),
            actor: "super1",
            action: "approve",
            target: Some("submission:9"),
            detail,
            client: Some("10.0.0.1"),
        }
    }

    #[test]
    fn any_change_of_a_field_or_of_the_previous_hash_changes_the_hash() {
        let h = chain_hash(GENESIS, &row("{}"));
        assert_eq!(h.len(), 64);
        assert_eq!(h, chain_hash(GENESIS, &row("{}")), "the same row gives the same hash");
        assert_ne!(h, chain_hash(GENESIS, &row("{\"x\":1}")));
        assert_ne!(h, chain_hash(&h, &row("{}")));
        let mut other = row("{}");
        other.client = None;
        assert_ne!(h, chain_hash(GENESIS, &other));
        other = row("{}");
        other.id = 2;
        assert_ne!(h, chain_hash(GENESIS, &other));
        // Field boundaries cannot be shifted: "a|b" + "c" is not "a" + "b|c".
        let (mut a, mut b) = (row("{}"), row("{}"));
        (a.actor, a.action) = ("super1approve", "");
        (b.actor, b.action) = ("super1", "approve");
        assert_ne!(chain_hash(GENESIS, &a), chain_hash(GENESIS, &b));
    }

    #[test]
    fn each_action_parses_back_from_its_name() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert_eq!(Action::parse("drop_table"), None);
    }
}
