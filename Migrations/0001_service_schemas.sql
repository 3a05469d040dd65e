-- Each service owns one schema; the gateway keeps accounts, booking its catalog and bookings,
-- payments its intents. Later migrations fill them.
CREATE SCHEMA IF NOT EXISTS gateway;
CREATE SCHEMA IF NOT EXISTS booking;
CREATE SCHEMA IF NOT EXISTS payments;
