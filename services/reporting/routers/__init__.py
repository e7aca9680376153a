"""The reporting API's routes, by area."""
