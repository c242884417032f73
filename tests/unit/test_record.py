"""builder.record: the dataclass subset the build path's value classes rely on."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from typing import ClassVar

import pytest

from builder.record import FrozenRecordError, Record, asdict, field, replace


class Point(Record):
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    password: str = field(default="", repr=False)
    kind: ClassVar[str] = "point"


class Checked(Record):
    name: str

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name is empty")


class Bag(Record, frozen=False):
    items: list[str] = field(default_factory=list)
    count: int = 0


class Outer(Record):
    inner: Point
    many: tuple[Point, ...] = ()
    by_name: dict[str, Point] = field(default_factory=dict)


class Point3(Point):
    z: int = 0


def test_fields_take_positional_and_keyword_arguments_and_defaults() -> None:
    point = Point(1, tags=("a",))
    assert (point.x, point.y, point.tags, point.labels, point.password) == (1, 0, ("a",), {}, "")


def test_a_factory_default_is_fresh_per_instance() -> None:
    first, second = Bag(), Bag()
    first.items.append("x")
    assert second.items == []
    assert Point(1).labels is not Point(1).labels


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing argument 'x'"),
        ((1, 2, (), {}, "", 6), {}, "takes 5 positional arguments but 6 were given"),
        ((1,), {"x": 2}, "multiple values for 'x'"),
        ((1,), {"nope": 2, "other": 3}, "unexpected arguments 'nope', 'other'"),
    ],
)
def test_wrong_arguments_are_a_type_error_naming_them(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)  # type: ignore[arg-type]


def test_a_frozen_record_refuses_assignment_and_deletion() -> None:
    point = Point(1)
    with pytest.raises(FrozenRecordError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):  # FrozenRecordError is one, as in dataclasses
        del point.y
    assert point.x == 1


def test_a_mutable_record_takes_assignment_and_is_unhashable() -> None:
    bag = Bag()
    bag.count = 3
    assert bag == Bag([], 3)
    with pytest.raises(TypeError, match="unhashable"):
        hash(bag)


def test_equality_needs_the_same_class_and_the_same_fields() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert Point3(1, 2) != Point(1, 2)
    assert Point(1, 2) != (1, 2)


def test_hash_follows_the_fields_except_those_marked_hash_false() -> None:
    assert hash(Point(1, 2, labels={"a": "b"})) == hash(Point(1, 2))
    assert {Point(1, 2), Point(1, 2)} == {Point(1, 2)}
    assert hash(Point(1, 2)) != hash(Point(2, 1))


def test_repr_shows_the_fields_but_not_a_repr_false_one() -> None:
    text = repr(Point(1, password="s3cret"))  # noqa: S106 - a test value
    assert text == "Point(x=1, y=0, tags=(), labels={})"


def test_post_init_runs_on_construction_and_on_replace() -> None:
    with pytest.raises(ValueError, match="empty"):
        Checked("")
    checked = Checked("a")
    with pytest.raises(ValueError, match="empty"):
        replace(checked, name="")
    assert replace(checked, name="b") == Checked("b")


def test_replace_keeps_the_fields_not_changed_and_the_original_unchanged() -> None:
    point = Point(1, 2, ("t",))
    moved = replace(point, y=5)
    assert moved == Point(1, 5, ("t",))
    assert point.y == 2
    with pytest.raises(TypeError, match="unexpected"):
        replace(point, nope=1)


def test_asdict_turns_nested_records_into_dicts_through_containers() -> None:
    outer = Outer(Point(1), (Point(2),), {"p": Point(3)})
    plain = asdict(outer)
    assert plain["inner"] == {"x": 1, "y": 0, "tags": (), "labels": {}, "password": ""}
    assert plain["many"] == ({"x": 2, "y": 0, "tags": (), "labels": {}, "password": ""},)
    assert plain["by_name"]["p"]["x"] == 3


def test_a_subclass_adds_fields_after_its_bases() -> None:
    assert [spec.name for spec in Point3.__record_fields__][-1] == "z"
    assert Point3(1, z=4).z == 4
    assert Point3.__match_args__ == ("x", "y", "tags", "labels", "password", "z")


def test_class_vars_are_not_fields() -> None:
    assert "kind" not in {spec.name for spec in Point.__record_fields__}
    assert Point(1).kind == "point"


def test_a_required_field_after_a_default_one_is_refused() -> None:
    with pytest.raises(TypeError, match="'b' without a default follows 'a'"):

        class Wrong(Record):
            a: int = 0
            b: int  # type: ignore[misc] # mypy refuses it too


def test_frozen_and_mutable_records_do_not_mix() -> None:
    with pytest.raises(TypeError, match="do not mix"):

        class Wrong(Bag):  # type: ignore[misc] # frozen by default, over a mutable base
            extra: int = 0


def test_default_and_default_factory_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        field(default=1, default_factory=int)  # type: ignore[call-overload]


def test_copy_and_pickle_round_trip() -> None:
    point = Point(1, 2, ("a",), {"k": "v"}, "pw")
    assert copy.copy(point) == point
    assert copy.deepcopy(point) == point
    assert pickle.loads(pickle.dumps(point)) == point  # noqa: S301 - our own bytes


def test_pattern_matching_by_position() -> None:
    match Point(1, 2):
        case Point(x, y):
            assert (x, y) == (1, 2)
        case _:
            pytest.fail("Point(x, y) did not match")


def test_importing_it_loads_neither_dataclasses_nor_inspect() -> None:
    """The reason the module exists: see its docstring."""
    code = (
        "import sys, builder.record; print(sorted({'dataclasses', 'inspect'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"
