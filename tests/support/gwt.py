"""Given past events / when a command / then the new events (or a refusal)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from domain.shared.errors import DomainError


class given:  # noqa: N801 - reads as a sentence: given(events, fold).when(...).then(...)
    def __init__(self, events: Sequence[Any], fold: Callable[[list[Any]], Any]) -> None:
        self.state = fold(list(events))

    def when(self, command: Callable[[Any], Any]) -> _When:
        return _When(self.state, command)


class _When:
    def __init__(self, state: Any, command: Callable[[Any], Any]) -> None:
        self.state, self.command = state, command

    def decided(self) -> Any:
        """What the command decides, for tests that check only part of it."""
        return self.command(self.state)

    def then(self, expected: Any) -> Any:
        """Asserts the command decides exactly `expected`; returns it for further checks."""
        decided = self.decided()
        assert decided == expected
        return decided

    def then_refused(
        self, error: type[DomainError], match: str | None = None, code: str | None = None
    ) -> DomainError:
        """Asserts the command is refused with `error` (message matching `match`, and `code`)."""
        with pytest.raises(error, match=match) as refused:
            self.decided()
        if code is not None:
            assert refused.value.code == code
        return refused.value
