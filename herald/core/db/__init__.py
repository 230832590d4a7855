"""Database backends Herald adds to Django's."""
