from pathlib import Path

import pghistory
from django.core.management.base import BaseCommand, CommandError

from apps.core.services import orgunit_tree_load_csv


class Command(BaseCommand):
    help = "Load or refresh a district's org-unit tree from a CSV file with columns code,name (12-digit codes)."

    def add_arguments(self, parser):
        parser.add_argument("csv_file", type=Path)

    def handle(self, *args, csv_file: Path, **options):
        if not csv_file.exists():
            raise CommandError(f"文件不存在 / file not found: {csv_file}")
        with pghistory.context(command="load_orgunits"):
            created, updated = orgunit_tree_load_csv(csv_file)
        self.stdout.write(f"org units: created={created} updated={updated}")
