"""brevo-loyalty-mock: an offline, contract-driven fake of Brevo's Loyalty read API."""

__version__ = "0.1.0"
