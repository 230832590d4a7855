"""Reading a JSON request body that must be an object, with a message that says what is wrong."""

from __future__ import annotations

import json
from typing import Any


def json_object(body: bytes) -> dict[str, Any]:
    """The body parsed as a JSON object (an empty body is ``{}``); ``ValueError`` names the problem."""
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise ValueError("The body must be JSON.") from None
    if not isinstance(value, dict):
        raise ValueError("The body must be a JSON object.")
    return value
