"""The Shipment aggregate: one stream per shipment (an order can have several)."""
