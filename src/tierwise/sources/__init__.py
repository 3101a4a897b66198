"""Reading, typing and checking the user's sources."""
