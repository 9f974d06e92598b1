"""The curated corpus as a whole: checks that keep it true."""
