"""DShield coordination engine domain package."""
