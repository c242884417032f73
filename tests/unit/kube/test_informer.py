"""Informers: list then watch into an indexed store; 410 relists; deletes prune; resync is free."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from builder.kube import Gone, KubeError, WatchEvent
from builder.kube.informer import Informer, Store, newer

Obj = dict[str, Any]


def obj(name: str, version: int, *, tag: str = "", ns: str = "dev", **extra: Any) -> Obj:
    meta: dict[str, Any] = {"namespace": ns, "name": name, "resourceVersion": str(version)}
    meta["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
    if tag:
        meta["annotations"] = {"tag": tag}
    return {"metadata": meta, **extra}


def by_tag(o: Obj) -> list[str]:
    tag = ((o.get("metadata") or {}).get("annotations") or {}).get("tag")
    return [tag] if tag else []


class Script:
    """An API server in a script: what each list returns and each watch streams."""

    def __init__(self, lists: list[list[Obj]], watches: list[list[Any]]) -> None:
        self.lists = lists
        self.watches = watches
        self.listed = 0
        self.watched: list[str] = []
        self.stop = threading.Event()

    def list(self) -> tuple[list[Obj], str]:
        items = self.lists[min(self.listed, len(self.lists) - 1)]
        self.listed += 1
        return [dict(i) for i in items], str(10 * self.listed)

    def watch(self, version: str) -> Iterator[WatchEvent[Obj]]:
        self.watched.append(version)
        if not self.watches:
            self.stop.set()
            return
        for event in self.watches.pop(0):
            if isinstance(event, Exception):
                raise event
            yield event


def run(script: Script, **kwargs: Any) -> tuple[Informer[Obj], list[tuple[str, str]]]:
    informer: Informer[Obj] = Informer("things", script.list, script.watch, **kwargs)
    seen: list[tuple[str, str]] = []

    def handler(kind: str, old: Obj | None, new: Obj | None) -> None:
        o = new if new is not None else old
        assert o is not None
        seen.append((kind, o["metadata"]["name"]))

    informer.add_handler(handler)
    thread = threading.Thread(target=informer.run, args=(script.stop,), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    return informer, seen


def test_list_then_watch_fills_the_store_and_indexes() -> None:
    script = Script(
        [[obj("a", 1, tag="v1"), obj("b", 2, tag="v2")]],
        [[
            WatchEvent("MODIFIED", obj("a", 3, tag="v2"), "3"),
            WatchEvent("BOOKMARK", None, "7"),
            WatchEvent("DELETED", obj("b", 4, tag="v2"), "4"),
            WatchEvent("ADDED", obj("c", 5), "5"),
        ]],
    )  # fmt: skip
    informer, seen = run(script, indexers={"tag": by_tag})
    assert informer.synced.is_set()
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b"),
                    ("ADDED", "c")]  # fmt: skip
    assert sorted(informer.store.keys()) == [("dev", "a"), ("dev", "c")]
    # Indexes follow changes and deletes.
    assert informer.store.index_keys("tag", "v2") == [("dev", "a")]
    assert informer.store.index_keys("tag", "v1") == []
    # The watch resumed from the list's version, then from the last one seen.
    assert script.watched[:2] == ["10", "5"]
    # Raw objects are kept without managedFields.
    stored = informer.store.get("dev", "a")
    assert stored is not None and "managedFields" not in stored["metadata"]


def test_gone_relists_and_the_relist_prunes_what_was_deleted_meanwhile() -> None:
    script = Script(
        [[obj("a", 1), obj("b", 2)], [obj("a", 1), obj("c", 8)]],
        [[Gone(410, "too old")], []],
    )
    informer, seen = run(script)
    assert script.listed == 2
    assert informer.relists == 1
    assert sorted(informer.store.keys()) == [("dev", "a"), ("dev", "c")]
    # "a" was unchanged: the relist does not deliver it again.
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c"), ("DELETED", "b")]


def test_keep_drops_objects_and_a_change_that_loses_interest_deletes() -> None:
    script = Script(
        [[obj("a", 1, tag="x"), obj("b", 2)]],
        [[WatchEvent("MODIFIED", obj("a", 3), "3")]],
    )
    informer, seen = run(script, keep=lambda o: bool(by_tag(o)))
    assert seen == [("ADDED", "a"), ("DELETED", "a")]
    assert len(informer.store) == 0


def test_a_failing_handler_or_index_does_not_stop_the_informer() -> None:
    def bad_index(o: Obj) -> list[str]:
        if o["metadata"]["name"] == "bad":
            raise RecursionError("tenant data")
        return by_tag(o)

    script = Script([[obj("bad", 1, tag="v"), obj("good", 2, tag="v")]], [[]])
    informer: Informer[Obj] = Informer(
        "things", script.list, script.watch, indexers={"tag": bad_index}
    )

    def broken(kind: str, old: Obj | None, new: Obj | None) -> None:
        raise ValueError(f"bug on {kind} {old} {new}")

    informer.add_handler(broken)
    thread = threading.Thread(target=informer.run, args=(script.stop,), daemon=True)
    thread.start()
    thread.join(10)
    assert len(informer.store) == 2
    assert informer.store.index_keys("tag", "v") == [("dev", "good")]


def test_errors_back_off_and_retry() -> None:
    script = Script([[obj("a", 1)]], [[KubeError(500, "boom")], []])
    informer, _ = run(script)
    assert script.listed == 2  # listed again after the failure
    assert informer.synced.is_set()


def test_resync_replays_the_store_without_listing() -> None:
    informer: Informer[Obj] = Informer("things", lambda: ([], ""), lambda _rv: iter(()))
    informer.replace([obj("a", 1), obj("b", 2)])
    seen: list[tuple[str, str]] = []
    informer.add_handler(
        lambda kind, _old, new: seen.append((kind, (new or {})["metadata"]["name"]))
    )
    informer.resync()
    assert sorted(seen) == [("SYNC", "a"), ("SYNC", "b")]


@pytest.mark.parametrize(
    ("version", "than", "expected"),
    [("10", "9", True), ("9", "10", False), ("5", "5", False), ("abc", "1", False)],
)
def test_newer(version: str, than: str, expected: bool) -> None:
    assert newer(version, than) is expected


def test_store_objects_by_namespace() -> None:
    store: Store[Obj] = Store()
    store.put(obj("a", 1, ns="x"))
    store.put(obj("b", 1, ns="y"))
    assert [o["metadata"]["name"] for o in store.objects("y")] == ["b"]
    assert store.delete("x", "a") is not None
    assert store.delete("x", "a") is None
