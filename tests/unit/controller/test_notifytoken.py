"""Registry notifications always need a token; the deployed controller makes one."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from builder.controller.notifytoken import notifications_token
from builder.kube import AlreadyExists, KubeError, NotFound


class Secrets:
    def __init__(self, *, forbidden: bool = False, race: str = "") -> None:
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}
        self.forbidden = forbidden
        self.race = race  # another replica creates this token just before us
        self.created = 0

    def get_secret(self, namespace: str, name: str) -> dict[str, Any]:
        if self.forbidden:
            raise KubeError(403, "forbidden")
        try:
            return self.stored[(namespace, name)]
        except KeyError:
            raise NotFound(404, "no secret") from None

    def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        if self.race:
            self.stored[(namespace, name)] = {
                "data": {"token": base64.b64encode(self.race.encode()).decode()}
            }
            raise AlreadyExists(409, "exists")
        self.created += 1
        self.stored[(namespace, name)] = body
        return body


def test_an_explicit_token_wins() -> None:
    assert notifications_token(Secrets(), "given", "sys", "kbuild-notifications") == "given"  # type: ignore[arg-type]


def test_the_first_replica_creates_the_secret_and_the_next_reads_it() -> None:
    kube = Secrets()
    first = notifications_token(kube, "", "sys", "kbuild-notifications")  # type: ignore[arg-type]
    second = notifications_token(kube, "", "sys", "kbuild-notifications")  # type: ignore[arg-type]
    assert first == second
    assert len(first) >= 32
    assert kube.created == 1


def test_a_replica_losing_the_creation_race_uses_the_winners_token() -> None:
    kube = Secrets(race="w" * 40)
    assert notifications_token(kube, "", "sys", "kbuild-notifications") == "w" * 40  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kube", "secret_name"),
    [(Secrets(forbidden=True), "kbuild-notifications"), (Secrets(), "")],
    ids=["secret unreadable", "nothing configured"],
)
def test_without_a_usable_token_notifications_are_refused_not_open(
    kube: Secrets, secret_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = notifications_token(kube, "", "sys", secret_name)  # type: ignore[arg-type]
    assert len(token) >= 32  # random: nobody can present it
    assert "notifications disabled" in caplog.text


def test_a_short_token_in_the_secret_is_not_used() -> None:
    kube = Secrets()
    kube.stored[("sys", "n")] = {"data": {"token": base64.b64encode(b"short").decode()}}
    assert notifications_token(kube, "", "sys", "n") != "short"  # type: ignore[arg-type]
