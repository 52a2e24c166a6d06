"""The database floor: engine settings (SQLite's locking) and statements for thousands of rows."""
