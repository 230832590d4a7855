"""The flow engine: JSON flow definitions and the conversation logic that runs them.

Pure Python with no Django or Telegram imports, so it can be tested and reasoned about on its own:
the bots app feeds it incoming events and turns the actions it returns into Telegram calls and rows.
"""

from herald.bots.flows.engine import (
    AnswerCallback,
    Button,
    Conversation,
    FlowFinished,
    HttpPort,
    Incoming,
    RelayToOperator,
    SaveAnswer,
    SendText,
    StartHandoff,
    Turn,
    handle,
    match_command,
    start,
)
from herald.bots.flows.schema import Flow, FlowValidationError, parse_flow

__all__ = [
    "AnswerCallback",
    "Button",
    "Conversation",
    "Flow",
    "FlowFinished",
    "FlowValidationError",
    "HttpPort",
    "Incoming",
    "RelayToOperator",
    "SaveAnswer",
    "SendText",
    "StartHandoff",
    "Turn",
    "handle",
    "match_command",
    "parse_flow",
    "start",
]
