"""AI text generation for channel posts, through any OpenAI-compatible API, with an offline template writer.

Public surface (everything else in the package is internal)::

    from herald.ai import GeneratedPost, GenerationFailed, post_generate

    post = post_generate(format="selling", keywords="Nike Air Max, 42", details="", language="hy",
                         media_kind="photo")  # -> GeneratedPost(text, source, attempts, warnings)

- ``format``: ``selling`` | ``collection`` | ``info`` | ``promo`` (🔥 📝 💡 ⚡);
  ``language``: ``hy`` | ``ru`` | ``en``;
  ``media_kind``: ``none`` (a text, 4096) | ``photo`` | ``video`` | ``animation`` (a caption, 1024).
- ``source`` is ``"ai"`` or ``"template"`` (no ``AI_API_KEY``): the review says so, ``warnings`` has it.
- ``InvalidInput`` for bad arguments; ``GenerationFailed`` (``.cause``, ``.attempts``, ``.permanent``)
  when the service keeps failing or keeps writing unusable text: the editor writes the post themselves.
- ``FORMAT_LABELS`` and ``LANGUAGES`` for building menus; ``script_share`` and ``telegram_length`` for
  checking an editor's own text the same way.
"""

from __future__ import annotations

from herald.ai.checks import script_share, telegram_length
from herald.ai.generation import LANGUAGES, MEDIA_KINDS, GeneratedPost, GenerationFailed, post_generate
from herald.ai.prompts import FORMAT_LABELS

__all__ = [
    "FORMAT_LABELS",
    "LANGUAGES",
    "MEDIA_KINDS",
    "GeneratedPost",
    "GenerationFailed",
    "post_generate",
    "script_share",
    "telegram_length",
]
