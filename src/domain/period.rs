//! Half-month periods (spec §4.5): half 1 is days 1–15, half 2 is day 16 to the month's end.
//! A period carries its year and month, so "half 2" of November never collides with December's.

use chrono::{Datelike, NaiveDate};

use super::SubmissionStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    pub month: u32,
    pub half: u8,
}

impl Period {
    pub fn of(date: NaiveDate) -> Period {
        Period { year: date.year(), month: date.month(), half: if date.day() <= 15 { 1 } else { 2 } }
    }

    /// "November 2026", as in the original's duplicate message.
    pub fn month_label(&self) -> String {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .map(|d| d.format("%B %Y").to_string())
            .unwrap_or_default()
    }

    pub fn first_day(&self) -> NaiveDate {
        let day = if self.half == 1 { 1 } else { 16 };
        NaiveDate::from_ymd_opt(self.year, self.month, day).expect("valid period")
    }

    pub fn next(&self) -> Period {
        if self.half == 1 {
            Period { half: 2, ..*self }
        } else if self.month == 12 {
            Period { year: self.year + 1, month: 1, half: 1 }
        } else {
            Period { month: self.month + 1, half: 1, ..*self }
        }
    }

    pub fn previous(&self) -> Period {
        if self.half == 2 {
            Period { half: 1, ..*self }
        } else if self.month == 1 {
            Period { year: self.year - 1, month: 12, half: 2 }
        } else {
            Period { month: self.month - 1, half: 2, ..*self }
        }
    }

    /// The period's last day: the 15th, or the month's last.
    pub fn last_day(&self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("a day before any period's start")
    }

    /// `2026-12-1`: year, month and half, as the dashboard's `period` parameter spells it.
    pub fn parse(s: &str) -> Option<Period> {
        let mut parts = s.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u32 = parts.next()?.parse().ok()?;
        let half: u8 = parts.next()?.parse().ok()?;
        ((2000..=2200).contains(&year) && (1..=12).contains(&month) && (1..=2).contains(&half))
            .then_some(Period { year, month, half })
    }

    /// `2026-12-1`, what [`Period::parse`] reads.
    pub fn key(&self) -> String {
        format!("{}-{:02}-{}", self.year, self.month, self.half)
    }

    /// "December 2026, first half".
    pub fn label(&self) -> String {
        format!("{}, {} half", self.month_label(), if self.half == 1 { "first" } else { "second" })
    }

    /// Same calendar month (the period of monthly devices).
    pub fn same_month(&self, other: &Period) -> bool {
        self.year == other.year && self.month == other.month
    }
}

/// Parses `YYYY-MM-DD` strictly.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_step_back_and_forth_across_years_and_parse_their_keys() {
        let p = Period { year: 2026, month: 1, half: 1 };
        assert_eq!(p.previous(), Period { year: 2025, month: 12, half: 2 });
        assert_eq!(p.previous().next(), p);
        assert_eq!(
            Period { year: 2026, month: 2, half: 2 }.last_day(),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert_eq!(
            Period { year: 2026, month: 12, half: 1 }.last_day(),
            NaiveDate::from_ymd_opt(2026, 12, 15).unwrap()
        );
        assert_eq!(Period::parse("2026-12-1"), Some(Period { year: 2026, month: 12, half: 1 }));
        assert_eq!(Period::parse(&p.key()), Some(p));
        for bad in ["2026-13-1", "2026-12-3", "26-1-1", "2026-12", "x", "2026-12-1-1"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        assert_eq!(Period { year: 2026, month: 12, half: 1 }.label(), "December 2026, first half");
    }

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn day_fifteen_is_the_first_half_and_sixteen_the_second() {
        assert_eq!(Period::of(d("2026-11-15")).half, 1);
        assert_eq!(Period::of(d("2026-11-16")).half, 2);
        assert_eq!(Period::of(d("2026-02-28")).half, 2);
    }

    #[test]
    fn the_same_half_of_another_month_is_another_period() {
        assert_ne!(Period::of(d("2026-11-20")), Period::of(d("2026-12-20")));
        assert_ne!(Period::of(d("2026-11-20")), Period::of(d("2027-11-20")));
    }

    #[test]
    fn next_period_rolls_over_the_year() {
        assert_eq!(Period::of(d("2026-12-31")).next(), Period { year: 2027, month: 1, half: 1 });
        assert_eq!(Period::of(d("2026-12-01")).next().first_day(), d("2026-12-16"));
        assert_eq!(Period::of(d("2026-11-02")).month_label(), "November 2026");
    }

    #[test]
    fn malformed_dates_are_refused() {
        for bad in ["2026-13-01", "2026-02-30", "28/11/2026", "", "2026-11-28T00:00:00"] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }
}

/// The status a technician sees for a device: a pending report stays pending; an approved or
/// rejected one counts only within its own period (the half-month for cleaning, the month for
/// the rest), after which the device is due again ("Active") instead of locked forever.
pub fn current_status(
    latest: Option<(SubmissionStatus, Period)>,
    today: NaiveDate,
    half_monthly: bool,
) -> &'static str {
    let now = Period::of(today);
    match latest {
        None => "Active",
        Some((SubmissionStatus::Pending, _)) => SubmissionStatus::Pending.as_str(),
        Some((status, p)) => {
            let current = if half_monthly { p == now } else { p.same_month(&now) };
            if current { status.as_str() } else { "Active" }
        }
    }
}

#[cfg(test)]
mod status_tests {
    use super::*;
    use crate::domain::SubmissionStatus::{Approved, Pending};

    #[test]
    fn an_approved_device_is_due_again_in_its_next_period() {
        let p = Period::of(parse_date("2026-11-03").unwrap());
        let same_half = parse_date("2026-11-10").unwrap();
        let next_half = parse_date("2026-11-20").unwrap();
        assert_eq!(current_status(Some((Approved, p)), same_half, true), "Approved");
        assert_eq!(current_status(Some((Approved, p)), next_half, true), "Active");
        assert_eq!(
            current_status(Some((Approved, p)), next_half, false),
            "Approved",
            "monthly devices wait a month"
        );
        assert_eq!(current_status(Some((Pending, p)), parse_date("2027-01-01").unwrap(), true), "Pending");
        assert_eq!(current_status(None, next_half, true), "Active");
    }
}
