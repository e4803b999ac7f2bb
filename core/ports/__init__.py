"""What the core asks of the outside world, as Protocols; adapters live with the processes that use them."""
