-- The dashboard counts a half-month's reports by status without reading every row.
CREATE INDEX submissions_period_idx ON submissions (period_year, period_month, half_month, status);
