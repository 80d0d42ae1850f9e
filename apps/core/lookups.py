"""Lookups the ORM lacks, registered when the core app loads."""

from __future__ import annotations

from django.db import models


@models.Field.register_lookup
class AnyOf(models.Lookup):
    """``field__any_of=[1, 2]`` → ``field = ANY(%s)`` with the list as one array parameter: the SQL is the
    same whatever the number of ids (``__in`` writes one placeholder per id)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [value]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


models.ForeignKey.register_lookup(AnyOf)  # foreign keys keep their own set of lookups
