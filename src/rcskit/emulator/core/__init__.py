"""The emulated platform itself, shared by every flavour: state (with its change hook), clock,
phones, delivery, outgoing webhooks, records, request log, scheduler, admin API, user actions."""
