"""Malformed manifests give one clear line per problem, never a pydantic dump."""

from __future__ import annotations

import textwrap

import pytest

from builder.api import ManifestError, load_manifests

BC = """\
apiVersion: build.openshift.io/v1
kind: BuildConfig
metadata:
  name: app
spec:
  source:
    git:
      uri: https://example.com/app.git
  strategy:
    sourceStrategy:
      from:
        kind: ImageStreamTag
        name: ruby:3
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifests(text)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


CASES = [
    (
        "unknown field, with a suggestion",
        BC.replace("      from:", "      frm:"),
        [
            "BuildConfig 'app': spec.strategy.sourceStrategy.from: required field is missing",
            "BuildConfig 'app': spec.strategy.sourceStrategy.frm: unknown field "
            "(did you mean 'from'?)",
        ],
    ),
    (
        "unknown field without a close name",
        BC + "  zebra: 1\n",
        ["BuildConfig 'app': spec.zebra: unknown field"],
    ),
    (
        "snake_case attribute names are not JSON names",
        BC + "  service_account: builder\n",
        ["BuildConfig 'app': spec.service_account: unknown field (did you mean 'serviceAccount'?)"],
    ),
    (
        "wrong type: string for integer",
        BC + '  completionDeadlineSeconds: "30"\n',
        [
            "BuildConfig 'app': spec.completionDeadlineSeconds: "
            'expected an integer, got string "30"'
        ],
    ),
    (
        "wrong type: list for string",
        BC + "  serviceAccount: [a]\n",
        ["BuildConfig 'app': spec.serviceAccount: expected a string, got list"],
    ),
    (
        "wrong type: string for boolean",
        BC.replace("      from:", "      forcePull: 'yes'\n      from:"),
        [
            "BuildConfig 'app': spec.strategy.sourceStrategy.forcePull: "
            'expected true or false, got string "yes"'
        ],
    ),
    (
        "wrong type: number for label value",
        BC.replace("  name: app\n", "  name: app\n  labels:\n    version: 1.0\n"),
        ["BuildConfig 'app': metadata.labels.version: expected a string, got number 1.0"],
    ),
    (
        "enum value",
        BC + "  runPolicy: Sometimes\n",
        [
            "BuildConfig 'app': spec.runPolicy: must be one of 'Parallel', 'Serial' or "
            "'SerialLatestOnly', got string \"Sometimes\""
        ],
    ),
    (
        "quantity",
        BC + "  resources:\n    limits:\n      cpu: true\n",
        [
            "BuildConfig 'app': spec.resources.limits.cpu: must be a number or a quantity "
            "string such as '500m' or '1Gi', got True"
        ],
    ),
    (
        "quantity string",
        BC + "  resources:\n    limits:\n      memory: lots\n",
        [
            "BuildConfig 'app': spec.resources.limits.memory: must be a quantity such as "
            "'500m', '0.5' or '1Gi', got 'lots'"
        ],
    ),
    (
        "missing required field in a list item",
        BC + "  triggers:\n  - github: {secret: s}\n",
        ["BuildConfig 'app': spec.triggers[0].type: required field is missing"],
    ),
    (
        "bad time",
        textwrap.dedent(
            """\
            apiVersion: image.openshift.io/v1
            kind: ImageStream
            metadata: {name: s}
            status:
              tags:
              - tag: latest
                items:
                - {created: yesterday, dockerImageReference: r, image: i, generation: 1}
            """
        ),
        [
            "ImageStream 's': status.tags[0].items[0].created: must be an RFC3339 time "
            "such as 2024-05-01T12:00:00Z, got 'yesterday'"
        ],
    ),
    (
        "map key that is not an identifier is quoted",
        BC.replace("  name: app\n", "  name: app\n  annotations:\n    openshift.io/x: 3\n"),
        [
            "BuildConfig 'app': metadata.annotations[\"openshift.io/x\"]: "
            "expected a string, got integer 3"
        ],
    ),
    (
        "unknown kind",
        "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {name: web}\n",
        [
            "DeploymentConfig 'web': kind 'DeploymentConfig' (apps.openshift.io/v1) is not "
            "handled by kbuild, which reads BuildConfig (build.openshift.io/v1), "
            "Build (build.openshift.io/v1), BuildRequest (build.openshift.io/v1), "
            "ImageStream (image.openshift.io/v1)"
        ],
    ),
    (
        "legacy apiVersion",
        BC.replace("build.openshift.io/v1", "v1"),
        [
            "BuildConfig 'app': apiVersion 'v1' is OpenShift 3's legacy ungrouped form, "
            "which kbuild does not serve; use apiVersion 'build.openshift.io/v1'"
        ],
    ),
    (
        "legacy apiVersion on an image stream",
        "apiVersion: v1\nkind: ImageStream\nmetadata: {name: s}\n",
        [
            "ImageStream 's': apiVersion 'v1' is OpenShift 3's legacy ungrouped form, "
            "which kbuild does not serve; use apiVersion 'image.openshift.io/v1'"
        ],
    ),
    (
        "other version of a known kind",
        BC.replace("build.openshift.io/v1", "build.openshift.io/v1beta1"),
        [
            "BuildConfig 'app': apiVersion 'build.openshift.io/v1beta1' is not served; "
            "use 'build.openshift.io/v1'"
        ],
    ),
    (
        "missing kind",
        "apiVersion: build.openshift.io/v1\nmetadata: {name: x}\n",
        ["object 'x': kind is missing"],
    ),
    (
        "missing apiVersion",
        "kind: BuildConfig\n",
        ["BuildConfig (document 1): apiVersion is missing"],
    ),
    (
        "not YAML",
        "kind: BuildConfig\nspec: [unclosed\n",
        ["not valid YAML: expected ',' or ']', but got '<stream end>' at line 3, column 1"],
    ),
    (
        "YAML with a tab indent",
        "kind: BuildConfig\nspec:\n\tsource: {}\n",
        ["not valid YAML: found character '\\t' that cannot start any token at line 3, column 1"],
    ),
    (
        "not JSON",
        '{"kind": "BuildConfig",}',
        ["not valid JSON: Expecting property name enclosed in double quotes at line 1, column 24"],
    ),
    (
        "duplicate key",
        BC + "  serviceAccount: a\n  serviceAccount: b\n",
        ["not valid YAML: duplicate key 'serviceAccount' at line 15, column 3"],
    ),
    (
        "a scalar document",
        "just some words\n",
        ["document 1: expected an object with apiVersion and kind, got string"],
    ),
    (
        "a Template must be processed first",
        "apiVersion: template.openshift.io/v1\nkind: Template\nmetadata: {name: t}\n",
        [
            "Template 't': kind 'Template' (template.openshift.io/v1) is not handled by kbuild, "
            "which reads BuildConfig (build.openshift.io/v1), Build (build.openshift.io/v1), "
            "BuildRequest (build.openshift.io/v1), ImageStream (image.openshift.io/v1); "
            "process the template first (oc process)"
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_clear_line_per_problem(text: str, expected: list[str]) -> None:
    problems = _errors(text)
    assert problems == expected
    for line in problems:
        assert "\n" not in line
        assert "pydantic" not in line
        assert "errors.pydantic.dev" not in line


def test_problems_of_every_document_are_collected() -> None:
    text = "\n---\n".join(
        [
            BC + "  runPolicy: Sometimes\n",
            BC.replace("name: app", "name: good"),
            "apiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: image.openshift.io/v1, kind: ImageStream, metadata: {name: s}, "
            "spec: {tags: [{}]}}\n"
            "- {apiVersion: v1, kind: ConfigMap}\n",
        ]
    )
    problems = _errors(text)
    assert problems == [
        "BuildConfig 'app': spec.runPolicy: must be one of 'Parallel', 'Serial' or "
        "'SerialLatestOnly', got string \"Sometimes\"",
        "ImageStream 's': spec.tags[0].name: required field is missing",
        "ConfigMap (document 3 item 2): kind 'ConfigMap' (v1) is not handled by kbuild, "
        "which reads BuildConfig (build.openshift.io/v1), Build (build.openshift.io/v1), "
        "BuildRequest (build.openshift.io/v1), ImageStream (image.openshift.io/v1)",
    ]


def test_a_valid_manifest_loads() -> None:
    (bc,) = load_manifests(BC)
    assert bc.metadata.name == "app"
