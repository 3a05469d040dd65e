-- Built-in accounts of the gateway, and their rotating refresh tokens.
CREATE TABLE gateway.accounts (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    password_hash text NOT NULL,
    roles text[] NOT NULL DEFAULT ARRAY['customer']::text[],
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_email_normalised CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
    CONSTRAINT accounts_roles_known CHECK (roles <@ ARRAY['customer', 'organizer', 'admin']::text[] AND cardinality(roles) > 0)
);
CREATE UNIQUE INDEX accounts_email_key ON gateway.accounts (email);

-- One row per refresh token; rotation links tokens of one login into a family, so that the
-- reuse of a spent token can revoke the whole family.
CREATE TABLE gateway.refresh_tokens (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES gateway.accounts (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON gateway.refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family ON gateway.refresh_tokens (family_id);
