//! Rules with no HTTP or SQL in them: roles, device types, periods, photo plans, accounts,
//! Excel sheets, submission statuses. Constructors validate, so a bad value cannot exist.

pub mod accounts;
pub mod audit;
pub mod device_type;
pub mod evidence;
pub mod excel;
pub mod period;
pub mod photo;
pub mod photo_plan;
pub mod png_chunks;
pub mod role;
pub mod status;

pub use device_type::DeviceType;
pub use period::Period;
pub use photo_plan::{PhotoPlan, PlanKind, Slot};
pub use role::Role;
pub use status::SubmissionStatus;
