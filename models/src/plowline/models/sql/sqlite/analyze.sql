-- SQLite plans with its index heuristics; statistics are not needed for these queries.
SELECT 1;
