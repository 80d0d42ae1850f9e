"""Deterministic demo data of any size. Each app that has demo data provides ``apps/<app>/demo.py``
with ``seed(*, veterans, password, seed, stdout)``; they run in INSTALLED_APPS order."""

from importlib import import_module

import pghistory
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load demo data: the demo district, one account per role and (with the registry) N veterans."

    def add_arguments(self, parser):
        parser.add_argument("--veterans", type=int, default=200, help="number of demo veterans (registry)")
        parser.add_argument("--password", default=None, help="password for the demo accounts (default in README)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed: same seed, same data")

    def handle(self, *args, veterans: int, password: str | None, seed: int, **options):
        for config in apps.get_app_configs():
            if not config.name.startswith("apps."):
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError:
                continue
            with transaction.atomic(), pghistory.context(command="seed_demo"):
                module.seed(veterans=veterans, password=password, seed=seed, stdout=self.stdout)
