"""Identity: JWT bearer tokens, the Principal, role and school-scope dependencies."""

from shared.auth.dependencies import PrincipalDep, get_principal, require_roles
from shared.auth.principal import ROLES, Principal

__all__ = ["ROLES", "Principal", "PrincipalDep", "get_principal", "require_roles"]
