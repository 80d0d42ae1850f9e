"""Registry pages, split by concern: ``records`` (the register, search, a veteran's file and its parts),
``imports`` (upload, preview, confirm, progress) and ``exports`` (the filtered xlsx list, the one-person PDF)."""
