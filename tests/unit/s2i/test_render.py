"""Table-driven tests of the S2I Dockerfile: one row per rule users rely on."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from builder.api import BuildError, StatusReason
from builder.s2i import BuilderImage, S2IInputs, render

IMAGE_LABEL = {"io.openshift.s2i.scripts-url": "image:///usr/libexec/s2i"}


@dataclass
class Case:
    name: str
    inputs: S2IInputs
    contains: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    user: str = "1001"


CASES = [
    Case(
        "image scripts from label, default user",
        S2IInputs(builder=BuilderImage("reg/py:1", IMAGE_LABEL)),
        contains=[
            "FROM reg/py:1\n",
            "COPY --chown=1001:0 upload/src /tmp/src\n",
            "USER 1001\n",
            "RUN /usr/libexec/s2i/assemble\n",
            'CMD ["/usr/libexec/s2i/run"]\n',
        ],
        absent=["upload/scripts", "AS cached"],
    ),
    Case(
        "label points elsewhere",
        S2IInputs(builder=BuilderImage("b", {"io.openshift.s2i.scripts-url": "image:///opt/s2i/"})),
        contains=["RUN /opt/s2i/assemble\n", 'CMD ["/opt/s2i/run"]\n'],
    ),
    Case(
        "legacy io.s2i label",
        S2IInputs(builder=BuilderImage("b", {"io.s2i.scripts-url": "image:///legacy"})),
        contains=["RUN /legacy/assemble\n"],
    ),
    Case(
        "no label: /usr/libexec/s2i",
        S2IInputs(builder=BuilderImage("b")),
        contains=["RUN /usr/libexec/s2i/assemble\n"],
    ),
    Case(
        "image:// strategy scripts URL overrides the label",
        S2IInputs(builder=BuilderImage("b", IMAGE_LABEL), scripts_url="image:///custom"),
        contains=[
            "RUN /custom/assemble\n",
            '"io.openshift.s2i.scripts-url"="image:///custom"',
        ],
    ),
    Case(
        "uploaded assemble only: run stays in the image",
        S2IInputs(builder=BuilderImage("b", IMAGE_LABEL), uploaded_scripts={"assemble"}),
        contains=[
            "COPY --chown=1001:0 upload/scripts /tmp/scripts\n",
            "RUN /tmp/scripts/assemble\n",
            'CMD ["/usr/libexec/s2i/run"]\n',
        ],
    ),
    Case(
        "assemble-user label wins over USER",
        S2IInputs(
            builder=BuilderImage("b", {"io.openshift.s2i.assemble-user": "2000"}, user="1001")
        ),
        contains=["COPY --chown=2000:0 upload/src /tmp/src\n", "USER 2000\n"],
        user="2000",
    ),
    Case(
        "image USER used when no label",
        S2IInputs(builder=BuilderImage("b", {}, user="default")),
        contains=["USER default\n"],
        user="default",
    ),
    Case(
        "USER uid:gid keeps the uid, group is always 0",
        S2IInputs(builder=BuilderImage("b", {}, user="1002:1002")),
        contains=["COPY --chown=1002:0 upload/src /tmp/src\n"],
        user="1002",
    ),
    Case(
        "env merged in order, later wins, quoted, $ kept literal as s2i escapes it",
        S2IInputs(
            builder=BuilderImage("b"),
            env=(("A", "1"), ("B", 'say "hi"'), ("A", "2"), ("P", "$PATH:/x")),
        ),
        contains=['ENV B="say \\"hi\\"" \\\n    A="2" \\\n    P="\\$PATH:/x"\n'],
        absent=['A="1"'],
    ),
    Case(
        "newline in a value cannot start an instruction",
        S2IInputs(builder=BuilderImage("b"), env=(("X", "a\nRUN evil"),)),
        contains=['X="a\\nRUN evil"'],
        absent=["\nRUN evil"],
    ),
    Case(
        "labels: builder image label first, user labels after",
        S2IInputs(
            builder=BuilderImage("reg/b:1"), labels=(("io.openshift.build.commit.id", "abc"),)
        ),
        contains=[
            'LABEL "io.openshift.build.image"="reg/b:1" \\\n'
            '      "io.openshift.build.commit.id"="abc"\n'
        ],
    ),
    Case(
        "incremental: cached stage with image save-artifacts",
        S2IInputs(
            builder=BuilderImage("b", IMAGE_LABEL), incremental_from="reg/app@sha256:" + "a" * 64
        ),
        contains=[
            "FROM reg/app@sha256:" + "a" * 64 + " AS cached\n",
            "RUN if [ -s /usr/libexec/s2i/save-artifacts ]; then /usr/libexec/s2i/save-artifacts"
            " > /tmp/artifacts.tar; else touch /tmp/artifacts.tar; fi\n",
            "COPY --from=cached --chown=1001:0 /tmp/artifacts.tar /tmp/artifacts.tar\n",
            "tar -xf /tmp/artifacts.tar -C /tmp/artifacts",
        ],
    ),
    Case(
        "incremental with uploaded save-artifacts",
        S2IInputs(
            builder=BuilderImage("b"),
            uploaded_scripts={"save-artifacts"},
            incremental_from="reg/app:latest",
        ),
        contains=[
            "COPY --chown=1001:0 upload/scripts/save-artifacts /tmp/scripts/save-artifacts\n",
            "then /tmp/scripts/save-artifacts > /tmp/artifacts.tar",
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_render(case: Case) -> None:
    plan = render(case.inputs)
    for text in case.contains:
        assert text in plan.dockerfile, f"missing {text!r} in:\n{plan.dockerfile}"
    for text in case.absent:
        assert text not in plan.dockerfile, f"unexpected {text!r} in:\n{plan.dockerfile}"
    assert plan.assemble_user == case.user


def test_instruction_order_matches_openshift_shape() -> None:
    dockerfile = render(
        S2IInputs(builder=BuilderImage("b"), env=(("A", "1"),), labels=(("l", "v"),))
    ).dockerfile
    keywords = [line.split()[0] for line in dockerfile.splitlines() if line and line[0].isupper()]
    assert keywords == ["FROM", "LABEL", "ENV", "COPY", "USER", "RUN", "CMD"]


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        (
            S2IInputs(builder=BuilderImage("b", {}, user="bad user")),
            StatusReason.MANAGE_DOCKERFILE_FAILED,
        ),
        (
            S2IInputs(builder=BuilderImage("b", {"io.openshift.s2i.assemble-user": "$(id)"})),
            StatusReason.MANAGE_DOCKERFILE_FAILED,
        ),
        (S2IInputs(builder=BuilderImage("")), StatusReason.INVALID_IMAGE_REFERENCE),
        (S2IInputs(builder=BuilderImage("a b")), StatusReason.INVALID_IMAGE_REFERENCE),
        (
            S2IInputs(builder=BuilderImage("b"), scripts_url="image://relative/path"),
            StatusReason.MANAGE_DOCKERFILE_FAILED,
        ),
    ],
)
def test_render_refuses(inputs: S2IInputs, reason: StatusReason) -> None:
    with pytest.raises(BuildError) as caught:
        render(inputs)
    assert caught.value.reason is reason
