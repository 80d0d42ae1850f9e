"""Celery discovers ``tasks`` modules: the registry's tasks live in the modules of their feature."""

from .tasks_export import export_veterans  # noqa: F401
from .tasks_import import veteran_import_task  # noqa: F401
