-- A provider's result finds its filing by the number the provider registered it under.
CREATE INDEX IF NOT EXISTS filings_by_registration_number
    ON filings (target_system, registration_number);
