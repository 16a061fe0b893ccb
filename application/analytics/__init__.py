"""Analytics logic that needs no database: periods, comparisons, forecasts, anomalies."""
