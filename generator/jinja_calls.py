"""A Jinja context that calls plain functions and macros without asking how to call them.

Every call a template makes (``{{ href("x.md") }}``, ``{{ m.refs(notes) }}``,
``{{ incident.date.human() }}``) goes through ``Context.call``, which looks twice for
Jinja's ``pass_context`` family of markers (on the object and on its ``__call__``), then
pops two keyword arguments, before it calls: half a million calls at 5,000 incidents, a
tenth of rendering the pages.  A macro, a function, a bound method, a ``partial`` or a
built-in carries such a marker, if at all, as its own ``jinja_pass_arg`` attribute (what
``pass_context`` sets, and what Jinja looks for); the other objects, and callables that
carry one, take Jinja's way.
"""

from __future__ import annotations

import types
from functools import partial

from jinja2.runtime import Context, Macro

# Types whose ``__call__`` cannot carry a marker: Jinja would find it on the object alone.
_PLAIN_CALLABLES = frozenset({types.FunctionType, types.MethodType, types.BuiltinFunctionType,
                              partial})


class QuickCallContext(Context):
    """``Context`` whose ``call`` takes a short way for callables that want no context."""

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        kind = type(__obj)
        if kind is not Macro and (kind not in _PLAIN_CALLABLES
                                  or hasattr(__obj, "jinja_pass_arg")):
            return super().call(__obj, *args, **kwargs)
        if kwargs:  # what Jinja passes for pass_context callables, none of these
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception")
