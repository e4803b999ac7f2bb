"""Every staff action of the core services is told who acts: no service method falls back to an actor of its own
(an entry point that forgot to pass one would otherwise act with that default's rights and name in the audit log)."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import core.services


def _staff_parameters():
    for module_info in pkgutil.iter_modules(core.services.__path__):
        module = importlib.import_module(f"core.services.{module_info.name}")
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            for name, method in vars(cls).items():
                if name.startswith("_") or not inspect.isfunction(method):
                    continue
                for parameter in inspect.signature(method).parameters.values():
                    if "AnyActor" in str(parameter.annotation):
                        yield f"{cls.__name__}.{name}({parameter.name})", parameter


def test_every_parameter_naming_the_acting_staff_member_is_required():
    found = dict(_staff_parameters())
    assert "StaffAccountService.add(actor)" in found and "BatchService.create(actor)" in found, sorted(found)
    defaulted = [where for where, parameter in found.items() if parameter.default is not inspect.Parameter.empty]
    assert defaulted == []
