"""A local Bot API server and browser chat, for development, tests and the offline first run."""
