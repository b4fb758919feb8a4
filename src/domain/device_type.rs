//! The five device types, spelled exactly as the original (spec §4.1).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum DeviceType {
    #[serde(rename = "Cleaning1")]
    Cleaning1,
    #[serde(rename = "Cleaning2")]
    Cleaning2,
    #[serde(rename = "Electrical")]
    Electrical,
    #[serde(rename = "Security")]
    Security,
    #[serde(rename = "Stand Alone")]
    StandAlone,
}

impl DeviceType {
    pub const ALL: [DeviceType; 5] = [
        DeviceType::Cleaning1,
        DeviceType::Cleaning2,
        DeviceType::Electrical,
        DeviceType::Security,
        DeviceType::StandAlone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Cleaning1 => "Cleaning1",
            DeviceType::Cleaning2 => "Cleaning2",
            DeviceType::Electrical => "Electrical",
            DeviceType::Security => "Security",
            DeviceType::StandAlone => "Stand Alone",
        }
    }

    pub fn parse(s: &str) -> Option<DeviceType> {
        DeviceType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Cleaning is due twice a month; every other type once a month.
    pub fn is_half_monthly(self) -> bool {
        matches!(self, DeviceType::Cleaning1 | DeviceType::Cleaning2)
    }
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_and_others_are_refused() {
        for t in DeviceType::ALL {
            assert_eq!(DeviceType::parse(t.as_str()), Some(t));
        }
        assert_eq!(DeviceType::parse("Cleaning"), None);
        assert_eq!(DeviceType::parse("stand alone"), None);
    }
}
