"""The external activation system: an HTTP client (``client``) and its sandbox twin (``sandbox``)."""
