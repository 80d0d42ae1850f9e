"""Look-ups loaded once per import (a few hundred rows) so that rows never query: choice lists (code tables)
matched however stations write their values, and units by division code or name, scoped to the user's tree."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from apps.core.models import OrgUnit, User

from .cells import as_text, code_key
from .problems import CellError

TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")
INNER = re.compile(r"^(.*)\((.+)\)$")
PATH_SPLIT = re.compile(r"[/\\>＞]")


class ChoiceList:
    """The values of one choice list, matched exactly (full-width, spacing and case aside), by a part of a
    compound name (“战略支援部队/信息支援部队”, “转业(自主择业)”) when only one value has that part, without
    ``suffix`` (汉 for 汉族), or by a common alias whose target is in the list."""

    def __init__(self, values: list[tuple[int, str]], *, aliases: dict[str, str] | None = None, suffix: str = ""):
        self.names = [name for _pk, name in values]
        exact: dict[str, int] = {}
        variants: dict[str, set[int]] = {}
        for pk, name in values:
            key = code_key(name)
            exact[key] = pk
            forms = {part for part in key.split("/") if part}
            inner = INNER.match(key)
            if inner:
                forms |= {inner.group(2), inner.group(1) + inner.group(2)}
            if suffix and key.endswith(suffix) and len(key) > len(suffix):
                forms.add(key[:-len(suffix)])
            for form in forms - {key}:
                variants.setdefault(form, set()).add(pk)
        index = {form: next(iter(pks)) for form, pks in variants.items() if len(pks) == 1 and form not in exact}
        index.update(exact)
        for alias, target in (aliases or {}).items():
            target_pk = exact.get(code_key(target))
            if target_pk is not None:
                index.setdefault(code_key(alias), target_pk)
        self.index = index

    def get(self, raw: Any, header: str) -> int:
        text = as_text(raw)
        pk = self.index.get(code_key(text))
        if pk is None:
            shown = "、".join(self.names[:8]) + ("…" if len(self.names) > 8 else "")
            raise CellError(_("“%(value)s” is not a valid %(column)s; choose from: %(choices)s (%(count)d in all).")
                            % {"value": text, "column": header, "choices": shown, "count": len(self.names)})
        return pk


class UnitLookup:
    """Units by division code or name: those the user sees (``visible``) and, of these, those under the target
    unit (``allowed``). Without a user (a command) the scope is the target unit's subtree."""

    def __init__(self, *, actor: User | None, unit: OrgUnit):
        self.target = unit
        units = list(OrgUnit.objects.values_list("pk", "code", "name", "path", "is_active"))
        self.unit_by_code = {code: (pk, name, path, active) for pk, code, name, path, active in units}
        self.unit_name = {pk: name for pk, _code, name, _path, _active in units}
        self.name_by_path = {path: code_key(name) for _pk, _code, name, path, _active in units}
        self.units_by_name: dict[str, list[tuple[int, str, str, bool]]] = {}
        for pk, code, name, path, active in units:
            self.units_by_name.setdefault(code_key(name), []).append((pk, code, path, active))
        if actor is not None:
            self.visible = set(OrgUnit.objects.visible_to(actor).values_list("pk", flat=True))
        else:
            self.visible = {pk for pk, _c, _n, path, _a in units if path.startswith(unit.path)}
        self.allowed = {pk for pk, _c, _n, path, _a in units if pk in self.visible and path.startswith(unit.path)}

    def _under(self, path: str, names: list[str]) -> bool:
        """Whether the ancestors of the unit at ``path`` include units of ``names``, top down (gaps allowed)."""
        step = OrgUnit.steplen
        ancestors = iter(self.name_by_path.get(path[:end], "") for end in range(step, len(path), step))
        return all(any(name == ancestor for ancestor in ancestors) for name in names)

    def get(self, raw: Any) -> int:
        """The unit a cell names: by its 12-digit division code, by name (one of that name under the target unit
        first), or by a path of names (甲街道/甲一社区) when several units share a name."""
        text = as_text(raw)
        digits = TWELVE_DIGITS.search(text.replace(" ", ""))
        if digits:
            found = self.unit_by_code.get(digits.group(0))
            if found is None:
                raise CellError(_("No unit has the division code %(code)s.") % {"code": digits.group(0)})
            pk, name, _path, active = found
        else:
            *above, last = [part for part in PATH_SPLIT.split(text) if part.strip()] or [text]
            matches = self.units_by_name.get(code_key(last), [])
            if above:  # 甲街道/甲一社区: the unit under units of these names, in this order
                matches = [m for m in matches if self._under(m[2], [code_key(part) for part in above])]
            if not matches:
                raise CellError(_("No unit is called “%(name)s”; give its 12-digit division code.") % {"name": text})
            inside = [m for m in matches if m[0] in self.allowed] or matches
            if len(inside) > 1:
                raise CellError(_("Several units are called “%(name)s”; give the 12-digit division code.")
                                 % {"name": text})
            pk, _code, _path, active = inside[0]
            name = self.unit_name[pk]
        if pk not in self.visible:
            raise CellError(_("The unit %(unit)s is outside your area.") % {"unit": name})
        if pk not in self.allowed:
            raise CellError(_("The unit %(unit)s is not under %(target)s.") % {"unit": name,
                                                                                 "target": self.target.name})
        if not active:
            raise CellError(_("The unit %(unit)s is no longer in use.") % {"unit": name})
        return pk
