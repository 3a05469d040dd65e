-- Payments: one intent per booking, and its webhook deliveries, written in the same transaction
-- as each status change (the payments service's outbox).
CREATE TABLE payments.intents (
    id text PRIMARY KEY,
    booking_id text NOT NULL UNIQUE,
    event_id text NOT NULL,
    user_id text NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text NOT NULL CHECK (status IN ('requires_confirmation', 'processing', 'succeeded', 'failed', 'refunded')),
    client_secret text NOT NULL,
    payment_method text,
    failure text,
    settles_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'processing' OR settles_at IS NOT NULL)
);
CREATE INDEX intents_settling ON payments.intents (settles_at) WHERE status = 'processing';

CREATE TABLE payments.webhook_deliveries (
    event_id text PRIMARY KEY,
    payment_id text NOT NULL REFERENCES payments.intents (id),
    type text NOT NULL,
    payload text NOT NULL,
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON payments.webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL;

-- The booking saga: one row per booking that reached payment, moved only forward.
CREATE TABLE booking.sagas (
    booking_id text PRIMARY KEY,
    event_id text NOT NULL,
    user_id text NOT NULL,
    payment_id text NOT NULL,
    state text NOT NULL CHECK (state IN ('payment_pending', 'confirmed', 'cancelled', 'refund_pending', 'refunded')),
    confirmation_code text UNIQUE,
    refund_attempts integer NOT NULL DEFAULT 0,
    next_refund_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (state <> 'confirmed' OR confirmation_code IS NOT NULL)
);
CREATE INDEX sagas_refunds_due ON booking.sagas (next_refund_at) WHERE state = 'refund_pending';

-- Webhook events already applied: a replayed or duplicated delivery changes nothing.
CREATE TABLE booking.processed_webhooks (
    event_id text PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- The booking service's transactional outbox, relayed to a Redis Stream.
CREATE TABLE booking.outbox (
    id bigserial PRIMARY KEY,
    booking_id text NOT NULL,
    type text NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    relayed_at timestamptz
);
CREATE INDEX outbox_unrelayed ON booking.outbox (id) WHERE relayed_at IS NULL;
