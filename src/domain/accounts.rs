//! Account rules with the original's messages (spec §3.3): usernames, passwords, cities.

/// The 16 cities offered when creating a technician (spec §4.2). The API accepts any non-blank
/// city, as the original did; the pages offer this list.
pub const CITIES: [&str; 16] = [
    "Abha",
    "Al Baha",
    "Al Namas",
    "Bishah",
    "Dammam",
    "Hail",
    "Jazan",
    "Jeddah",
    "Khamis Mushait",
    "Mecca",
    "Medina",
    "Najran",
    "Riyadh",
    "Sabya",
    "Sharurah",
    "Tabuk",
];

/// A short list of the passwords attackers try first; a password on it is refused.
const COMMON_PASSWORDS: &[&str] = &[
    "123456",
    "password",
    "12345678",
    "qwerty",
    "123456789",
    "12345",
    "1234",
    "111111",
    "1234567",
    "dragon",
    "123123",
    "baseball",
    "abc123",
    "football",
    "monkey",
    "letmein",
    "696969",
    "shadow",
    "master",
    "666666",
    "qwertyuiop",
    "123321",
    "mustang",
    "1234567890",
    "michael",
    "654321",
    "superman",
    "1qaz2wsx",
    "7777777",
    "121212",
    "000000",
    "qazwsx",
    "123qwe",
    "killer",
    "trustno1",
    "jordan",
    "jennifer",
    "zxcvbnm",
    "asdfgh",
    "hunter",
    "buster",
    "soccer",
    "harley",
    "batman",
    "andrew",
    "tigger",
    "sunshine",
    "iloveyou",
    "2000",
    "charlie",
    "robert",
    "thomas",
    "hockey",
    "ranger",
    "daniel",
    "starwars",
    "klaster",
    "112233",
    "george",
    "computer",
    "michelle",
    "jessica",
    "pepper",
    "1111",
    "zxcvbn",
    "555555",
    "11111111",
    "131313",
    "freedom",
    "777777",
    "pass",
    "maggie",
    "159753",
    "aaaaaa",
    "ginger",
    "princess",
    "joshua",
    "cheese",
    "amanda",
    "summer",
    "love",
    "ashley",
    "nicole",
    "chelsea",
    "biteme",
    "matthew",
    "access",
    "yankees",
    "987654321",
    "dallas",
    "austin",
    "thunder",
    "taylor",
    "matrix",
    "password1",
    "password123",
    "admin",
    "admin123",
    "welcome",
    "welcome1",
    "qwerty123",
    "passw0rd",
    "p@ssw0rd",
    "host123",
    "tech123",
    "changeme",
    "secret",
    "abcd1234",
    "1q2w3e4r",
    "q1w2e3r4",
    "iloveyou1",
    "princess1",
    "football1",
    "aa123456",
    "letmein1",
    "administrator",
    "default",
    "guest",
    "test1234",
    "testtest",
    "password12",
    "asdfasdf",
    "qwer1234",
];

/// Field-keyed errors, in the original's `{"field": ["message", ...]}` shape.
pub type FieldErrors = Vec<(&'static str, String)>;

pub fn validate_username(username: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let Some(u) = username else {
        errors.push(("username", "This field is required.".into()));
        return None;
    };
    let u = u.trim();
    if u.is_empty() {
        errors.push(("username", "This field may not be blank.".into()));
        return None;
    }
    if u.chars().count() > 150 {
        errors.push(("username", "Ensure this field has no more than 150 characters.".into()));
        return None;
    }
    if !u.chars().all(|c| c.is_alphanumeric() || "@.+-_".contains(c)) {
        errors.push((
            "username",
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
                .into(),
        ));
        return None;
    }
    if !u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        errors.push(("username", "Username must contain only letters, numbers, and underscores".into()));
        return None;
    }
    Some(u.to_string())
}

/// The original's rules: at least 8 characters, not a common password, not only digits.
pub fn validate_password(
    password: Option<&str>,
    username: Option<&str>,
    errors: &mut FieldErrors,
) -> Option<String> {
    let Some(p) = password else {
        errors.push(("password", "This field is required.".into()));
        return None;
    };
    if p.is_empty() {
        errors.push(("password", "This field may not be blank.".into()));
        return None;
    }
    if p.chars().count() < 8 {
        errors.push(("password", "Ensure this field has at least 8 characters.".into()));
        return None;
    }
    if p.len() > 1024 {
        errors.push(("password", "Ensure this field has no more than 1024 characters.".into()));
        return None;
    }
    let before = errors.len();
    let lower = p.to_lowercase();
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        errors.push(("password", "This password is too common.".into()));
    }
    if p.chars().all(|c| c.is_ascii_digit()) {
        errors.push(("password", "This password is entirely numeric.".into()));
    }
    if username.is_some_and(|u| !u.is_empty() && lower.contains(&u.to_lowercase())) {
        errors.push(("password", "The password is too similar to the username.".into()));
    }
    (errors.len() == before).then(|| p.to_string())
}

pub fn validate_city(city: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    match city.map(str::trim) {
        Some(c) if !c.is_empty() && c.chars().count() <= 100 => Some(c.to_string()),
        Some(c) if !c.is_empty() => {
            errors.push(("city", "Ensure this field has no more than 100 characters.".into()));
            None
        }
        _ => {
            errors.push(("city", "City is required".into()));
            None
        }
    }
}

/// Turns collected errors into `{"field": ["msg", ...]}`, keeping field order.
pub fn to_json(errors: &FieldErrors) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (field, msg) in errors {
        let entry = map.entry(field.to_string()).or_insert_with(|| serde_json::Value::Array(vec![]));
        if let serde_json::Value::Array(a) = entry {
            a.push(serde_json::Value::String(msg.clone()));
        }
    }
    serde_json::Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_original_rules_and_messages() {
        let mut e = FieldErrors::new();
        assert_eq!(validate_username(Some("tech_1"), &mut e), Some("tech_1".into()));
        assert!(validate_username(Some("bad name!"), &mut e).is_none());
        assert!(e[0].1.starts_with("Enter a valid username"));
        e.clear();
        assert!(validate_username(Some("a.b"), &mut e).is_none());
        assert_eq!(e[0].1, "Username must contain only letters, numbers, and underscores");
        e.clear();
        validate_username(None, &mut e);
        validate_username(Some("  "), &mut e);
        assert_eq!(e[0].1, "This field is required.");
        assert_eq!(e[1].1, "This field may not be blank.");
    }

    #[test]
    fn passwords_must_be_long_uncommon_and_not_numeric() {
        let mut e = FieldErrors::new();
        assert!(validate_password(Some("short"), None, &mut e).is_none());
        assert_eq!(e[0].1, "Ensure this field has at least 8 characters.");
        e.clear();
        assert!(validate_password(Some("password123"), None, &mut e).is_none());
        assert_eq!(e[0].1, "This password is too common.");
        e.clear();
        assert!(validate_password(Some("7350284619"), None, &mut e).is_none());
        assert_eq!(e[0].1, "This password is entirely numeric.");
        e.clear();
        assert!(validate_password(Some("Correct-Horse-42"), Some("tech1"), &mut e).is_some());
        assert!(e.is_empty());
    }

    #[test]
    fn errors_group_by_field() {
        let e: FieldErrors = vec![("password", "a".into()), ("city", "b".into()), ("password", "c".into())];
        assert_eq!(to_json(&e), serde_json::json!({"password": ["a", "c"], "city": ["b"]}));
    }
}
