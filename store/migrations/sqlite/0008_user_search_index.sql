-- PostgreSQL's 0008 adds a trigram index for the admin panel's user search.
-- SQLite has none to add: its LIKE '%…%' scans the users table, which over
-- 100,000 users stays within a page's time. The number is kept in step.
SELECT 1;
