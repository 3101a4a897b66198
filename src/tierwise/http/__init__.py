"""What the two HTTP edges share: who the client is, request limits, errors as statuses, and
the language of each request.

The REST API (``api``) and the dashboard (``web``) are served by one app and must answer alike:
the same client address, the same rate limits and lockouts, the same status for the same error,
in the language the request asks for (:mod:`tierwise.http.language`).
Both import this package; neither imports the other's internals.
"""
