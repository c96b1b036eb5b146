"""The app's Gradio components by name, and events whose handlers fill components by name.

Handlers return ``{name: value}`` (a name left out: that component stays as it is); Gradio
takes ``{component: value}``. ``Components.event`` gives an event listener the handler with
each name turned into its component, so neither the handlers nor their tests depend on the
order of an event's outputs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class Components:
    def __init__(self) -> None:
        self._by_name: dict[str, Any] = {}

    def add(self, name: str, component: T) -> T:
        """Register ``component`` as ``name``; returns it."""
        if name in self._by_name:
            raise ValueError(f"two components are named {name!r}")
        self._by_name[name] = component
        return component

    def __getitem__(self, name: str) -> Any:
        return self._by_name[name]

    def __call__(self, *names: str) -> list[Any]:
        """The components with these names, in this order."""
        return [self._by_name[n] for n in names]

    def event(
        self,
        fn: Callable[..., Any],
        inputs: Sequence[str | Any] = (),
        outputs: Sequence[str] = (),
        **options: Any,
    ) -> dict[str, Any]:
        """Keyword arguments for an event listener (``button.click(**ui.event(...))``).

        ``fn`` returns (or, a generator, yields) ``{name: value}`` for names among
        ``outputs``; ``inputs`` are names or components. ``options`` go to the listener as
        they are (``show_progress_on``, ``queue``...)."""
        targets = {name: self._by_name[name] for name in outputs}
        return {
            "fn": by_component(fn, targets),
            "inputs": [self._by_name[i] if isinstance(i, str) else i for i in inputs],
            "outputs": list(targets.values()),
            **options,
        }


def by_component(fn: Callable[..., Any], targets: dict[str, Any]) -> Callable[..., Any]:
    """``fn`` with its ``{name: value}`` results turned into ``{component: value}``. Every
    target is in the result: those ``fn`` left out are skipped (left as they are), as
    Gradio reads an empty dict as a value. The signature seen by Gradio (inputs, a
    ``gr.Progress`` default) is ``fn``'s."""
    import gradio as gr

    def convert(named: dict[str, Any]) -> dict[Any, Any]:
        unknown = set(named) - targets.keys()
        if unknown:
            raise ValueError(
                f"{getattr(fn, '__name__', fn)} returned {sorted(unknown)}, which are not "
                f"outputs of this event ({sorted(targets)})"
            )
        return {c: named[n] if n in named else gr.skip() for n, c in targets.items()}

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args: Any, **kwargs: Any) -> Iterator[dict[Any, Any]]:
            steps = fn(*args, **kwargs)
            try:
                for named in steps:
                    yield convert(named)
            finally:
                steps.close()  # a page that goes away closes the handler too, at once

        return stream

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> dict[Any, Any]:
        return convert(fn(*args, **kwargs))

    return call
