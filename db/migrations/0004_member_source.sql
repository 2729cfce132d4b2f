-- Whether a member's time zone was chosen by the member (/my-timezone) or given by a facilitator's plan:
-- only the member's own choice outranks a later plan.
ALTER TABLE members ADD COLUMN source TEXT NOT NULL DEFAULT 'self';
