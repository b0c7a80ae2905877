-- The derived database is attached by the engine; nothing to create here.
SELECT 1;
