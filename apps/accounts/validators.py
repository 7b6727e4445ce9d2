from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Nobody alive was born before this; it also catches typos such as 0199 for 1990.
EARLIEST_DATE_OF_BIRTH = datetime.date(1900, 1, 1)


@deconstructible
class DateOfBirthValidator:
    """Rejects dates in the future and before ``EARLIEST_DATE_OF_BIRTH``."""

    def __call__(self, value: datetime.date) -> None:
        if value > timezone.localdate():
            raise ValidationError(_("Date of birth cannot be in the future."), code="future")
        if value < EARLIEST_DATE_OF_BIRTH:
            raise ValidationError(
                _("Date of birth cannot be before %(earliest)s."),
                code="too_early",
                params={"earliest": EARLIEST_DATE_OF_BIRTH.isoformat()},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateOfBirthValidator)

    def __hash__(self) -> int:
        return hash(type(self))
