"""Users, roles, JWT for API clients, API keys for partners and internal services."""
