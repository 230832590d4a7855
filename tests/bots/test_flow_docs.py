"""Every JSON example in docs/flows.md is a valid flow, so the documentation cannot drift from the format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from herald.bots.flows import parse_flow

DOC = Path(__file__).resolve().parents[2] / "docs" / "flows.md"
EXAMPLES = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_document_has_an_example_per_shape() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("example", EXAMPLES)
def test_documented_example_is_a_valid_flow(example: str) -> None:
    parse_flow(json.loads(example))
