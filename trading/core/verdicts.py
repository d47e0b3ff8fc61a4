"""Why an order was refused: a machine code, a sentence, and the figures behind it.

Shared by every check that can refuse an order (the risk rules, the order's own
validity, a signal's intake checks), so a refusal reads the same wherever it
came from.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    limit: Decimal | None = None
    actual: Decimal | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "message": self.message,
            "limit": None if self.limit is None else str(self.limit),
            "actual": None if self.actual is None else str(self.actual),
        }
