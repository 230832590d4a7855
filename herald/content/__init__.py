"""Channel posts (seed 000, shared with brands): drafts, schedules, publishing, tracked links,
analytics and export."""
