"""Queued fault injection and the call log: what the server should do wrong, and what it was asked.

Kept apart from deployment state because it is about requests, not deployments; it has its own lock
since the server consults it on every request before touching any deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from threading import Lock

from .model import Call, Fault, FaultKind


@dataclass
class _FaultRule[OperationT: str]:
    fault: Fault
    operation: OperationT | None
    deployment_id: str | None
    remaining: int


@dataclass
class FaultJournal[OperationT: str]:
    """Fault queue plus call log; each fake (V1 bulk, V2 fleet) inherits it so tests drive one object.

    ``OperationT`` is the fake's own set of operation names, so a misspelt one fails type checking.
    """

    _journal_lock: Lock = field(default_factory=Lock, init=False, repr=False)
    _faults: list[_FaultRule[OperationT]] = field(default_factory=list, init=False, repr=False)
    _calls: list[Call[OperationT]] = field(default_factory=list, init=False, repr=False)

    def inject(
        self,
        fault: Fault,
        *,
        operation: OperationT | None = None,
        deployment_id: str | None = None,
        times: int = 1,
    ) -> None:
        """Queue ``fault`` for the next ``times`` matching requests (None matches any op / id)."""
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._journal_lock:
            self._faults.append(_FaultRule(fault, operation, deployment_id, times))

    def clear_faults(self) -> None:
        with self._journal_lock:
            self._faults.clear()

    def take_fault(self, operation: OperationT, deployment_id: str | None) -> Fault | None:
        """Consume one use of the oldest queued fault matching this request (server-side hook)."""
        with self._journal_lock:
            for rule in self._faults:
                if rule.operation not in (None, operation):
                    continue
                if rule.deployment_id not in (None, deployment_id):
                    continue
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._faults.remove(rule)
                return rule.fault
            return None

    def record(
        self,
        operation: OperationT,
        deployment_id: str | None,
        fault: FaultKind | None = None,
        client_token: str | None = None,
    ) -> None:
        with self._journal_lock:
            self._calls.append(Call(operation, deployment_id, fault, client_token))

    @property
    def calls(self) -> list[Call[OperationT]]:
        """Every request received so far, oldest first (a copy)."""
        with self._journal_lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._journal_lock:
            self._calls.clear()
