"""The S2I template's language (builder.s2i.template) against Jinja, its reference.

Tables pin the subset's rules and its errors; the property tests render the
shipped template, and templates generated from the whole subset, with jinja2
(a dev dependency, for this comparison only) and require the same bytes.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import BuildError, StatusReason
from builder.s2i import BuilderImage, S2IInputs, render
from builder.s2i.template import TemplateError, parse

# The module, which the package's ``render`` function shadows as an attribute.
render_module = importlib.import_module("builder.s2i.render")

SHIPPED = Path(__file__).resolve().parents[3] / "s2i_templates" / "Dockerfile.j2"


def jinja(source: str, context: dict[str, object]) -> str:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - what builder.s2i.render used
    )
    return env.from_string(source).render(**context)


CONTEXT: dict[str, object] = {
    "name": "web",
    "empty": "",
    "yes": True,
    "no": False,
    "nothing": None,
    "items": ["a", "b c", "<&>'"],
    "noitems": [],
    "script": {"path": "/usr/libexec/s2i/run", "origin": "image", "blank": ""},
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("plain text\n", "plain text\n"),
        ("no final newline", "no final newline"),
        ("two\n\n", "two\n\n"),
        ("a{# comment #}b", "ab"),
        ("{#- leading\ncomment -#}\n\nFROM x\n", "FROM x\n"),
        ("{{ name }}", "web"),
        ("[{{ nothing }}|{{ yes }}]", "[None|True]"),
        ("{{ script.path }}", "/usr/libexec/s2i/run"),
        ("{{ items | join(', ') }}", "a, b c, <&>'"),
        ("{{ items | join }}", "ab c<&>'"),
        ('{{ items | join(" \\\\\\n  ") }}', "a \\\n  b c \\\n  <&>'"),
        ("{{ script.path | tojson }}", '"/usr/libexec/s2i/run"'),
        ("{{ items | tojson }}", '["a", "b c", "\\u003c\\u0026\\u003e\\u0027"]'),
        (
            "{{ script | tojson }}",
            '{"blank": "", "origin": "image", "path": "/usr/libexec/s2i/run"}',
        ),
        ("{% if yes %}on{% endif %}", "on"),
        ("{% if no %}on{% else %}off{% endif %}", "off"),
        ("{% if no %}1{% elif nothing %}2{% elif name %}3{% else %}4{% endif %}", "3"),
        ("{% if name == 'web' and not no %}y{% endif %}", "y"),
        ("{% if name != 'web' or script.blank %}y{% else %}n{% endif %}", "n"),
        ("{% if not (yes and no) %}y{% endif %}", "y"),
        ("{% if noitems %}y{% endif %}.", "."),
        ("{{ empty or name }}", "web"),
        ("{{ true }}{{ False }}{{ none }}", "TrueFalseNone"),
        # Whitespace control: "-" strips every whitespace character on its side.
        ("a  \n {%- if yes %} b {% endif -%} \n\n c", "a b c"),
        ("{% if yes -%}\n  x\n{% endif -%}\n", "x\n"),
        ("{% if no -%}\nx\n{% endif %}\ny", "\ny"),
        ("x\r\ny\rz", "x\ny\nz"),
    ],
)
def test_the_subset_renders_as_jinja_does(source: str, expected: str) -> None:
    assert parse(source).render(**CONTEXT) == expected
    assert jinja(source, CONTEXT) == expected  # the table itself is Jinja's behaviour


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a\n{% for x in items %}{% endfor %}", "line 2: {% for %} is not in"),
        ("{{ name | upper }}", "line 1: filter 'upper' is not in"),
        ("x\n\n{% if yes %}open", "line 3: this if has no endif"),
        ("{% endif %}", "line 1: endif without an if"),
        ("{% else %}", "line 1: else without an if"),
        ("{% if yes %}{% else %}{% else %}{% endif %}", "line 1: a second else"),
        ("{% if yes %}{% else %}{% elif no %}{% endif %}", "line 1: elif after else"),
        ("{% if yes %}{% endif x %}", "line 1: endif takes nothing"),
        ("{{ name + 'x' }}", "line 1: unexpected \"+ 'x'\""),
        ("{{ name 'x' }}", "line 1: unexpected \"'x'\""),
        ("{{ }}", "line 1: unexpected 'end of expression'"),
        ("{{ (name }}", "line 1: expected ), found 'the end'"),
        ("{{ items | join(',' ';') }}", "line 1: expected ,"),
        ("{{ 'unterminated }}", "line 1: unexpected"),
        ("{% if %}{% endif %}", "line 1: unexpected 'end of expression'"),
        ("{{ and }}", "line 1: unexpected 'and'"),
        ("x\nCMD [{{ run.path | tojson }]\n", "line 2: '{{' is never closed"),
        ("a {# unclosed {{ name }}\n", "line 1: '{#' is never closed"),
        ("{% if yes %}a{% endif %}\n\n{% if", "line 3: '{%' is never closed"),
        ('x\n{{ "a\\xZ" }}', 'line 2: string "a\\xZ" has a bad escape (truncated \\xXX escape)'),
    ],
)
def test_what_the_subset_does_not_take_is_named_with_its_line(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as err:
        parse(source)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ missing }}", "'missing' is undefined"),
        ("{% if missing %}{% endif %}", "'missing' is undefined"),
        ("{{ script.missing }}", "dict value has no attribute 'missing'"),
        ("{{ name.missing }}", "str value has no attribute 'missing'"),
        ("{{ yes | join }}", "line 1: 'bool' object is not iterable"),
    ],
)
def test_undefined_values_are_errors_when_rendered(source: str, message: str) -> None:
    """Jinja's StrictUndefined, which builder.s2i.render used: no silent empty string."""
    template = parse(source)
    with pytest.raises(TemplateError, match=message):
        template.render(**CONTEXT)
    with pytest.raises(jinja2.UndefinedError if "missing" in source else TypeError):
        jinja(source, CONTEXT)


# -- the shipped template, with jinja2 as the reference --------------------------------

WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
LOCATION = st.fixed_dictionaries({"path": WORDS, "origin": WORDS})


@settings(max_examples=200, deadline=None)
@given(
    context=st.fixed_dictionaries(
        {
            "builder_image": WORDS,
            "user": st.sampled_from(["root", "0", "1001", "default"]) | WORDS,
            "labels": st.lists(WORDS, max_size=3),
            "env": st.lists(WORDS, max_size=3),
            "incremental": st.none()
            | st.fixed_dictionaries(
                {"image": WORDS, "script": WORDS, "script_uploaded": st.booleans()}
            ),
            "scripts_uploaded": st.booleans(),
            "scripts_dir": WORDS,
            "source_dir": WORDS,
            "artifacts_dir": WORDS,
            "artifacts_tar": WORDS,
            "assemble": LOCATION,
            "run": LOCATION,
        }
    )
)
def test_the_shipped_template_renders_as_jinja_renders_it(context: dict[str, object]) -> None:
    source = SHIPPED.read_text(encoding="utf-8")
    assert parse(source).render(**context) == jinja(source, context)


# -- generated templates of the whole subset -------------------------------------------

NAMES = ["name", "empty", "yes", "no", "nothing", "items", "noitems", "script"]
TEXT = st.text(alphabet=" \t\n\r\\$#%-_aZ(),'\"|", max_size=8)
LITERAL = st.sampled_from(["'web'", '"a\\tb"', "''", "true", "none", "False"])
ATOM = st.sampled_from(NAMES) | st.sampled_from(["script.path", "script.blank"]) | LITERAL
FILTERED = st.one_of(
    ATOM,
    st.sampled_from(["items", "noitems"]).map(lambda n: f"{n} | join"),
    st.tuples(st.sampled_from(["items", "noitems"]), LITERAL).map(
        lambda t: f"{t[0]} | join({t[1]})"
    ),
    ATOM.map(lambda a: f"{a} | tojson"),
)
COMPARISON = st.tuples(
    FILTERED, st.lists(st.tuples(st.sampled_from(["==", "!="]), FILTERED), min_size=1, max_size=2)
).map(lambda t: " ".join([t[0], *(f"{op} {operand}" for op, operand in t[1])]))
# Jinja reads ``a == not b`` as a call of a variable named ``not``; the
# subset refuses it, so operands of ``==`` are parenthesized when not atoms.
EXPR = st.recursive(
    FILTERED | COMPARISON,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(" ".join),
        st.tuples(inner, st.sampled_from(["==", "!="]), inner).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=4,
)
DASH = st.sampled_from(["", "-"])


def _tag(open_: str, body: str, close: str) -> st.SearchStrategy[str]:
    return st.tuples(DASH, DASH).map(lambda d: f"{open_}{d[0]} {body} {d[1]}{close}")


def _output(expr: str) -> st.SearchStrategy[str]:
    return _tag("{{", expr, "}}")


@st.composite
def _if_block(draw: st.DrawFn, body: st.SearchStrategy[str]) -> str:
    parts = [draw(_tag("{%", f"if {draw(EXPR)}", "%}")), draw(body)]
    for _ in range(draw(st.integers(0, 2))):
        parts += [draw(_tag("{%", f"elif {draw(EXPR)}", "%}")), draw(body)]
    if draw(st.booleans()):
        parts += [draw(_tag("{%", "else", "%}")), draw(body)]
    parts.append(draw(_tag("{%", "endif", "%}")))
    return "".join(parts)


PIECE = st.one_of(TEXT, EXPR.flatmap(_output), _tag("{#", "a comment\n", "#}"))
TEMPLATE = st.recursive(
    st.lists(PIECE, max_size=4).map("".join),
    lambda inner: st.lists(PIECE | _if_block(inner), max_size=4).map("".join),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(source=TEMPLATE)
def test_generated_templates_render_as_jinja_renders_them(source: str) -> None:
    try:
        expected = jinja(source, CONTEXT)
    except jinja2.TemplateSyntaxError:
        with pytest.raises(TemplateError, match=r"^line "):
            parse(source)
        return
    except (jinja2.UndefinedError, TypeError):
        with pytest.raises(TemplateError):
            parse(source).render(**CONTEXT)
        return
    assert parse(source).render(**CONTEXT) == expected


# -- builder.s2i.render's use of it ----------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        # Refused when read: the file and the line are named.
        (
            "FROM {{ builder_image | lower }}\n",
            "S2I template {dir}/Dockerfile.j2: line 1: filter 'lower'",
        ),
        # Refused when rendered: a name render.py does not pass.
        (
            "FROM {{ builder_image }}\nUSER {{ uid }}\n",
            "S2I template Dockerfile.j2: 'uid' is undefined",
        ),
    ],
)
def test_a_broken_template_fails_the_build_with_a_reason(
    template: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Dockerfile.j2").write_text(template)
    monkeypatch.setattr(render_module, "_templates_dir", lambda: tmp_path)
    render_module.load_template.cache_clear()
    try:
        with pytest.raises(BuildError) as err:
            render(S2IInputs(builder=BuilderImage("b")))
    finally:
        render_module.load_template.cache_clear()
    assert err.value.reason == StatusReason.MANAGE_DOCKERFILE_FAILED
    assert message.format(dir=tmp_path) in str(err.value)
