"""What the two HTTP edges share: who the client is, request limits, and errors as statuses.

The REST API (``api``) and the dashboard (``web``) are served by one app and must answer alike:
the same client address, the same rate limits and lockouts, the same status for the same error.
Both import this package; neither imports the other's internals.
"""
