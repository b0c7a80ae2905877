DELETE FROM derived.page_views;
DELETE FROM derived.sessions;
DELETE FROM derived.users;
