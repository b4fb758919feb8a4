//! Evidence about a photo, without HTTP or SQL: the facts read from its bytes at upload (EXIF
//! capture time, GPS position, camera, a perceptual hash of the small decode), and the findings a
//! report gets when it is filed (capture time missing or outside the visit, a photo seen before,
//! the same photo twice, photos taken far apart or far from the device). Findings inform the
//! reviewer; they never block filing.

use std::io::Cursor;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use super::photo;

/// A position on Earth, in degrees, with what the source said of its accuracy and altitude.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
    /// Horizontal accuracy in metres (EXIF `GPSHPositioningError`, or the browser's `accuracy`).
    pub accuracy_m: Option<f64>,
    pub altitude_m: Option<f64>,
}

impl Position {
    /// A position, or `None` for out-of-range or non-finite degrees and for 0°/0°, which
    /// cameras write when they had no fix.
    pub fn new(latitude: f64, longitude: f64) -> Option<Position> {
        let valid = latitude.is_finite()
            && longitude.is_finite()
            && (-90.0..=90.0).contains(&latitude)
            && (-180.0..=180.0).contains(&longitude)
            && !(latitude == 0.0 && longitude == 0.0);
        valid.then_some(Position { latitude, longitude, accuracy_m: None, altitude_m: None })
    }

    /// A position the phone reported with a photo: `latitude,longitude` or
    /// `latitude,longitude,accuracy` (degrees, metres), as the page sends it.
    pub fn parse_reported(s: &str) -> Result<Position, String> {
        let bad = || {
            format!(
                "The phone's position \"{}\" is not \"latitude,longitude\" or \"latitude,longitude,accuracy\" \
                 (degrees, metres). Send the photo without it, or with a valid one.",
                s.chars().take(60).collect::<String>()
            )
        };
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let num = |v: &str| v.parse::<f64>().ok().filter(|n| n.is_finite());
        let (lat, lon) = (num(parts[0]).ok_or_else(bad)?, num(parts[1]).ok_or_else(bad)?);
        let mut p = Position::new(lat, lon).ok_or_else(bad)?;
        if let Some(a) = parts.get(2) {
            p.accuracy_m = Some(num(a).filter(|a| (0.0..=100_000.0).contains(a)).ok_or_else(bad)?);
        }
        Ok(p)
    }

    /// Great-circle distance in metres (haversine; a few metres off over a city is fine here).
    pub fn distance_m(&self, other: &Position) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_000.0;
        let (p1, p2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dp = p2 - p1;
        let dl = (other.longitude - self.longitude).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }

    /// The coordinate-wise median of some positions: one stray photo does not move it.
    pub fn median(positions: &[Position]) -> Option<Position> {
        fn mid(mut v: Vec<f64>) -> f64 {
            v.sort_by(f64::total_cmp);
            let n = v.len();
            if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
        }
        if positions.is_empty() {
            return None;
        }
        Position::new(
            mid(positions.iter().map(|p| p.latitude).collect()),
            mid(positions.iter().map(|p| p.longitude).collect()),
        )
    }
}

/// When the camera says the photo was taken: its wall clock, and the offset when it wrote one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureTime {
    pub local: NaiveDateTime,
    pub offset: Option<FixedOffset>,
}

impl CaptureTime {
    /// ISO 8601, with the offset when known: `2026-11-30T14:03:12+01:00` or `2026-11-30T14:03:12`.
    pub fn to_iso(&self) -> String {
        match self.offset {
            Some(o) => DateTime::<FixedOffset>::from_naive_utc_and_offset(self.local - o, o)
                .format("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
            None => self.local.format("%Y-%m-%dT%H:%M:%S").to_string(),
        }
    }

    pub fn parse_iso(s: &str) -> Option<CaptureTime> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(CaptureTime { local: t.naive_local(), offset: Some(*t.offset()) });
        }
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
            .ok()
            .map(|local| CaptureTime { local, offset: None })
    }
}

/// What the bytes of one photo say about it. The original bytes are never changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotoFacts {
    pub captured_at: Option<CaptureTime>,
    pub exif_position: Option<Position>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    /// 64-bit DCT perceptual hash of the upright small decode; `None` when it would not decode.
    pub phash: Option<u64>,
}

/// The longest side of the decode the hash is computed from: the JPEG 1/8 DCT scale of a phone
/// photo covers it, so hashing costs a fraction of a full decode.
const HASH_DECODE_EDGE: u32 = 256;

/// Reads the facts of a photo that passed the upload checks. Never fails: what cannot be read is
/// absent (a photo without EXIF is still a photo).
pub fn read_facts(original: &[u8]) -> PhotoFacts {
    let mut facts = PhotoFacts { phash: perceptual_hash(original), ..PhotoFacts::default() };
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(original)) else {
        return facts;
    };
    let text = |tag| {
        exif.get_field(tag, exif::In::PRIMARY).and_then(|f| match &f.value {
            exif::Value::Ascii(v) => v.first().map(|b| String::from_utf8_lossy(b).trim().to_string()),
            _ => None,
        })
    };
    facts.camera_make = text(exif::Tag::Make).filter(|s| !s.is_empty()).map(|s| truncate(s, 64));
    facts.camera_model = text(exif::Tag::Model).filter(|s| !s.is_empty()).map(|s| truncate(s, 64));
    facts.captured_at = text(exif::Tag::DateTimeOriginal).and_then(|t| {
        let local = NaiveDateTime::parse_from_str(&t, "%Y:%m:%d %H:%M:%S").ok()?;
        let offset = text(exif::Tag::OffsetTimeOriginal).and_then(|o| parse_offset(&o));
        Some(CaptureTime { local, offset })
    });
    let rationals = |tag| {
        exif.get_field(tag, exif::In::PRIMARY).and_then(|f| match &f.value {
            exif::Value::Rational(v) => Some(v.iter().map(|r| r.to_f64()).collect::<Vec<f64>>()),
            _ => None,
        })
    };
    let degrees = |tag, reference, negative: &str| -> Option<f64> {
        let v = rationals(tag)?;
        let d = v.first()? + v.get(1).unwrap_or(&0.0) / 60.0 + v.get(2).unwrap_or(&0.0) / 3600.0;
        let sign = if text(reference).is_some_and(|r| r.eq_ignore_ascii_case(negative)) { -1.0 } else { 1.0 };
        Some(sign * d)
    };
    let lat = degrees(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, "S");
    let lon = degrees(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, "W");
    if let (Some(lat), Some(lon)) = (lat, lon)
        && let Some(mut p) = Position::new(lat, lon)
    {
        let below = exif
            .get_field(exif::Tag::GPSAltitudeRef, exif::In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .is_some_and(|r| r == 1);
        p.altitude_m = rationals(exif::Tag::GPSAltitude)
            .and_then(|v| v.first().copied())
            .filter(|a| a.is_finite())
            .map(|a| if below { -a } else { a });
        p.accuracy_m = rationals(exif::Tag::GPSHPositioningError)
            .and_then(|v| v.first().copied())
            .filter(|a| a.is_finite() && *a >= 0.0);
        facts.exif_position = Some(p);
    }
    facts
}

fn truncate(s: String, n: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(n).collect()
}

/// `+01:00`, `-05:30` (EXIF `OffsetTimeOriginal`).
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// The 64-bit DCT perceptual hash (pHash: the 8×8 lowest frequencies of a small grey image, each
/// bit above or below their median, so every hash has 32 bits set) of the upright small decode.
/// Recompressed and resized copies land 0–2 bits apart, copies cropped by a few percent up to
/// about 12; unrelated photos about half the bits apart (18 or more in the tests' 1,225 pairs).
pub fn perceptual_hash(original: &[u8]) -> Option<u64> {
    let img = photo::upright_small(original, HASH_DECODE_EDGE).ok()?;
    let hasher = image_hasher::HasherConfig::with_bytes_type::<[u8; 8]>()
        .hash_size(8, 8)
        .hash_alg(image_hasher::HashAlg::Median)
        .preproc_dct()
        .to_hasher();
    Some(u64::from_be_bytes(hasher.hash_image(&img).into_inner()))
}

/// How many bits two perceptual hashes differ in.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The thresholds findings are computed with (see `ATM_EVIDENCE_*` in the README).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// Days before the visit date a photo may have been taken.
    pub capture_margin_days: i64,
    /// Largest perceptual-hash distance (bits of 64) still called the same picture.
    pub near_distance: u32,
    /// How many of the technician's latest other reports a photo is compared with (every
    /// report of the same device is).
    pub technician_reports: i64,
    /// Farthest a photo may be from the report's other photos (their median), in metres.
    pub report_spread_m: f64,
    /// Farthest a photo may be from the device's known position, in metres.
    pub device_distance_m: f64,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            capture_margin_days: 1,
            near_distance: 12,
            technician_reports: 500,
            report_spread_m: 300.0,
            device_distance_m: 500.0,
        }
    }
}

/// The kinds of finding, as the JSON names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    CaptureTimeMissing,
    CaptureTimeOutsideVisit,
    ExactReuse,
    NearDuplicate,
    SameInReport,
    FarFromReport,
    FarFromDevice,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::CaptureTimeMissing,
        Kind::CaptureTimeOutsideVisit,
        Kind::ExactReuse,
        Kind::NearDuplicate,
        Kind::SameInReport,
        Kind::FarFromReport,
        Kind::FarFromDevice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CaptureTimeMissing => "capture_time_missing",
            Kind::CaptureTimeOutsideVisit => "capture_time_outside_visit",
            Kind::ExactReuse => "exact_reuse",
            Kind::NearDuplicate => "near_duplicate",
            Kind::SameInReport => "same_in_report",
            Kind::FarFromReport => "far_from_report",
            Kind::FarFromDevice => "far_from_device",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A short label for badges and the PDF.
    pub fn label(self) -> &'static str {
        match self {
            Kind::CaptureTimeMissing => "No capture time",
            Kind::CaptureTimeOutsideVisit => "Taken outside the visit",
            Kind::ExactReuse => "Seen before (identical file)",
            Kind::NearDuplicate => "Seen before (similar picture)",
            Kind::SameInReport => "Same picture twice in this report",
            Kind::FarFromReport => "Taken far from the other photos",
            Kind::FarFromDevice => "Taken far from the device",
        }
    }
}

/// One photo of the report being filed.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub label: &'a str,
    pub sha256: &'a str,
    pub facts: &'a PhotoFacts,
    /// Where the phone was when the photo was picked, when the page sent it.
    pub browser_position: Option<Position>,
}

impl Subject<'_> {
    /// The position the findings use: the camera's EXIF, else the phone's.
    pub fn position(&self) -> Option<Position> {
        self.facts.exif_position.or(self.browser_position)
    }
}

/// A photo of another report the report being filed is compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct Earlier {
    pub submission_id: i64,
    pub photo_id: i64,
    pub sha256: String,
    pub phash: Option<u64>,
}

/// The photo a finding points at, other than its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Other {
    None,
    /// A photo of another report.
    Earlier {
        submission_id: i64,
        photo_id: i64,
    },
    /// Another photo of the same report, by its index among the subjects.
    InReport(usize),
}

/// A finding about the subject at index `photo`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub photo: usize,
    pub kind: Kind,
    pub other: Other,
    /// The evidence, as JSON fields (distance, window, metres…).
    pub detail: serde_json::Value,
    pub message: String,
}

/// Everything the findings of one report are computed from.
pub struct Report<'a> {
    pub visit_date: NaiveDate,
    pub filed_at: DateTime<Utc>,
    pub photos: &'a [Subject<'a>],
    /// Photos of other reports with the same SHA-256 as a subject (any technician, any device).
    pub same_bytes: &'a [Earlier],
    /// Photos of other reports of the same device or the same technician.
    pub nearby: &'a [Earlier],
    pub device_position: Option<Position>,
}

/// How far the filing time may be behind a camera's clock before a photo is "from the future".
const CLOCK_SLACK_MINUTES: i64 = 10;
/// Without an offset, the camera's wall clock may be up to 14 hours ahead of UTC.
const MAX_OFFSET_HOURS: i64 = 14;

/// The findings of a report being filed.
pub fn assess(rules: &Rules, r: &Report<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let earliest = r.visit_date - Duration::days(rules.capture_margin_days);
    for (i, p) in r.photos.iter().enumerate() {
        let mut push = |kind: Kind, other: Other, detail: serde_json::Value, message: String| {
            out.push(Finding { photo: i, kind, other, detail, message })
        };
        match p.facts.captured_at {
            None => push(
                Kind::CaptureTimeMissing,
                Other::None,
                serde_json::json!({}),
                format!("{}: the photo carries no capture time (no EXIF DateTimeOriginal).", p.label),
            ),
            Some(t) => {
                let too_late = match t.offset {
                    Some(o) => t.local - o > r.filed_at.naive_utc() + Duration::minutes(CLOCK_SLACK_MINUTES),
                    None => t.local > r.filed_at.naive_utc() + Duration::hours(MAX_OFFSET_HOURS),
                };
                if t.local.date() < earliest || too_late {
                    push(
                        Kind::CaptureTimeOutsideVisit,
                        Other::None,
                        serde_json::json!({
                            "captured_at": t.to_iso(),
                            "window_start": earliest.to_string(),
                            "window_end": r.filed_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        }),
                        format!(
                            "{}: taken {}, outside the visit (from {} to the filing at {}).",
                            p.label,
                            t.to_iso(),
                            earliest,
                            r.filed_at.format("%Y-%m-%d %H:%M UTC")
                        ),
                    );
                }
            }
        }
        let mut exact_seen = std::collections::HashSet::new();
        for e in r.same_bytes.iter().filter(|e| e.sha256 == p.sha256) {
            exact_seen.insert(e.photo_id);
            push(
                Kind::ExactReuse,
                Other::Earlier { submission_id: e.submission_id, photo_id: e.photo_id },
                serde_json::json!({ "sha256": e.sha256 }),
                format!("{}: the identical file is a photo of report #{}.", p.label, e.submission_id),
            );
        }
        if let Some(h) = p.facts.phash {
            let mut near: Vec<(u32, &Earlier)> = r
                .nearby
                .iter()
                .filter(|e| !exact_seen.contains(&e.photo_id) && e.sha256 != p.sha256)
                .filter_map(|e| Some((distance(h, e.phash?), e)))
                .filter(|(d, _)| *d <= rules.near_distance)
                .collect();
            near.sort_by_key(|(d, e)| (*d, std::cmp::Reverse(e.submission_id)));
            // The closest few: a photo reused every month need not list every month.
            for (d, e) in near.into_iter().take(3) {
                push(
                    Kind::NearDuplicate,
                    Other::Earlier { submission_id: e.submission_id, photo_id: e.photo_id },
                    serde_json::json!({ "distance": d, "threshold": rules.near_distance }),
                    format!(
                        "{}: the same picture as a photo of report #{} ({d} of 64 bits differ).",
                        p.label, e.submission_id
                    ),
                );
            }
        }
        for (j, q) in r.photos.iter().enumerate().filter(|(j, _)| *j != i) {
            let d = if q.sha256 == p.sha256 {
                Some(0)
            } else {
                match (p.facts.phash, q.facts.phash) {
                    (Some(a), Some(b)) => Some(distance(a, b)).filter(|d| *d <= rules.near_distance),
                    _ => None,
                }
            };
            if let Some(d) = d {
                push(
                    Kind::SameInReport,
                    Other::InReport(j),
                    serde_json::json!({ "distance": d, "other_slot": q.label }),
                    format!("{}: the same picture as \"{}\" in this report.", p.label, q.label),
                );
            }
        }
    }
    let positions: Vec<Position> = r.photos.iter().filter_map(Subject::position).collect();
    let centre = if positions.len() >= 2 { Position::median(&positions) } else { None };
    for (i, p) in r.photos.iter().enumerate() {
        let Some(at) = p.position() else { continue };
        if let Some(c) = centre {
            let m = at.distance_m(&c);
            if m > rules.report_spread_m {
                out.push(Finding {
                    photo: i,
                    kind: Kind::FarFromReport,
                    other: Other::None,
                    detail: serde_json::json!({ "distance_m": m.round(), "limit_m": rules.report_spread_m }),
                    message: format!(
                        "{}: taken {} from where the report's other photos were taken.",
                        p.label,
                        metres(m)
                    ),
                });
            }
        }
        if let Some(d) = r.device_position {
            let m = at.distance_m(&d);
            if m > rules.device_distance_m {
                out.push(Finding {
                    photo: i,
                    kind: Kind::FarFromDevice,
                    other: Other::None,
                    detail: serde_json::json!({ "distance_m": m.round(), "limit_m": rules.device_distance_m }),
                    message: format!("{}: taken {} from the device's known position.", p.label, metres(m)),
                });
            }
        }
    }
    out
}

fn metres(m: f64) -> String {
    if m >= 1000.0 { format!("{:.1} km", m / 1000.0) } else { format!("{} m", m.round()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> PhotoFacts {
        PhotoFacts {
            captured_at: Some(CaptureTime {
                local: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap().and_hms_opt(10, 0, 0).unwrap(),
                offset: FixedOffset::east_opt(3600),
            }),
            exif_position: Position::new(lat, lon),
            phash: Some(0),
            ..PhotoFacts::default()
        }
    }

    fn report<'a>(photos: &'a [Subject<'a>]) -> Report<'a> {
        Report {
            visit_date: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
            filed_at: DateTime::parse_from_rfc3339("2026-11-10T18:00:00Z").unwrap().to_utc(),
            photos,
            same_bytes: &[],
            nearby: &[],
            device_position: None,
        }
    }

    #[test]
    fn distances_are_metres_on_the_globe() {
        let a = Position::new(52.5200, 13.4050).unwrap();
        let b = Position::new(52.5200, 13.4197).unwrap();
        assert!((a.distance_m(&b) - 1000.0).abs() < 15.0, "{}", a.distance_m(&b));
        assert!(Position::new(0.0, 0.0).is_none());
        assert!(Position::new(91.0, 0.0).is_none());
        assert!(Position::new(f64::NAN, 1.0).is_none());
    }

    #[test]
    fn reported_positions_are_parsed_or_refused_with_a_reason() {
        let p = Position::parse_reported("52.52, 13.405, 12.5").unwrap();
        assert_eq!((p.latitude, p.longitude, p.accuracy_m), (52.52, 13.405, Some(12.5)));
        assert_eq!(Position::parse_reported("-33.9,18.4").unwrap().accuracy_m, None);
        for bad in ["", "1", "91,0", "1,2,3,4", "a,b", "1,2,-5", "NaN,1", "0,0", "1,inf"] {
            let e = Position::parse_reported(bad).unwrap_err();
            assert!(e.contains("latitude,longitude"), "{bad}: {e}");
        }
    }

    #[test]
    fn capture_times_round_trip_with_and_without_offset() {
        for s in ["2026-11-30T14:03:12+01:00", "2026-11-30T14:03:12", "2026-11-30T14:03:12-05:30"] {
            assert_eq!(CaptureTime::parse_iso(s).unwrap().to_iso(), s);
        }
        assert_eq!(parse_offset("+14:00"), FixedOffset::east_opt(14 * 3600));
        assert_eq!(parse_offset("+15:00"), None);
        assert_eq!(parse_offset("01:00"), None);
    }

    #[test]
    fn a_clean_report_has_no_findings_and_each_rule_fires_alone() {
        let (f1, f2) = (at(52.52, 13.405), at(52.5201, 13.4051));
        let mut f3 = at(52.52, 13.405);
        f3.phash = Some(u64::MAX);
        let photos = [
            Subject { label: "a", sha256: "1", facts: &f1, browser_position: None },
            Subject { label: "b", sha256: "2", facts: &f2, browser_position: None },
            Subject { label: "c", sha256: "3", facts: &f3, browser_position: None },
        ];
        // a and b share a hash: same_in_report both ways, nothing else.
        let found = assess(&Rules::default(), &report(&photos));
        let kinds: Vec<(usize, Kind)> = found.iter().map(|f| (f.photo, f.kind)).collect();
        assert_eq!(kinds, vec![(0, Kind::SameInReport), (1, Kind::SameInReport)]);
        assert_eq!(found[0].other, Other::InReport(1));

        let mut late = at(52.52, 13.405);
        late.captured_at = CaptureTime::parse_iso("2026-11-10T20:00:00+01:00");
        let mut early = at(52.52, 13.405);
        early.captured_at = CaptureTime::parse_iso("2026-11-08T23:59:00");
        let mut far = at(52.60, 13.405);
        far.phash = Some(0x00FF_00FF_00FF_00FF);
        let missing = PhotoFacts { phash: Some(0x0F0F_0F0F_0F0F_0F0F), ..at(52.52, 13.405) };
        let missing = PhotoFacts { captured_at: None, ..missing };
        late.phash = Some(0x3333_3333_3333_3333);
        early.phash = Some(0x5555_5555_5555_5555);
        let photos = [
            Subject { label: "late", sha256: "1", facts: &late, browser_position: None },
            Subject { label: "early", sha256: "2", facts: &early, browser_position: None },
            Subject { label: "far", sha256: "3", facts: &far, browser_position: None },
            Subject { label: "missing", sha256: "4", facts: &missing, browser_position: None },
        ];
        let mut r = report(&photos);
        r.device_position = Position::new(52.52, 13.405);
        let earlier = [Earlier {
            submission_id: 7,
            photo_id: 70,
            sha256: "x".into(),
            phash: Some(0x5555_5555_5555_5554),
        }];
        r.nearby = &earlier;
        let same = [Earlier { submission_id: 8, photo_id: 80, sha256: "4".into(), phash: None }];
        r.same_bytes = &same;
        let found = assess(&Rules::default(), &r);
        let kinds: Vec<(usize, Kind)> = found.iter().map(|f| (f.photo, f.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (0, Kind::CaptureTimeOutsideVisit),
                (1, Kind::CaptureTimeOutsideVisit),
                (1, Kind::NearDuplicate),
                (3, Kind::CaptureTimeMissing),
                (3, Kind::ExactReuse),
                (2, Kind::FarFromReport),
                (2, Kind::FarFromDevice),
            ]
        );
        assert_eq!(found[2].other, Other::Earlier { submission_id: 7, photo_id: 70 });
        assert_eq!(found[4].other, Other::Earlier { submission_id: 8, photo_id: 80 });
        // The day before the visit is inside the default one-day margin.
        early.captured_at = CaptureTime::parse_iso("2026-11-09T00:01:00");
        let photos = [Subject { label: "early", sha256: "2", facts: &early, browser_position: None }];
        assert!(assess(&Rules::default(), &report(&photos)).is_empty());
    }

    #[test]
    fn the_browser_position_stands_in_for_a_missing_exif_one() {
        let mut f = at(52.52, 13.405);
        f.exif_position = None;
        let s = Subject { label: "a", sha256: "1", facts: &f, browser_position: Position::new(1.0, 2.0) };
        assert_eq!(s.position(), Position::new(1.0, 2.0));
    }
}
