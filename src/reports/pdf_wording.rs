//! The fixed wording of the approval report (spec §6): each photo section's sidebar texts and
//! the checklist items, for cleaning and for electro-mechanical visits.

/// (title, instructions, note) per section.
pub(super) const CLEANING_SIDEBARS: [(&str, &str, &str); 3] = [
    (
        "Cleaning. Site Machine",
        "Photos must be clear, also showing machine and pylon from four sides from 3 to 5 meters away.",
        "Site machine: not less than 3 photos",
    ),
    (
        "Cleaning. Site Machine",
        "Zoom in and out for front and back from 3 to 5 meters away.",
        "Site machine: not less than 3 photos",
    ),
    (
        "Cleaning. Civil and Site",
        "Photos of asphalt and pavement from more than one side, with the security column.",
        "Photos must not show the maintenance team",
    ),
];
pub(super) const ELECTRICAL_SIDEBARS: [(&str, &str, &str); 5] = [
    (
        "Electro. Site Machine",
        "Photos must be nightly and clear, also showing machine and pylon from four sides from 3 to 5 meters away.",
        "Site machine: not less than 4 photos",
    ),
    (
        "Electro. Site Machine",
        "Photos must be nightly and clear. Zoom in and out for front and back from 3 to 5 meters away.",
        "Site machine: not less than 4 photos",
    ),
    (
        "Electro. Equipment",
        "Photos must be clear, also showing HVAC temperature, power voltmeter, internal and external lights.",
        "Equipment photos required",
    ),
    (
        "Electro. Components",
        "Photos of the machine screen, keyboard, ATM code, kiosk and pylon.",
        "Component photos required",
    ),
    (
        "Electro. Final Check",
        "Photos of the machine screen, keyboard, ATM code, kiosk and pylon.",
        "Final check photos required",
    ),
];
pub(super) const CLEANING_ITEMS: &[(&str, bool)] = &[
    ("Cleaning", true),
    ("Inside Room & Glass", false),
    ("Polishing Of Ground Tiles/Marble", false),
    ("Inside Kiosk/Top of Kiosk", false),
    ("A/C And Lighting Grills", false),
    ("Totem", false),
    ("Rust", false),
    ("Drain Pipe", false),
    ("Clean Ground Light", false),
    ("Clean Pavement", false),
    ("Branding", true),
    ("Drive Thru", true),
    ("Pylon (Logo, Letters, Sticker, Light, Acrylic and Posters)", false),
    ("Kiosk (Logo, Letters, Sticker, Light, Acrylic and Posters)", false),
    ("Unipolar & Canopy Sticker", false),
    ("TID Plate", false),
    ("QR Plate", false),
    ("Lobby / Window", true),
    ("Signage (Logo - Letters)", false),
    ("Bank Sticker", false),
    ("Poster On Glass", false),
    ("Trash Bin Fire Resister", false),
    ("Kiosk (Logo - Letters - Posters - Acrylic)", false),
    ("QR Plate", false),
];
pub(super) const ELECTRICAL_ITEMS: &[(&str, bool)] = &[
    ("Air Conditioner (A/C)", true),
    ("Clean A/C Filter", false),
    ("Check A/C Drainage", false),
    ("Check For A/C Sound Vibration, Bearing", false),
    ("Check A/C Temperature - With Picture", false),
    ("Electrical", true),
    ("Check And Clean Lamps / Switches", false),
    ("Check And Clean Convenience Outlets", false),
    ("Check And Clean Stabilizer / UPS", false),
    ("Check And Clean Inside", false),
    ("Check Timer and Reset Time", false),
    ("Change Busted Light", false),
    ("Arrange Cable and Covered", false),
    ("Panel Boards", true),
    ("Check And Clean Panel Boards", false),
    ("Retightening Of Wires and Cable Arrangements", false),
    ("Neutral To Ground (Less Than 2V)", false),
    ("Carpentry / Civil Works", true),
    ("Check Door Hinges, Locks, Door Closer and Apply Grease", false),
    ("Check For Holes and Cracks in The Cabinet", false),
    ("Check Floor Tiles, Stairs, Paintings, Ceiling, And Glass", false),
    ("Pavement Painting", false),
    ("Check Asphalt, Boundary, Curb Stone, Security Poles", false),
];
