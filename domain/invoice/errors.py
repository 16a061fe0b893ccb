from __future__ import annotations

from domain.shared.errors import DomainError, InvalidCommand, NotFound


class InvoiceNotFound(NotFound):
    code = "invoice_not_found"


class NothingToInvoice(DomainError):
    code = "nothing_to_invoice"


class NotInvoiceable(InvalidCommand):
    code = "quantity_not_invoiceable"


class InvoiceVoid(DomainError):
    code = "invoice_void"


class InvoiceHasPayments(DomainError):
    code = "invoice_paid"


class CurrencyMismatch(InvalidCommand):
    code = "currency_mismatch"


class RefundExceedsPayments(DomainError):
    code = "refund_exceeds_payments"


class CreditExceedsInvoice(DomainError):
    code = "credit_exceeds_invoice"


class InvoiceNotVoid(DomainError):
    code = "invoice_not_void"


class PaymentNotFound(NotFound):
    code = "payment_not_found"
