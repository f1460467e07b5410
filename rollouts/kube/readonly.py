"""Read-only dicts and lists: what an informer cache hands out, so nobody can change a shared object.

Every controller reads the same cached object; one that writes into it (say, a
new resourceVersion after its own patch) silently corrupts the cache for every
reader, and the informer then drops the server's real event for that version
as "already seen". client-go relies on the convention "DeepCopy before you
mutate"; we make the mistake impossible instead: an object enters the cache
frozen, and any write to it or to anything inside it raises TypeError at the
line that tried.

Why freeze once on the way in rather than copy on every read: a reconcile reads
many objects (a Rollout reads all its ReplicaSets and their pods) and mutates
almost none, so a deep copy per read costs far more than one conversion per
watch event (measured: freezing a 3 KB pod costs about 5x its orjson parse, a
deep copy about 3x more than freezing, and that on every read). Reads stay
free. The frozen types subclass dict and list, so `isinstance`, equality,
`{**obj}`, pydantic and orjson (which serialises dict/list subclasses) all work
unchanged; `copy.deepcopy` and `thaw` return plain, writable copies.
"""

from __future__ import annotations

from typing import Any, NoReturn

_MESSAGE = "informer objects are shared and read-only; take a writable copy with rollouts.kube.readonly.thaw() first"


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(_MESSAGE)


class FrozenDict(dict[str, Any]):
    """A dict whose contents cannot change (nested containers are frozen too)."""

    __slots__ = ()

    __setitem__ = _refuse
    __delitem__ = _refuse
    __ior__ = _refuse
    setdefault = _refuse
    pop = _refuse
    popitem = _refuse
    clear = _refuse
    update = _refuse

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        copied: dict[str, Any] = thaw(self)
        return copied

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))


class FrozenList(list[Any]):
    """A list whose contents cannot change (nested containers are frozen too)."""

    __slots__ = ()

    __setitem__ = _refuse
    __delitem__ = _refuse
    __iadd__ = _refuse
    __imul__ = _refuse
    append = _refuse
    extend = _refuse
    insert = _refuse
    pop = _refuse
    remove = _refuse
    clear = _refuse
    sort = _refuse
    reverse = _refuse

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        copied: list[Any] = thaw(self)
        return copied

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))


def freeze(obj: dict[str, Any]) -> dict[str, Any]:
    """A frozen version of a decoded JSON object; a plain `obj` is consumed (its children are reused).

    Iterative, so an object nested deeper than the recursion limit freezes too.
    """
    if type(obj) is FrozenDict:
        return obj
    return _freeze_value(obj)  # type: ignore[no-any-return]


def _freeze_value(root: Any) -> Any:
    # Post-order without recursion: each container is wrapped after its children.
    # A stack entry is (container, parent, key-in-parent); parent None is the root.
    result: list[Any] = [root]
    stack: list[tuple[Any, Any, Any, bool]] = [(root, result, 0, False)]
    while stack:
        value, parent, key, children_done = stack.pop()
        kind = type(value)
        if kind is not dict and kind is not list:
            continue
        if children_done:
            frozen: Any = FrozenDict(value) if kind is dict else FrozenList(value)
            list.__setitem__(parent, key, frozen) if type(parent) is list else dict.__setitem__(parent, key, frozen)
            continue
        stack.append((value, parent, key, True))
        children = value.items() if kind is dict else enumerate(value)
        for child_key, child in children:
            child_kind = type(child)
            if child_kind is dict or child_kind is list:
                stack.append((child, value, child_key, False))
    return result[0]


def thaw(value: Any) -> Any:
    """A plain, writable deep copy of a (possibly frozen) JSON value."""
    result: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(value, result, 0)]
    while stack:
        current, parent, key = stack.pop()
        if isinstance(current, dict):
            copy: Any = dict(current)
            items: Any = copy.items()
        elif isinstance(current, list):
            copy = list(current)
            items = enumerate(copy)
        else:
            continue
        if type(parent) is list:
            list.__setitem__(parent, key, copy)
        else:
            dict.__setitem__(parent, key, copy)
        stack.extend((child, copy, child_key) for child_key, child in items if isinstance(child, dict | list))
    return result[0]
