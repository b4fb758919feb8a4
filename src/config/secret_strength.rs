//! Is a secret random enough to sign tokens with? Production refuses one that is not, since
//! `SECRET_KEY=aaaa…` or a copied placeholder lets anyone who guesses it mint tokens for any
//! account; development only warns.
//!
//! The estimate is deliberately simple and conservative: runs such as `abcd` or `1111` count as
//! two characters, a stretch of four or more characters seen earlier counts as one, each common
//! word of placeholder secrets ("secret", "key", "production"…) counts as one, and what is
//! left is scored by its Shannon entropy per character times its length. Random hex or base64
//! of 16 bytes or more scores well above the bar.

use std::collections::HashMap;

/// Fewer estimated bits than this is refused.
pub(super) const MIN_BITS: f64 = 64.0;

/// Only the start is scored; a longer secret whose first 256 characters pass is random enough.
const SCORED_CHARS: usize = 256;

/// Substrings that mark a value as a placeholder someone meant to replace (compared lower-case,
/// with punctuation removed).
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "changethis",
    "replaceme",
    "replacethis",
    "placeholder",
    "example",
    "insecure",
    "yoursecret",
    "notasecret",
    "notsecret",
    "dummy",
    "fixme",
    "sample",
    "opensslrand",
    "qwerty",
    "asdfgh",
    "zxcvbn",
];

/// Words placeholder secrets are made of; they add nothing an attacker would not try first.
const COMMON_WORDS: &[&str] = &[
    "development",
    "production",
    "password",
    "application",
    "signing",
    "session",
    "default",
    "replace",
    "secret",
    "passwd",
    "django",
    "please",
    "random",
    "string",
    "change",
    "super",
    "token",
    "flask",
    "value",
    "admin",
    "this",
    "very",
    "long",
    "here",
    "your",
    "prod",
    "jwt",
    "key",
    "dev",
    "app",
    "the",
    "for",
    "my",
];

/// Why `value` is a poor secret, in words that do not repeat it; `None` when it looks random.
pub(super) fn weakness(value: &str) -> Option<String> {
    let lower = value.to_lowercase();
    let squashed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if let Some(p) = PLACEHOLDERS.iter().find(|p| squashed.contains(*p)) {
        return Some(format!("it looks like a placeholder (it contains {p:?})"));
    }
    let bits = estimated_bits(&lower);
    if bits < MIN_BITS {
        return Some(format!(
            "it has about {bits:.0} bits of randomness, fewer than {MIN_BITS:.0} (repeated patterns, runs \
             such as \"abcd\" or \"1111\", and common words count for little)"
        ));
    }
    None
}

fn estimated_bits(lower: &str) -> f64 {
    let mut rest = lower.chars().take(SCORED_CHARS).collect::<String>();
    // Each word becomes one symbol of its own: worth about as much as one random character.
    for (i, w) in COMMON_WORDS.iter().enumerate() {
        let symbol = char::from_u32(0xE000 + i as u32).unwrap_or('\u{E000}');
        rest = rest.replace(w, symbol.encode_utf8(&mut [0; 4]));
    }
    let chars: Vec<char> = rest.chars().collect();
    let reduced = drop_repeats(&collapse_runs(&chars));
    shannon_bits_per_char(&reduced) * reduced.len() as f64
}

/// A run of three or more characters stepping by -1, 0 or +1 (`aaaa`, `abcd`, `9876`) keeps its
/// first two.
fn collapse_runs(c: &[char]) -> Vec<char> {
    let step = |a: char, b: char| b as i64 - a as i64;
    let mut out = Vec::with_capacity(c.len());
    let mut i = 0;
    while i < c.len() {
        if i + 2 < c.len() {
            let d = step(c[i], c[i + 1]);
            let mut j = i + 2;
            while d.abs() <= 1 && j < c.len() && step(c[j - 1], c[j]) == d {
                j += 1;
            }
            if j - i >= 3 {
                out.extend_from_slice(&c[i..i + 2]);
                i = j;
                continue;
            }
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// Each stretch of four or more characters that already occurred (overlaps included, so a
/// repeated pattern collapses to its first period) becomes one placeholder symbol.
fn drop_repeats(c: &[char]) -> Vec<char> {
    const MIN_REPEAT: usize = 4;
    let mut out = Vec::with_capacity(c.len());
    let mut i = 0;
    while i < c.len() {
        let longest =
            (0..i).map(|k| (0..c.len() - i).take_while(|&l| c[k + l] == c[i + l]).count()).max().unwrap_or(0);
        if longest >= MIN_REPEAT {
            out.push('\u{0}');
            i += longest;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn shannon_bits_per_char(c: &[char]) -> f64 {
    let mut counts: HashMap<char, usize> = HashMap::new();
    for ch in c {
        *counts.entry(*ch).or_default() += 1;
    }
    let n = c.len() as f64;
    counts.values().map(|&k| k as f64 / n).map(|p| -p * p.log2()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_entropy_repeated_sequential_and_placeholder_secrets_are_called_weak() {
        let bad = [
            "a".repeat(32),
            "ab".repeat(20),
            "abc".repeat(12),
            "0123456789abcdef0123456789abcdef".to_string(),
            "abcdefghijklmnopqrstuvwxyz0123456789".to_string(),
            "9876543210zyxwvutsrqponmlkjihgfedcba".to_string(),
            "e2d5e99b4378c04be2d5e99b4378c04b".to_string(),
            "supersecretkeysupersecretkey1234".to_string(),
            "password1234password1234password1234".to_string(),
            "my-super-secret-jwt-key-for-production-2024".to_string(),
            "thisisaverylongsecretkeyforproduction".to_string(),
            "changeme-changeme-changeme-changeme".to_string(),
            "please-CHANGE_ME-before-going-to-production-42".to_string(),
            "django-insecure-8f3k2j5h7g9d1s4a6q0w2e4r6t8y0u".to_string(),
            "your-secret-key-goes-here-0a9b8c7d6e5f4".to_string(),
            "replace-with-the-output-of-openssl-rand-hex-32".to_string(),
            "qwertyuiopasdfghjklzxcvbnm123456".to_string(),
        ];
        for v in &bad {
            assert!(weakness(v).is_some(), "{v:?} was accepted");
        }
    }

    #[test]
    fn random_hex_base64_and_uuids_are_accepted() {
        let good = [
            "3f9c1a7e5b2d48f09e6a1c3b7d5f2e84",
            "b7e41f0c9a2d5e83c6f1a04b9d7e2c5f18a3e6d09b4c7f2a5e1d8c3b6f0a9e47",
            "q8Zr2LkT0vXw9HbN4mPc7JsYd1GfUe6A",
            "Yh3_kP9-Wm2xRt7QnB5vLc8ZsJ4dFg1a0Ue6",
            "2c5e8a71-4b3f-4d9a-8e6c-1f7b0a9d3e52",
            // The kind of phrase-and-digits keys the test suite uses.
            "test-secret-key-that-is-long-enough-0123456789",
            "render-secret-key-long-enough-0123456789abcdef",
            "shared-secret-key-for-both-instances-0123456789",
        ];
        for v in good {
            assert_eq!(weakness(v), None, "{v:?} was refused");
        }
    }

    #[test]
    fn freshly_generated_keys_are_never_refused() {
        for _ in 0..500 {
            let key = hex::encode(rand::random::<[u8; 16]>());
            assert_eq!(weakness(&key), None, "{key}");
        }
    }

    #[test]
    fn the_reason_does_not_repeat_the_secret() {
        let v = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
        assert!(!weakness(v).unwrap().contains("zzzz"));
    }
}
