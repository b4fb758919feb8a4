//! Which photos a visit report needs (spec §4.3): 8 for cleaning (3+3+2), 19 for electrical
//! (4+4+4+4+3), each slot named `section{S}_{O}` with the texts shown to people and in the PDF.

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanKind {
    Cleaning,
    Electrical,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Slot {
    pub section: u8,
    pub order: u8,
    pub field: String,
    pub label: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Section {
    pub section: u8,
    pub title: &'static str,
    pub slots: Vec<Slot>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PhotoPlan {
    pub kind: PlanKind,
    pub sections: Vec<Section>,
}

const CLEANING: [(&str, &[&str]); 3] = [
    (
        "Machine & Pylon (3-5m away)",
        &["Side view of the device", "Front view of the device", "Back view of the device"],
    ),
    (
        "Zoomed Front & Back (3-5m)",
        &["Device pole photo", "Device with cleaning worker", "Device serial/number photo"],
    ),
    ("Asphalt & Pavement", &["Pavement photo", "Close-up of the device"]),
];

const ELECTRICAL: [(&str, u8); 5] = [
    (
        "Photos must be Nightly and clear, also showing machine and pylon from four sides from 3 to 5 meters away.",
        4,
    ),
    ("Photos must be Nightly and clear. Zoom in and out for front and back from 3 to 5 meters away.", 4),
    (
        "Photos must be clear, also showing HVAC Temperature, Power voltmeter, Internally Light & Externally Light.",
        4,
    ),
    ("Photos for machine Screen, Keyboard, ATM Code, Kiosk and Pylon.", 4),
    ("Photos for machine Screen, Keyboard, ATM Code, Kiosk and Pylon.", 3),
];

/// The electrical test: type `Electrical`, or a problem type naming "electrical", or both
/// "electro" and "mechanical" (case-insensitive, punctuation ignored).
pub fn is_electrical(device_type: &str, problem_type: &str) -> bool {
    let p: String =
        problem_type.to_lowercase().chars().map(|c| if c.is_alphabetic() { c } else { ' ' }).collect();
    device_type == "Electrical"
        || p.contains("electrical")
        || (p.contains("electro") && p.contains("mechanical"))
}

impl PhotoPlan {
    pub fn for_device(device_type: &str, problem_type: &str) -> PhotoPlan {
        if is_electrical(device_type, problem_type) { PhotoPlan::electrical() } else { PhotoPlan::cleaning() }
    }

    pub fn cleaning() -> PhotoPlan {
        let sections = CLEANING
            .iter()
            .enumerate()
            .map(|(i, (title, labels))| {
                let s = i as u8 + 1;
                Section {
                    section: s,
                    title,
                    slots: labels.iter().enumerate().map(|(j, l)| slot(s, j as u8 + 1, l)).collect(),
                }
            })
            .collect();
        PhotoPlan { kind: PlanKind::Cleaning, sections }
    }

    pub fn electrical() -> PhotoPlan {
        let sections = ELECTRICAL
            .iter()
            .enumerate()
            .map(|(i, (title, n))| {
                let s = i as u8 + 1;
                Section {
                    section: s,
                    title,
                    slots: (1..=*n).map(|o| slot(s, o, &format!("Slot {o}"))).collect(),
                }
            })
            .collect();
        PhotoPlan { kind: PlanKind::Electrical, sections }
    }

    pub fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.sections.iter().flat_map(|s| s.slots.iter())
    }

    pub fn len(&self) -> usize {
        self.slots().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn slot(&self, field: &str) -> Option<&Slot> {
        self.slots().find(|s| s.field == field)
    }
}

fn slot(section: u8, order: u8, label: &str) -> Slot {
    Slot { section, order, field: format!("section{section}_{order}"), label: label.to_string() }
}

/// Parses a part name `section{S}_{O}` into its numbers, whatever the plan.
pub fn parse_field(name: &str) -> Option<(u8, u8)> {
    let rest = name.strip_prefix("section")?;
    let (s, o) = rest.split_once('_')?;
    let ok = |x: &str| !x.is_empty() && x.len() <= 2 && x.chars().all(|c| c.is_ascii_digit());
    if !ok(s) || !ok(o) {
        return None;
    }
    Some((s.parse().ok()?, o.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_needs_eight_photos_and_electrical_nineteen() {
        let c = PhotoPlan::cleaning();
        assert_eq!(c.len(), 8);
        assert_eq!(c.sections.iter().map(|s| s.slots.len()).collect::<Vec<_>>(), [3, 3, 2]);
        let e = PhotoPlan::electrical();
        assert_eq!(e.len(), 19);
        assert_eq!(e.sections.iter().map(|s| s.slots.len()).collect::<Vec<_>>(), [4, 4, 4, 4, 3]);
        assert!(e.slot("section5_3").is_some() && e.slot("section5_4").is_none());
        assert_eq!(c.slot("section2_2").unwrap().label, "Device with cleaning worker");
    }

    #[test]
    fn electro_mechanical_problem_types_count_as_electrical() {
        assert!(is_electrical("Cleaning1", "Electro Mechanical"));
        assert!(is_electrical("Cleaning1", "electro-mechanical"));
        assert!(is_electrical("Security", "ELECTRICAL fault"));
        assert!(is_electrical("Electrical", ""));
        assert!(!is_electrical("Cleaning1", "Cleaning"));
        assert!(!is_electrical("Stand Alone", "Electro"));
    }

    #[test]
    fn field_names_parse_strictly() {
        assert_eq!(parse_field("section1_3"), Some((1, 3)));
        for bad in ["section1", "section_1", "sectionA_1", "section1_1x", "photo1_1", "section123_1"] {
            assert_eq!(parse_field(bad), None, "{bad}");
        }
    }
}
