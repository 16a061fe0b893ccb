"""The aggregate kinds the executor can load."""

from __future__ import annotations

from application.streams import Kind
from domain.location import model as location
from domain.order import state as order
from domain.product import model as product
from domain.returns import state as returns
from domain.shipment import state as shipment
from domain.stock import decide as stock_rules
from domain.stock import state as stock
from domain.store import model as store

STOCK = Kind(
    "stock",
    stock.Stock(),
    stock.evolve,
    stock.Stock,
    snapshots=True,
    follow_up=stock_rules.flag_low_stock,
)
ORDER = Kind("order", order.Order(), order.evolve, order.Order)
PRODUCT = Kind("product", product.Product(), product.evolve, product.Product)
LOCATION = Kind("location", location.Location(), location.evolve, location.Location)
STORE = Kind("store", store.Store(), store.evolve, store.Store)
SHIPMENT = Kind("shipment", shipment.Shipment(), shipment.evolve, shipment.Shipment)
RETURN = Kind("return", returns.Return(), returns.evolve, returns.Return)

# money (issue 4)
from domain.invoice import state as invoice  # noqa: E402
from domain.payment import state as payment  # noqa: E402

INVOICE = Kind("invoice", invoice.Invoice(), invoice.evolve, invoice.Invoice)
INVOICE_SERIES = Kind(
    "invoice_series", invoice.Series(), invoice.evolve_series, invoice.Series, snapshots=True
)
BILLING_ACCOUNT = Kind(
    "billing_account", invoice.Account(), invoice.evolve_account, invoice.Account
)
PAYMENT = Kind("payment", payment.Receipt(), payment.evolve, payment.Receipt)

# fulfilment: a tenant's own boxes and rate cards
from domain.shipment import settings as shipping_settings  # noqa: E402

SHIPPING_SETTINGS = Kind(
    "shipping_settings",
    shipping_settings.ShippingSettings(),
    shipping_settings.evolve,
    shipping_settings.ShippingSettings,
)
