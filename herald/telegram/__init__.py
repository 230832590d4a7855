"""The Telegram gateway: the only code that talks to the Bot API.

Other apps use this public surface:

- ``services.outbox_enqueue(token=, chat_id=, method=, params=, dedupe_key=, reference=)``: send a message
  (paced, in order per chat, once, retried); ``services.outbox_retry``; signals ``outbox_message_sent``,
  ``outbox_message_failed`` (``permanent``), ``outbox_chat_migrated`` in ``signals``;
- ``client.call(token, method, **params)`` for calls that need the answer now (getMe, setWebhook,
  answerCallbackQuery...), ``pacing.send_now`` for a paced send outside the outbox; failures are the typed
  errors of ``errors``;
- ``formatting`` (HTML escaping, splitting, captions) and ``keyboards`` (buttons, calendar, time picker).
"""
