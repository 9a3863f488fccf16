"""``hotpixel fix``: repair flagged pixels from their clean neighbourhood."""
