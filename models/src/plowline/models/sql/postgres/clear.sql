TRUNCATE derived.page_views, derived.sessions, derived.users;
