"""Helpers the money routes share: rendering invoices, CSV responses, dates and cursors."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Response
from litestar.params import Parameter

from interfaces.http.money_schemas import InvoiceOut
from interfaces.http.problems import ApiProblem

Limit = Annotated[int, Parameter(ge=1, le=200)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def invoice_response(loaded: Any) -> tuple[int, InvoiceOut, int]:
    return 200, InvoiceOut.of(loaded.state, loaded.version, utc_now()), loaded.version


def csv_response(rows: Iterable[Iterable[Any]], header: list[str], name: str) -> Response[bytes]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue().encode(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def parse_date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise ApiProblem(400, "invalid_date", f"{name} must be an RFC 3339 date or time") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
