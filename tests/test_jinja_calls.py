"""The quick calls of templates: the same results as Jinja's own, without its detour."""

from __future__ import annotations

from functools import partial

import jinja2
from jinja2.runtime import Context

from generator.jinja_calls import QuickCallContext
from generator.render import make_environment

TEMPLATES = {
    "_macros.j2": "{% macro shout(text, end='!') %}{{ text|upper }}{{ end }}{% endmacro %}"
                  "{% macro wrap() %}[{{ caller()|upper }}]{% endmacro %}",
    "page.j2": """\
{% import "_macros.j2" as m %}
macro: {{ m.shout("hi") }} {{ m.shout("hi", end="?") }}
function: {{ plain(1, 2) }}; method: {{ counter.next() }}; partial: {{ half(3) }}
builtin: {{ lookup.get("a") }}; class: {{ made(4) }}
context: {{ who() }}; environment: {{ env_name() }}; eval context: {{ autoescaping() }}
callable: {{ greeter() }}; context method: {{ counter.where() }}
stopped: [{{ stops() }}]
{% for name in ["x", "y"] %}{% set here = name %}in a loop: {{ who() }} {{ plain(name, loop.index) }} {{ m.shout(name) }}
{% endfor %}
{% call m.wrap() %}called{% endcall %}
""",
}


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def next(self) -> int:
        self.count += 1
        return self.count

    @jinja2.pass_context
    def where(self, context) -> str:
        return f"method sees {context['place']}"


class Greeter:
    @jinja2.pass_context
    def __call__(self, context) -> str:
        return f"hello from {context['place']}"


class Made:
    def __init__(self, value: int) -> None:
        self.value = value

    def __str__(self) -> str:
        return f"made {self.value}"


def _stops():
    raise StopIteration


def _globals() -> dict:
    return {
        "plain": lambda a, b: f"{a}+{b}",
        "counter": Counter(),
        "half": partial(divmod, 2),
        "lookup": {"a": "A"},
        "made": Made,
        # a pass_context function sees what a loop sets: Jinja hands it over
        "who": jinja2.pass_context(lambda context: f"{context.get('here', 'nobody')} in "
                                                   f"{context['place']}"),
        "env_name": jinja2.pass_environment(lambda env: type(env).__name__),
        "autoescaping": jinja2.pass_eval_context(lambda eval_ctx: eval_ctx.autoescape),
        "greeter": Greeter(),
        "stops": _stops,
        "place": "Baghdad",
    }


def _render(context_class: type[Context]) -> str:
    env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True)
    env.context_class = context_class
    return env.get_template("page.j2").render(_globals())


def test_quick_calls_give_what_jinjas_give():
    quick = _render(QuickCallContext)
    assert quick == _render(Context)
    assert "macro: HI! HI?" in quick
    assert "function: 1+2; method: 1; partial: (0, 2)" in quick
    assert "builtin: A; class: made 4" in quick
    assert "context: nobody in Baghdad; environment: Environment; eval context: True" in quick
    assert "callable: hello from Baghdad; context method: method sees Baghdad" in quick
    assert "stopped: []" in quick
    assert "in a loop: x in Baghdad x+1 X!" in quick
    assert "in a loop: y in Baghdad y+2 Y!" in quick
    assert "[CALLED]" in quick


def test_macros_functions_and_methods_do_not_take_jinjas_way(monkeypatch):
    taken: list[object] = []
    jinjas_call = Context.call

    def watched(self, obj, *args, **kwargs):
        taken.append(obj)
        return jinjas_call(self, obj, *args, **kwargs)

    monkeypatch.setattr(Context, "call", watched)
    _render(QuickCallContext)
    quick = {getattr(obj, "__name__", type(obj).__name__) for obj in taken}
    # what may ask for the context (it does here), and classes, go Jinja's way
    assert quick == {"<lambda>", "Greeter", "where", "Made"}
    assert all(getattr(obj, "jinja_pass_arg", None) or isinstance(obj, (Greeter, type))
               for obj in taken)


def test_the_fact_sheets_templates_use_quick_calls(tmp_path):
    (tmp_path / "page.md.j2").write_text("{{ plain(1, 2) }}", encoding="utf-8")
    env = make_environment(tmp_path)
    assert env.context_class is QuickCallContext
    assert env.get_template("page.md.j2").render(plain=lambda a, b: a + b) == "3"
