-- The scheduler advances deployments.last_scheduled_time of many deployments per pass; room
-- on each page lets those updates be HOT (no index entries written).
ALTER TABLE deployments SET (fillfactor = 70);
