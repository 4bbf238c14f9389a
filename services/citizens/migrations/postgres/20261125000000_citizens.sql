-- The citizens-DB (ЖТ МДБ / ГБД ФЛ, ЗТ МДБ / ГБД ЮЛ) on PostgreSQL: the twin of
-- ../sqlite/20261125000000_citizens.sql, same tables, columns, names and meaning.
--
-- IINs and BINs are BIGINTs (12 digits do not fit PostgreSQL's 4-byte INTEGER), dates
-- INTEGERs YYYYMMDD, flags 0 / 1 INTEGERs as on SQLite. The secondary indexes are dropped
-- before a bulk load and re-created from their definitions after it (src/load.rs).

-- One row per person (generated population and fixtures alike).
CREATE TABLE persons (
    iin BIGINT PRIMARY KEY,
    surname TEXT NOT NULL,
    name TEXT NOT NULL,
    patronymic TEXT NOT NULL,
    -- egov.v1.Gender: 1 male, 2 female.
    gender INTEGER NOT NULL,
    birth_date INTEGER NOT NULL,
    -- Only for the deceased.
    death_date INTEGER,
    -- egov.v1.LifeStatus: 1 alive, 2 deceased, 3 missing.
    life_status INTEGER NOT NULL,
    nationality TEXT NOT NULL,
    citizenship TEXT NOT NULL,
    birth_country TEXT NOT NULL,
    birth_region TEXT NOT NULL,
    birth_district TEXT NOT NULL,
    birth_locality TEXT NOT NULL,
    region TEXT NOT NULL,
    district TEXT NOT NULL,
    locality TEXT NOT NULL,
    street TEXT NOT NULL,
    building TEXT NOT NULL,
    flat TEXT NOT NULL,
    birth_certificate TEXT NOT NULL,
    birth_certificate_date INTEGER NOT NULL,
    disabled INTEGER NOT NULL,
    without_parental_care INTEGER NOT NULL
);

-- Identity documents: ID cards, passports, residence permits.
CREATE TABLE documents (
    iin BIGINT NOT NULL,
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    issue_date INTEGER NOT NULL,
    expiry_date INTEGER NOT NULL,
    issuer TEXT NOT NULL
);

CREATE INDEX documents_by_iin ON documents (iin);

-- Family links, stored in both directions so one index answers "who is related
-- to this IIN": kinship is what relative_iin is to iin (egov.v1.Kinship:
-- 1 parent, 2 child, 3 guardian, 4 ward, 5 spouse).
CREATE TABLE family_links (
    iin BIGINT NOT NULL,
    relative_iin BIGINT NOT NULL,
    kinship INTEGER NOT NULL
);

CREATE INDEX family_links_by_iin ON family_links (iin, kinship, relative_iin);

-- Legal entities: providers (employment centres, social-protection and
-- education departments, kindergartens) and State Corporation branches.
CREATE TABLE legal_entities (
    bin BIGINT PRIMARY KEY,
    name_kk TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    district TEXT NOT NULL,
    locality TEXT NOT NULL,
    street TEXT NOT NULL,
    building TEXT NOT NULL,
    head_iin BIGINT NOT NULL,
    registration_date INTEGER NOT NULL
);

-- One row once a population has been generated: what it was generated from.
-- Its absence on start means "generate" (a load that died half-way leaves none).
CREATE TABLE population (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seed TEXT NOT NULL,
    size BIGINT NOT NULL,
    census_date INTEGER NOT NULL,
    elapsed_ms BIGINT NOT NULL
);
