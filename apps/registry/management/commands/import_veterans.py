from pathlib import Path

import pghistory
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError

from apps.core.models import OrgUnit, User
from apps.registry import importing


class Command(BaseCommand):
    help = (
        "Import veterans from an xlsx, xls or csv sheet. Without --commit nothing is written: each bad row is "
        "printed (row, column, reason; tab-separated), then a last line "
        "'rows=N valid=V errors=E created=C updated=U' (in a dry run: what --commit would do)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--unit", required=True,
                            help="division code of the default responsible unit; rows may name units below it")
        parser.add_argument("--commit", action="store_true", help="write the valid rows (one transaction)")
        parser.add_argument("--atomic", action="store_true", help="all or nothing: write nothing if any row is bad")
        parser.add_argument("--user", help="import as this user: their area limits the import and the history "
                                           "names them")

    def handle(self, *args, **options):
        try:
            self._import(*args, **options)
        except (OperationalError, InterfaceError) as exc:  # PostgreSQL down or gone mid-import: one line
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CommandError(f"数据库不可用，导入未完成（导入在一个事务中：未提交则未写入任何数据） / database "
                               f"unavailable, the import did not complete: {reason}") from exc

    def _import(self, *args, file: Path, unit: str, commit: bool, atomic: bool, user: str | None, **options):
        if not file.exists():
            raise CommandError(f"文件不存在 / file not found: {file}")
        target = OrgUnit.objects.filter(code=unit).first()
        if target is None:
            raise CommandError(f"没有区划代码为 {unit} 的单位 / no unit with code {unit}")
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"没有用户 {user} / no active user {user}")
        try:
            with pghistory.context(command="import_veterans"):
                report = importing.veteran_import(actor=actor, path=file, unit=target, commit=commit, atomic=atomic,
                                                  file_name=file.name)
        except (importing.ImportFileError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        for problem in report.problems:
            self.stdout.write(f"{problem.row}\t{problem.column}\t{problem.reason}")
        if not commit:
            self.stderr.write("试运行，未写入任何数据；加 --commit 写入 / dry run: nothing written, add --commit")
        elif report.rolled_back:
            self.stderr.write("有错误行，按 --atomic 未写入任何数据 / rows are bad: --atomic wrote nothing")
        self.stdout.write(report.summary_line())
