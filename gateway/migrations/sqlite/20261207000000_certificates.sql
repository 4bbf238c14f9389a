-- Certificates the logged signatures carried, each stored once by the SHA-256
-- of its DER: a row's `signatures` column keeps only the digests of each
-- chain (see src/message_log/certificates.rs). Rows written before this
-- migration keep their chains inside `signatures` and read as they were.
-- Kept in step with ../postgres.
CREATE TABLE certificate (
    sha256 BLOB PRIMARY KEY,
    der BLOB NOT NULL
);
