"""brevo-loyalty-mock: an offline, contract-driven fake of Brevo's Loyalty API."""

__version__ = "0.1.0"
