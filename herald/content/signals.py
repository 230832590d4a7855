"""What becomes of a publication, for the apps that tell people (the studio tells the editor).

``post_published`` sends ``post``; ``post_publish_failed`` sends ``post``, ``error`` (Telegram's own words)
and ``will_retry`` (an automatic retry is booked for ``post.next_retry_at``).
"""

from __future__ import annotations

from django.dispatch import Signal

post_published = Signal()  # post
post_publish_failed = Signal()  # post, error, will_retry
