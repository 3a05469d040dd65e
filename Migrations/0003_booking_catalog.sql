-- The booking service's system of record: catalog, zone inventory and bookings. Redis serves the
-- hot path; the persister writes what happened there into these tables.
CREATE TABLE booking.events (
    id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    venue text NOT NULL CHECK (length(venue) BETWEEN 1 AND 200),
    starts_at timestamptz NOT NULL,
    sale_starts_at timestamptz,
    sale_ends_at timestamptz,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
    max_per_user integer NOT NULL DEFAULT 10 CHECK (max_per_user BETWEEN 1 AND 100),
    organizer_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (sale_starts_at IS NULL OR sale_ends_at IS NULL OR sale_ends_at > sale_starts_at)
);

CREATE TABLE booking.zones (
    event_id text NOT NULL REFERENCES booking.events (id) ON DELETE CASCADE,
    id text NOT NULL CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
    name text NOT NULL,
    price_minor bigint NOT NULL CHECK (price_minor >= 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    capacity integer NOT NULL CHECK (capacity >= 0),
    held integer NOT NULL DEFAULT 0 CHECK (held >= 0),
    sold integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
    PRIMARY KEY (event_id, id),
    CONSTRAINT zones_not_oversold CHECK (held + sold <= capacity)
);

CREATE TABLE booking.bookings (
    id text PRIMARY KEY,
    event_id text NOT NULL,
    zone_id text NOT NULL,
    user_id text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    status text NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired')),
    total_minor bigint NOT NULL CHECK (total_minor >= 0),
    currency text NOT NULL,
    expires_at timestamptz NOT NULL,
    payment_ref text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (event_id, zone_id) REFERENCES booking.zones (event_id, id)
);
CREATE INDEX bookings_by_user ON booking.bookings (user_id, created_at DESC);
CREATE INDEX bookings_by_event ON booking.bookings (event_id, status);
