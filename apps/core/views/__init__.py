"""Core pages, split by concern: ``home``, ``orgunits``, ``users`` (accounts, roles, administrator actions),
``audit``, ``notifications``, ``account`` (profile, API token, password change, second factor), ``errors``
(health check, error pages, CSRF failure) and ``jobs`` (the download centre)."""
