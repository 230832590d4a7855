"""Clients for external vendors (one choke point each), each with a sandbox twin for offline use and tests."""
