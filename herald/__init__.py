"""Herald: one platform for businesses that sell and market through Telegram and social networks."""
