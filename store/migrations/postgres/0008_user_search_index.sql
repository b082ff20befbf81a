-- The admin panel's user search matches a substring of the username, the
-- display name or the email, case ignored (ILIKE '%…%'), which no B-tree
-- index serves: over 100,000 users each search scanned the table (about
-- 130 ms a page). A trigram index serves all three columns.
--
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the
-- owner of the database may create it. Where it is missing or the role may
-- not create it, the search still works, scanning the table as before, and
-- the migration says so instead of keeping sspr from starting; an
-- administrator can run CREATE EXTENSION pg_trgm and this index later.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX IF NOT EXISTS users_search ON users
        USING gin (username gin_trgm_ops, display_name gin_trgm_ops, email gin_trgm_ops);
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'sspr: no trigram index for the user search (%): searches scan the users table', SQLERRM;
END
$$;
